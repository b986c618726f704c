/**
 * Which of Switchyard's own MoE kernels the current backend runs. A backend registers them
 * (wasm: backend/wasm-kernels.ts; webgpu: backend/webgpu-moe-kernels.ts); on webgpu the
 * `SWITCHYARD_WEBGPU_MOE` flag can switch them off (`builtin`) to compare with tfjs's own ops.
 */
import * as tf from '@tensorflow/tfjs';
import { webGpuMoePath } from '../backend/webgpu-flags.ts';

/** Whether the current backend has kernel `name` and is to use it. */
export function ownKernel(name: string): boolean {
  const backend = tf.getBackend();
  if (!tf.getKernel(name, backend)) return false;
  return backend !== 'webgpu' || webGpuMoePath() === 'ours';
}
