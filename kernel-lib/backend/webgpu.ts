/**
 * The GPU path: Dawn (npm `webgpu`) under `@tensorflow/tfjs-backend-webgpu`.
 *
 * Order matters: the tfjs backend registers itself at import time only if `navigator.gpu`
 * exists, so Dawn's globals and `navigator.gpu` are installed before the backend module is
 * imported (dynamically, here). `WEBGPU_CPU_FORWARD=false`, or tfjs silently runs small ops on
 * the CPU.
 */
import * as tf from '@tensorflow/tfjs';
import { registerWebGpuDevice, type DeviceFacts } from './webgpu-device.ts';

export interface AdapterFacts {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
}

/** Adapters that run on the CPU: Mesa's lavapipe (llvmpipe), SwiftShader, or any fallback adapter. */
export function isSoftwareAdapter(a: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean }): boolean {
  if (a.isFallbackAdapter) return true;
  if (a.architecture === 'software') return true;
  const text = `${a.vendor ?? ''} ${a.device ?? ''} ${a.description ?? ''}`.toLowerCase();
  return /llvmpipe|lavapipe|swiftshader|softpipe|software/.test(text);
}

let installed: Promise<AdapterFacts> | null = null;

/**
 * Installs Dawn as `navigator.gpu` and returns the high-performance adapter's facts, without
 * creating the tfjs backend. Throws with the reason when Dawn or an adapter is missing.
 */
export function probeWebGpu(): Promise<AdapterFacts> {
  installed ??= (async () => {
    let dawn: { create: (flags: string[]) => unknown; globals: object };
    try {
      dawn = (await import('webgpu')) as unknown as typeof dawn;
    } catch (err) {
      throw new Error(`npm package 'webgpu' (Dawn) failed to load: ${(err as Error).message}`);
    }
    const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
    Object.assign(globalThis, dawn.globals);
    if (!g.navigator?.gpu) {
      const gpu = dawn.create([]);
      // Node ≥ 21 has a read-only global navigator; define the property instead of assigning.
      if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    const gpu = (g.navigator as { gpu: { requestAdapter(o: object): Promise<AdapterLike | null> } }).gpu;
    // tfjs asks for the same adapter when it creates the backend (high-performance unless WEBGPU_USE_LOW_POWER_GPU).
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      throw new Error('Dawn found no WebGPU adapter: no Vulkan/Metal/D3D12 driver (on Linux without a GPU, install Mesa ≥ 25 lavapipe: scripts/install-lavapipe.sh)');
    }
    const info = adapter.info ?? {};
    const facts = {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
    };
    return { ...facts, software: isSoftwareAdapter({ ...facts, isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter }) };
  })();
  // A failed probe may succeed later (e.g. after installing a driver in-process): don't cache failures.
  installed.catch(() => {
    installed = null;
  });
  return installed;
}

interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

/**
 * Imports the tfjs WebGPU backend (after `probeWebGpu`), registers it on a device of our own
 * (webgpu-device.ts) and makes it current; returns what the device offers.
 */
export async function activateWebGpu(): Promise<DeviceFacts> {
  await import('@tensorflow/tfjs-backend-webgpu');
  const facts = await registerWebGpuDevice();
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed after the adapter was found');
  watchGpuErrors();
  return facts;
}

const gpuErrors: string[] = [];
const watched = new WeakSet<object>();

/**
 * WebGPU reports invalid pipelines and out-of-memory asynchronously, and tfjs does not listen:
 * the kernel's output is then silently garbage. Record every uncaptured device error so callers
 * (the trainer at each metric read, the tests) can stop with the reason.
 */
function watchGpuErrors(): void {
  const device = (tf.backend() as unknown as { device?: EventTarget }).device;
  if (!device || watched.has(device)) return;
  watched.add(device);
  device.addEventListener('uncapturederror', (e) => {
    const msg = (e as unknown as { error?: { message?: string } }).error?.message ?? String(e);
    gpuErrors.push(msg.split('\n')[0]);
  });
}

/** Returns and clears the WebGPU device errors seen so far. */
export function takeGpuErrors(): string[] {
  return gpuErrors.splice(0, gpuErrors.length);
}

/** Throws if the WebGPU device reported errors (results computed since are not trustworthy). */
export function assertNoGpuErrors(context: string): void {
  const errs = takeGpuErrors();
  if (errs.length) throw new Error(`${context}: the WebGPU device reported ${errs.length} error(s), so results are invalid: ${errs.slice(0, 3).join(' | ')}`);
}
