/**
 * Auxiliary router losses, as pure functions of the router's outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { oneHotFloat } from './onehot.ts';

/**
 * Load-balancing loss, Switch Transformer eq. (4): `E · Σ_e f_e · P_e`.
 * f_e: share of tokens whose top choice (argmax) is e, before any dropping; a count, so it
 * carries no gradient. P_e: mean router probability of e, through which the gradient flows.
 * Equals 1.0 under perfect balance. No coefficient applied (eq. 4's α is the caller's).
 * @param probs float32[T,E] router probabilities.
 * @param expertIndex int32[T] argmax of probs per token.
 * @returns float32[] scalar.
 */
export function balanceLoss(probs: tf.Tensor2D, expertIndex: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const [T, E] = probs.shape;
    const f = tf.div(tf.sum(oneHotFloat(expertIndex, E), 0), T); // [E], no gradient (integer source)
    const P = tf.mean(probs, 0); // [E]
    return tf.mul(tf.sum(tf.mul(f, P)), E) as tf.Scalar;
  });
}

/**
 * Router z-loss, ST-MoE (Zoph et al. 2022) eq. (5): `mean_t (logsumexp_e logits[t,e])²`.
 * Penalises large logits so the float32 softmax stays well-conditioned. No coefficient applied.
 * @param logits float32[T,E].
 * @returns float32[] scalar.
 */
export function zLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(logSumExpRows(logits))) as tf.Scalar);
}

/**
 * `logsumexp` over the last axis with the gradient written out: `∂/∂x = softmax(x)`.
 * tf.logSumExp's tape differentiates its max shift too, through Max's gradient (an Equal
 * against the broadcast max and a mask), which is exact only up to rounding and, on wasm, a
 * generic broadcast loop that cost more than the rest of the router. Same forward arithmetic.
 * @param x float32[T,E].
 * @returns float32[T].
 */
export function logSumExpRows(x: tf.Tensor2D): tf.Tensor1D {
  const f = tf.customGrad(((logits: tf.Tensor, save: tf.GradSaveFunc) => {
    const m = tf.max(logits, 1, true); // [T,1] shift for stability
    const e = tf.exp(tf.sub(logits, m)); // [T,E]
    const s = tf.sum(e, 1, true); // [T,1]
    save([tf.div(e, s)]); // softmax, the whole gradient
    return {
      value: tf.reshape(tf.add(tf.log(s), m), [logits.shape[0]]), // [T]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(tf.reshape(dy, [-1, 1]), saved[0]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor1D;
}

/**
 * Mean router entropy `mean_t −Σ_e p log p` in nats: ln E for a uniform router, 0 for a hard one.
 * A metric, not a loss.
 * @param probs float32[T,E].
 */
export function routerEntropy(probs: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(probs, tf.log(tf.maximum(probs, 1e-20))), 1))) as tf.Scalar);
}
