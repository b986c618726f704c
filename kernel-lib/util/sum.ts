import * as tf from '@tensorflow/tfjs';

/**
 * Σ of same-shape tensors as a tree of pairwise adds. Use it instead of `tf.addN` for more than a
 * few inputs: tfjs-backend-webgpu's AddN binds every input as its own storage buffer, and past the
 * WebGPU default of 8 per shader stage the pipeline is invalid (Dawn logs a validation error and
 * the result is garbage).
 */
export function sumTensors<T extends tf.Tensor>(xs: T[]): T {
  if (xs.length === 0) throw new Error('sumTensors: nothing to sum');
  let level: tf.Tensor[] = xs;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? tf.add(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0] as T;
}
