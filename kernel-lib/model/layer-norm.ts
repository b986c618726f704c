/** Layer normalisation (Ba et al. 2016) over the last axis, with a learned gain and bias. */
import * as tf from '@tensorflow/tfjs';

export interface LayerNormParams {
  /** float32[D], initialised to 1. */
  gain: tf.Tensor1D;
  /** float32[D], initialised to 0. */
  bias: tf.Tensor1D;
}

/** Variance floor. */
export const LAYER_NORM_EPS = 1e-5;

/**
 * `(x − mean) / sqrt(var + ε) · gain + bias`, statistics over the last axis.
 * @param x float32[..., D].
 * @returns float32[..., D].
 */
export function layerNorm(x: tf.Tensor, params: LayerNormParams): tf.Tensor {
  const centred = tf.sub(x, tf.mean(x, -1, true)); // [...,D]
  const variance = tf.mean(tf.square(centred), -1, true); // [...,1]
  const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, LAYER_NORM_EPS))); // [...,D]
  return tf.add(tf.mul(normed, params.gain), params.bias);
}
