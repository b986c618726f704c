/**
 * Which of Switchyard's own MoE kernels (kernels/contracts.ts) the current backend runs. A backend
 * registers them (wasm: backend/wasm-kernels.ts; webgpu: backend/webgpu-moe-kernels.ts); on webgpu the
 * `SWITCHYARD_WEBGPU_MOE` flag can switch them off (`builtin`) to compare with tfjs's own ops.
 * Their gradients are registered here, once, by the ops that use them.
 */
import * as tf from '@tensorflow/tfjs';
import { webGpuMoePath } from '../kernels/webgpu-flags.ts';

/** Whether the current backend has kernel `name` and is to use it. */
export function ownKernel(name: string): boolean {
  const backend = tf.getBackend();
  if (!tf.getKernel(name, backend)) return false;
  return backend !== 'webgpu' || webGpuMoePath() === 'ours';
}

const registeredGradients = new Set<string>();

/** Registers a kernel's gradient the first time one of its ops runs; later calls do nothing. */
export function registerGradientOnce(config: tf.GradConfig): void {
  if (registeredGradients.has(config.kernelName)) return;
  registeredGradients.add(config.kernelName);
  tf.registerGradient(config);
}
