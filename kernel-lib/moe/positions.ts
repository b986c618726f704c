/**
 * Slot positions in priority order by a backend kernel, where one is registered (webgpu:
 * backend/webgpu-routing.ts): the same integers as dispatch.ts's one-hot cumsum, without the
 * [k·T,E] intermediates.
 */
import * as tf from '@tensorflow/tfjs';
import { EXPERT_POSITIONS, type PositionsAttrs } from '../kernels/contracts.ts';
import { ownKernel } from './own-kernels.ts';

/** Whether the current backend computes slots with the kernel. */
export const hasPositionsKernel = (): boolean => ownKernel(EXPERT_POSITIONS);

/**
 * @param flat int32[k·T] each assignment's expert, in priority order.
 * @returns int32[k·T]: e·C + position when kept, E·C when dropped.
 */
export function positionsKernel(flat: tf.Tensor1D, numExperts: number, capacity: number): tf.Tensor1D {
  return tf.engine().runKernel(EXPERT_POSITIONS, { choices: flat }, { numExperts, capacity } satisfies PositionsAttrs as unknown as tf.NamedAttrMap) as tf.Tensor1D;
}
