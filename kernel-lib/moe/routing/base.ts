/**
 * The shared router base (flaxformer's `Router`): float32 cast, multiplicative jitter on the
 * router input only, logits, softmax, the scores token choice ranks (with a router bias: probs +
 * bias, DeepSeek-V3) and the auxiliary losses. Concrete routers add the choice.
 */
import * as tf from '@tensorflow/tfjs';
import { roundToBfloat16 } from '../bfloat16.ts';
import { balanceLoss, routerEntropy, zLoss } from '../losses.ts';
import type { RouteOptions, RouterProbs } from './types.ts';

/**
 * Router probabilities for one group.
 * The jitter multiplies a copy of x used only for routing: the experts receive the clean x
 * (Switch §2.4; HF's port once jittered the expert input too).
 * @param x float32[T,D] layer input (not modified).
 * @param routerWeight float32[D,E].
 */
export function routerProbs(x: tf.Tensor2D, routerWeight: tf.Tensor2D, opts: RouteOptions): RouterProbs {
  // Router math in float32 even if the layer ever runs in lower precision (Switch §2.4 "selective precision").
  let xr: tf.Tensor2D = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
  if (opts.training && opts.jitterEps > 0) {
    xr = tf.mul(xr, tf.randomUniform(xr.shape, 1 - opts.jitterEps, 1 + opts.jitterEps, 'float32', opts.seed));
  }
  const w = routerWeight.dtype === 'float32' ? routerWeight : tf.cast(routerWeight, 'float32');
  const raw = tf.matMul(xr, w) as tf.Tensor2D; // [T,E]
  // bfloat16 router (emulated): the logits are rounded to bfloat16, the softmax is computed
  // from them in float32 (as bfloat16 hardware accumulates) and its output rounded to bfloat16,
  // so the gates and every routing decision see bfloat16 probabilities. Gradients pass straight through.
  const bf16 = opts.routerDtype === 'bfloat16';
  const logits = bf16 ? roundToBfloat16(raw) : raw; // [T,E]
  const probs = (bf16 ? roundToBfloat16(tf.softmax(logits, -1)) : tf.softmax(logits, -1)) as tf.Tensor2D; // [T,E]
  const scores = selectionScores(probs, opts.bias); // [T,E]
  const top1 = untaped(() => tf.argMax(scores, 1) as tf.Tensor1D); // [T] first choice
  return {
    logits,
    probs,
    scores,
    top1,
    balanceLoss: balanceLoss(probs, top1),
    zLoss: zLoss(logits),
    entropy: routerEntropy(probs),
    meanTopProb: untaped(() => tf.mean(tf.max(probs, -1)) as tf.Scalar),
  };
}

/**
 * What token choice ranks: `probs + bias` (ties then go to the lower expert index, as tfjs's
 * argMax and topk break them), or `probs` itself without a bias. Off the tape: the bias steers
 * the choice only, and neither it nor the choice carries a gradient.
 * @param probs float32[T,E].
 * @param bias float32[E], or undefined.
 * @returns float32[T,E].
 */
export function selectionScores(probs: tf.Tensor2D, bias: tf.Tensor1D | undefined): tf.Tensor2D {
  if (!bias) return probs;
  return untaped(() => tf.add(probs, bias) as tf.Tensor2D);
}

/**
 * Runs an integer-valued routing computation (argmax, top-k, capacity positions) with the
 * gradient tape off, so its result is a constant to backprop. Routing decisions are piecewise
 * constant (zero gradient), and tfjs would otherwise try to push int32 "gradients" into gather's
 * indices and find no gradient for TopK or ScatterNd. A customGrad node with no inputs records
 * nothing reachable from the parameters; the gradient reaches the router through the gates.
 */
export function untaped<T extends tf.Tensor>(fn: () => T): T {
  return tf.customGrad(() => ({ value: fn(), gradFunc: () => [] }))() as T;
}

/**
 * Gathers `probs[t, index[j,t]]` differentiably.
 * @param probs float32[T,E].
 * @param index int32[R,T] expert per (row, token).
 * @returns float32[R,T].
 */
export function gatherProbs(probs: tf.Tensor2D, index: tf.Tensor2D): tf.Tensor2D {
  const [T, E] = probs.shape;
  const flatIndex = tf.add(index, tf.range(0, T * E, E, 'int32')); // int32 throughout: a JS number would upcast to float32 // [R,T] row-major flat index t·E + e
  return tf.reshape(tf.gather(tf.reshape(probs, [T * E]), tf.reshape(flatIndex, [-1])), index.shape) as tf.Tensor2D; // [R,T]
}
