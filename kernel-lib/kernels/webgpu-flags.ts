/**
 * Switchyard's WebGPU options, as tfjs environment flags (set them with `tf.env().set`, or
 * through the environment variables of the same name before the backend starts). The backend
 * registers them (backend/webgpu-moe-kernels.ts); the MoE ops read them (moe/own-kernels.ts,
 * moe/packed-layout.ts):
 *
 * - `SWITCHYARD_WEBGPU_MOE`: `ours` (default) runs the MoE layer through Switchyard's WGSL
 *   kernels (backend/webgpu-moe-kernels.ts); `builtin` through tfjs-webgpu's own ops (the
 *   capacity buffer multiplied whole, dropless at C = T), kept for comparison.
 * - `SWITCHYARD_WEBGPU_MATMUL`: the grouped matmul variant, `register` or `tiled`
 *   (backend/webgpu-grouped-matmul.ts). Default: `register` on a software adapter (lavapipe,
 *   where it measured fastest), `tiled` on a GPU.
 */
import * as tf from '@tensorflow/tfjs';
import { MATMUL_VARIANTS, type MatMulVariant } from './contracts.ts';

export const WEBGPU_MOE_FLAG = 'SWITCHYARD_WEBGPU_MOE';
export const WEBGPU_MATMUL_FLAG = 'SWITCHYARD_WEBGPU_MATMUL';
export const WEBGPU_MOE_PATHS = ['ours', 'builtin'] as const;
export type WebGpuMoePath = (typeof WEBGPU_MOE_PATHS)[number];

function checked<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`${flag}: unknown value '${value}' (choose ${allowed.join(', ')})`);
}

/** Registers both flags, defaults from the environment variables, else from the adapter kind. */
export function registerWebGpuFlags(softwareAdapter: boolean, env: NodeJS.ProcessEnv = process.env): void {
  const path = checked(WEBGPU_MOE_FLAG, env[WEBGPU_MOE_FLAG]?.trim() || 'ours', WEBGPU_MOE_PATHS);
  const variant = checked(WEBGPU_MATMUL_FLAG, env[WEBGPU_MATMUL_FLAG]?.trim() || (softwareAdapter ? 'register' : 'tiled'), MATMUL_VARIANTS);
  tf.env().registerFlag(WEBGPU_MOE_FLAG, () => path, (v) => void checked(WEBGPU_MOE_FLAG, String(v), WEBGPU_MOE_PATHS));
  tf.env().registerFlag(WEBGPU_MATMUL_FLAG, () => variant, (v) => void checked(WEBGPU_MATMUL_FLAG, String(v), MATMUL_VARIANTS));
}

/** The MoE path on webgpu now. */
export function webGpuMoePath(): WebGpuMoePath {
  return checked(WEBGPU_MOE_FLAG, String(tf.env().get(WEBGPU_MOE_FLAG)), WEBGPU_MOE_PATHS);
}

/** The grouped matmul variant now. */
export function matMulVariant(): MatMulVariant {
  return checked(WEBGPU_MATMUL_FLAG, String(tf.env().get(WEBGPU_MATMUL_FLAG)), MATMUL_VARIANTS);
}
