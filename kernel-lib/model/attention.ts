/**
 * Causal multi-head self-attention (Vaswani et al. 2017) with separate q/k/v projections and an
 * output projection, no biases (as T5/Switch). Letters: B batch, S positions, D model width,
 * H heads, Dh = D/H head width.
 */
import * as tf from '@tensorflow/tfjs';

export interface AttentionParams {
  /** float32[D,D] query projection. */
  wq: tf.Tensor2D;
  /** float32[D,D] key projection. */
  wk: tf.Tensor2D;
  /** float32[D,D] value projection. */
  wv: tf.Tensor2D;
  /** float32[D,D] output projection. */
  wo: tf.Tensor2D;
}

/**
 * Additive bias on masked (future) scores. Large and finite rather than −Infinity: the softmax
 * still gives exactly 0 there (exp underflows), and no −Inf − (−Inf) = NaN can appear.
 */
export const MASK_BIAS = -1e9;

/**
 * The causal mask as an additive bias: 0 where key ≤ query, MASK_BIAS where key > query.
 * @returns float32[S,S] indexed [query, key].
 */
export function causalBias(S: number): tf.Tensor2D {
  return tf.tidy(() => {
    const pos = tf.range(0, S, 1, 'int32');
    const future = tf.greater(tf.reshape(pos, [1, S]), tf.reshape(pos, [S, 1])); // [S,S] key > query
    return tf.mul(tf.cast(future, 'float32'), MASK_BIAS) as tf.Tensor2D;
  });
}

export interface AttentionOptions {
  numHeads: number;
  /** Dropout rate on the attention probabilities; applied only when `training`. */
  dropout: number;
  training: boolean;
  seed?: number;
}

/**
 * @param x float32[B,S,D] (already layer-normed).
 * @returns float32[B,S,D] the output projection of the attended values (before the residual add).
 */
export function causalSelfAttention(x: tf.Tensor3D, params: AttentionParams, opts: AttentionOptions): tf.Tensor3D {
  const [B, S, D] = x.shape;
  const H = opts.numHeads;
  const Dh = D / H;
  const x2 = tf.reshape(x, [B * S, D]); // [B·S,D]
  const heads = (w: tf.Tensor2D) => tf.transpose(tf.reshape(tf.matMul(x2, w), [B, S, H, Dh]), [0, 2, 1, 3]); // [B,H,S,Dh]
  const q = tf.mul(heads(params.wq), 1 / Math.sqrt(Dh)); // [B,H,S,Dh], pre-scaled
  const k = heads(params.wk); // [B,H,S,Dh]
  const v = heads(params.wv); // [B,H,S,Dh]
  const scores = tf.add(tf.matMul(q, k, false, true), causalBias(S)); // [B,H,S,S] + [S,S]
  let probs = tf.softmax(scores, -1); // [B,H,S,S]
  if (opts.training && opts.dropout > 0) probs = tf.dropout(probs, opts.dropout, undefined, opts.seed);
  const ctx = tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]); // [B,S,H,Dh]
  return tf.reshape(tf.matMul(tf.reshape(ctx, [B * S, D]), params.wo), [B, S, D]) as tf.Tensor3D; // [B·S,D] → [B,S,D]
}
