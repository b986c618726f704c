/**
 * Parameter initialisation (Switch §2.4): truncated normal, mean 0, σ = sqrt(s / fan_in), cut at
 * 2σ, with a scale s = 0.1 ten times below the usual 1.0, which the paper found stabilises
 * sparse training.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * @param shape the weight's shape; fan_in is `shape[shape.length - 2]` (the input width of a matmul).
 * @param scale s.
 */
export function truncatedNormalInit(shape: number[], scale: number, seed?: number): tf.Tensor {
  if (shape.length < 2) throw new Error(`truncatedNormalInit: need a matrix shape, got [${shape.join(',')}]`);
  const fanIn = shape[shape.length - 2];
  return tf.truncatedNormal(shape, 0, Math.sqrt(scale / fanIn), 'float32', seed);
}
