/**
 * One pre-norm Transformer block (GPT-2 / T5 style):
 *   h ← h + drop(attn(LN₁(h)));  h ← h + drop(ffn(LN₂(h)))
 * where ffn is a dense FFN `act(x·w1)·w2` or an MoE layer. Letters: B batch, S positions,
 * D model width, F FFN width, E experts.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation, MoeConfig } from '../moe/config.ts';
import { denseFfn, type DenseParams } from '../moe/dense.ts';
import { moeForward, type MoeOutput, type MoeParams } from '../moe/layer.ts';
import { causalSelfAttention, type AttentionParams } from './attention.ts';
import { layerNorm, type LayerNormParams } from './layer-norm.ts';
import { maybeSeed } from './seeds.ts';

/** The block's FFN: dense `[D,F]`,`[F,D]` weights, or an MoE layer's config and weights. */
export type FfnParams = ({ kind: 'dense' } & DenseParams) | { kind: 'moe'; config: MoeConfig; params: MoeParams };

export interface BlockParams {
  ln1: LayerNormParams;
  attn: AttentionParams;
  ln2: LayerNormParams;
  ffn: FfnParams;
}

export interface BlockOptions {
  numHeads: number;
  /** Dense-FFN activation (an MoE layer uses its config's). */
  activation: Activation;
  /** Residual and attention dropout rate; applied only when `training`. */
  dropout: number;
  training: boolean;
  /** This block's noise seed; each noise site derives its own from it. */
  seed?: number;
  returnExpertIndex?: boolean;
}

/** Noise sites within a block (paths for `deriveSeed`). */
const SITE = { attnProbs: 0, attnOut: 1, ffnOut: 2, moe: 3 } as const;

/** Dropout when training with a positive rate, else the identity. */
export function maybeDropout(x: tf.Tensor, rate: number, training: boolean, seed?: number): tf.Tensor {
  return training && rate > 0 ? tf.dropout(x, rate, undefined, seed) : x;
}

/**
 * @param h float32[B,S,D] residual stream.
 * @returns the new residual stream float32[B,S,D], and the MoE layer's output when the FFN is sparse.
 */
export function transformerBlock(h: tf.Tensor3D, params: BlockParams, opts: BlockOptions): { h: tf.Tensor3D; moe?: MoeOutput } {
  const [B, S, D] = h.shape;
  const { training, dropout, seed } = opts;
  const attn = causalSelfAttention(layerNorm(h, params.ln1) as tf.Tensor3D, params.attn, {
    numHeads: opts.numHeads,
    dropout,
    training,
    seed: maybeSeed(seed, SITE.attnProbs),
  }); // [B,S,D]
  const h1 = tf.add(h, maybeDropout(attn, dropout, training, maybeSeed(seed, SITE.attnOut))); // [B,S,D]
  const x = tf.reshape(layerNorm(h1, params.ln2), [B * S, D]) as tf.Tensor2D; // [B·S,D]: the routing group, row-major (sequence by sequence)
  let y: tf.Tensor2D; // [B·S,D]
  let moe: MoeOutput | undefined;
  if (params.ffn.kind === 'dense') {
    y = denseFfn(params.ffn, x, opts.activation);
  } else {
    moe = moeForward(params.ffn.config, params.ffn.params, x, {
      training,
      seed: maybeSeed(seed, SITE.moe),
      returnExpertIndex: opts.returnExpertIndex,
    });
    y = moe.y as tf.Tensor2D;
  }
  const ffnOut = maybeDropout(tf.reshape(y, [B, S, D]), dropout, training, maybeSeed(seed, SITE.ffnOut)); // [B,S,D]
  return { h: tf.add(h1, ffnOut) as tf.Tensor3D, moe };
}
