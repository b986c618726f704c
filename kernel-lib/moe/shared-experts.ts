/**
 * Shared experts (DeepSeekMoE, Dai et al. 2024, arXiv 2401.06066, §3.2 "shared expert
 * isolation"): S dense FFNs that every token of the group passes through beside the routed
 * experts, summed and added to the routed output with weight 1. They are never dropped and enter
 * neither the expert counts, nor the dropped fraction, nor the router's losses.
 *
 * Run as one dense FFN of width S·Fs: `act(x·[W1_0 … W1_{S−1}])·[W2_0; …; W2_{S−1}]` equals
 * `Σ_s act(x·W1_s)·W2_s`, as the activation acts elementwise. Letters: T tokens, D model width,
 * S shared experts, Fs their hidden width.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation } from './config.ts';
import { denseFfn } from './dense.ts';
import { truncatedNormalInit } from './init.ts';

/** The shared experts' weights, stacked as the conformance format has them. */
export interface SharedParams {
  /** float32[S,D,Fs] input projections, no bias. */
  sharedW1: tf.Tensor3D;
  /** float32[S,Fs,D] output projections, no bias. */
  sharedW2: tf.Tensor3D;
}

/**
 * `Σ_s act(x · sharedW1[s]) · sharedW2[s]` for every token.
 * @param x float32[T,D] the layer input (the clean one: jitter is the router's only).
 * @returns float32[T,D].
 */
export function sharedExpertsFfn(x: tf.Tensor2D, params: SharedParams, activation: Activation): tf.Tensor2D {
  return tf.tidy(() => {
    const [S, D, Fs] = params.sharedW1.shape;
    // [S,D,Fs] → [D,S·Fs]: column s·Fs + f is shared expert s's unit f (a plain reshape for S = 1).
    const w1 = (S === 1 ? tf.reshape(params.sharedW1, [D, Fs]) : tf.reshape(tf.transpose(params.sharedW1, [1, 0, 2]), [D, S * Fs])) as tf.Tensor2D; // [D,S·Fs]
    const w2 = tf.reshape(params.sharedW2, [S * Fs, D]) as tf.Tensor2D; // [S·Fs,D]: row s·Fs + f, the same unit
    return denseFfn({ w1, w2 }, x, activation); // [T,D]
  });
}

/**
 * The Switch init (truncated normal, σ = sqrt(s/fan_in)) for S shared experts of width Fs.
 * @param seed each weight derives its own (seed, seed + 1).
 */
export function initSharedParams(S: number, dModel: number, Fs: number, initScale: number, seed?: number): SharedParams {
  return {
    sharedW1: truncatedNormalInit([S, dModel, Fs], initScale, seed) as tf.Tensor3D,
    sharedW2: truncatedNormalInit([S, Fs, dModel], initScale, seed === undefined ? undefined : seed + 1) as tf.Tensor3D,
  };
}
