import * as tf from '@tensorflow/tfjs';

/**
 * float32 one-hot. Built as int32 then cast: tfjs-backend-wasm 4.22's OneHot writes the int bit
 * pattern into float32 outputs (1 becomes 1.4e-45), so `tf.oneHot(i, n, 1, 0, 'float32')` is wrong
 * there. The cast costs one elementwise pass.
 * @param indices int32[N].
 * @returns float32[N,depth].
 */
export function oneHotFloat(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  // tf.oneHot refuses depth 1 (a one-expert layer): every valid index is then 0.
  if (depth === 1) return tf.tidy(() => tf.cast(tf.expandDims(tf.equal(indices, 0), 1), 'float32') as tf.Tensor2D);
  return tf.tidy(() => tf.cast(tf.oneHot(indices, depth), 'float32') as tf.Tensor2D);
}
