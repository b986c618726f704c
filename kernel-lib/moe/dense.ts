/** The dense FFN baseline: `act(x · w1) · w2`, no biases, same init as the experts. */
import * as tf from '@tensorflow/tfjs';
import type { Activation } from './config.ts';
import { activate } from './experts.ts';
import { truncatedNormalInit } from './init.ts';

export interface DenseParams {
  /** float32[D,F] */
  w1: tf.Tensor2D;
  /** float32[F,D] */
  w2: tf.Tensor2D;
}

/**
 * @param x float32[T,D].
 * @returns float32[T,D].
 */
export function denseFfn(params: DenseParams, x: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  if (x.rank !== 2 || x.shape[1] !== params.w1.shape[0]) {
    throw new Error(`dense FFN: input has shape [${x.shape.join(',')}], expected [T,${params.w1.shape[0]}]`);
  }
  return tf.matMul(activate(tf.matMul(x, params.w1), activation), params.w2) as tf.Tensor2D; // [T,D]
}

export function initDenseParams(dModel: number, dFf: number, initScale = 0.1, seed?: number): DenseParams {
  return {
    w1: truncatedNormalInit([dModel, dFf], initScale, seed) as tf.Tensor2D,
    w2: truncatedNormalInit([dFf, dModel], initScale, seed === undefined ? undefined : seed + 1) as tf.Tensor2D,
  };
}
