/**
 * The MoE kernel sets a benchmark times side by side on webgpu (kernels/webgpu-flags.ts):
 * `ours` (the adapter's default grouped matmul variant), `register`, `tiled` (our kernels with
 * that variant forced) and `builtin` (tfjs-webgpu's own ops). Other backends run their one set.
 */
import * as tf from '@tensorflow/tfjs';
import { matMulVariant, WEBGPU_MATMUL_FLAG, WEBGPU_MOE_FLAG } from '../kernels/webgpu-flags.ts';
import type { WebGpuBackendLike } from '../backend/webgpu-program.ts';
import { packedRowTile, skipsEmptySlots } from '../moe/index.ts';

export const KERNEL_SETS = ['ours', 'register', 'tiled', 'builtin'] as const;
export type KernelSet = (typeof KERNEL_SETS)[number];

/** Parses `--kernels a,b`, naming a bad value; sets other than `ours` need webgpu. */
export function parseKernelSets(raw: string, backend: string): KernelSet[] {
  const sets = raw.split(',').map((s) => s.trim());
  for (const s of sets) {
    if (!(KERNEL_SETS as readonly string[]).includes(s)) throw new Error(`--kernels: unknown kernel set '${s}' (choose ${KERNEL_SETS.join(', ')})`);
    if (s !== 'ours' && backend !== 'webgpu') throw new Error(`--kernels: '${s}' is a webgpu kernel set; backend ${backend} has only 'ours'`);
  }
  if (new Set(sets).size !== sets.length) throw new Error(`--kernels: '${raw}' names a set twice`);
  return sets as KernelSet[];
}

/** Runs fn with `set` selected (webgpu flags), restoring the flags after. */
export function withKernelSet<T>(set: KernelSet, fn: () => T): T {
  if (tf.getBackend() !== 'webgpu') return fn();
  const saved = [tf.env().get(WEBGPU_MOE_FLAG), tf.env().get(WEBGPU_MATMUL_FLAG)];
  try {
    tf.env().set(WEBGPU_MOE_FLAG, set === 'builtin' ? 'builtin' : 'ours');
    if (set === 'register' || set === 'tiled') tf.env().set(WEBGPU_MATMUL_FLAG, set);
    return fn();
  } finally {
    tf.env().set(WEBGPU_MOE_FLAG, saved[0]);
    tf.env().set(WEBGPU_MATMUL_FLAG, saved[1]);
  }
}

/** What a set runs on this backend, for result rows: e.g. `register`, `builtin`, `wasm`. */
export function kernelSetName(set: KernelSet): string {
  if (tf.getBackend() !== 'webgpu') return tf.getBackend();
  return withKernelSet(set, () => (packedRowTile() ? matMulVariant() : 'builtin'));
}

/**
 * Expert rows the current kernels multiply per matmul, from each expert's kept assignments:
 * the packed layout pads each segment to its row tile; a slot-skipping kernel multiplies the
 * kept rows; otherwise every slot of the E·C buffer.
 */
export function rowsMultiplied(kept: number[], capacity: number): number {
  const packed = packedRowTile();
  if (packed) return kept.reduce((s, n) => s + Math.ceil(n / packed.rowTile) * packed.rowTile, 0);
  if (skipsEmptySlots()) return kept.reduce((s, n) => s + n, 0);
  return kept.length * capacity;
}

/**
 * Throws, naming the largest, when a buffer exceeds what one WebGPU binding may hold
 * (`maxStorageBufferBindingSize`: 128 MiB on lavapipe, more on most GPUs). No-op elsewhere.
 */
export function checkBindingSizes(what: string, buffers: { name: string; elements: number }[]): void {
  if (tf.getBackend() !== 'webgpu') return;
  const limit = (tf.backend() as unknown as WebGpuBackendLike).device.limits.maxStorageBufferBindingSize;
  const largest = buffers.reduce((a, b) => (b.elements > a.elements ? b : a));
  const bytes = largest.elements * 4;
  if (bytes > limit) {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    throw new Error(`${what}: ${largest.name} needs a ${mib(bytes)} buffer, but this adapter binds at most ${mib(limit)} (maxStorageBufferBindingSize); use smaller dimensions`);
  }
}
