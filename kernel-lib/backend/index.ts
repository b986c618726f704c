/**
 * Backend selection. `useBackend('auto')` prefers a hardware GPU and says so when it falls back:
 * hardware WebGPU → tensorflow (tfjs-node-gpu / tfjs-node, if the user installed one) → wasm → cpu.
 *
 * The name also comes from `SWITCHYARD_BACKEND` or the CLI's `--backend`. A software WebGPU
 * adapter (lavapipe, SwiftShader) runs the real WebGPU code path at CPU speed: `auto` refuses it
 * (wasm is faster) unless `SWITCHYARD_ALLOW_SOFTWARE_GPU=1`; asking for `webgpu` accepts it.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { BACKEND_NAMES, type BackendName, type ConcreteBackend, type DeviceInfo, describeDevice } from './device.ts';
import { activateWebGpu, probeWebGpu } from './webgpu.ts';
import { registerWasmKernels } from './wasm-kernels.ts';
import { registerCpuKernels } from './cpu-kernels.ts';
import { registerWebGpuMoeKernels } from './webgpu-moe-kernels.ts';
import { matMulVariant, webGpuMoePath } from '../kernels/webgpu-flags.ts';
import { log } from '../util/log.ts';
import { loadTensorflowBinding, TENSORFLOW_INSTALL_HINT } from './tensorflow.ts';

export { BACKEND_NAMES, describeDevice, type BackendName, type ConcreteBackend, type DeviceInfo };
export { assertNoGpuErrors, isSoftwareAdapter, takeGpuErrors } from './webgpu.ts';

/** Parses a backend name, naming the bad value and the choices. */
export function parseBackendName(name: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new Error(`unknown backend '${name}': choose one of ${BACKEND_NAMES.join(', ')}`);
}

/** The backend asked for by `SWITCHYARD_BACKEND`, else `auto`. */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): BackendName {
  const v = env.SWITCHYARD_BACKEND?.trim();
  if (!v) return 'auto';
  try {
    return parseBackendName(v);
  } catch (err) {
    throw new Error(`SWITCHYARD_BACKEND: ${(err as Error).message}`);
  }
}

let current: DeviceInfo | null = null;

/** The device of the last successful `useBackend`, or null before one. */
export function currentDevice(): DeviceInfo | null {
  return current;
}

export interface UseBackendOptions {
  /** Accept a software WebGPU adapter under `auto` (default: env SWITCHYARD_ALLOW_SOFTWARE_GPU=1). */
  allowSoftwareGpu?: boolean;
  /** Print the one-line device description to stderr (default true). */
  log?: boolean;
}

/**
 * Selects and initialises a tfjs backend, returning what it runs on. Explicit names fail loudly
 * when unavailable; `auto` records each backend it passed over in `skipped`.
 */
export async function useBackend(name: BackendName | string = backendFromEnv(), opts: UseBackendOptions = {}): Promise<DeviceInfo> {
  const requested = parseBackendName(name);
  const allowSoftware = opts.allowSoftwareGpu ?? process.env.SWITCHYARD_ALLOW_SOFTWARE_GPU === '1';
  const skipped: DeviceInfo['skipped'] = [];
  let info: DeviceInfo | null = null;
  if (requested === 'auto') {
    for (const candidate of ['webgpu', 'tensorflow', 'wasm', 'cpu'] as const) {
      try {
        info = await activate(candidate, requested, skipped, candidate === 'webgpu' ? allowSoftware : true);
        break;
      } catch (err) {
        // The first sentence: the full text (install hints) is what an explicit request shows.
        skipped.push({ backend: candidate, reason: (err as Error).message.split(/\.\s/)[0] });
      }
    }
    if (!info) throw new Error(`no backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
  } else {
    info = await activate(requested, requested, skipped, true);
  }
  current = info;
  if (opts.log ?? true) log(describeDevice(info));
  return info;
}

/**
 * Whether Linux shows a GPU device node: DRM render nodes (AMD, Intel, …), NVIDIA's, or WSL's.
 * Without one, Vulkan can only offer a software adapter, so `auto` need not load Dawn at all
 * (which also spares the warnings Dawn prints about lavapipe's limits).
 */
function linuxHasGpuDevice(): boolean {
  const dri = existsSync('/dev/dri') ? readdirSync('/dev/dri').some((n) => n.startsWith('renderD')) : false;
  return dri || existsSync('/dev/nvidia0') || existsSync('/dev/nvidiactl') || existsSync('/dev/dxg');
}

async function activate(backend: ConcreteBackend, requested: BackendName, skipped: DeviceInfo['skipped'], allowSoftware: boolean): Promise<DeviceInfo> {
  const base = { requested, backend, skipped, versions: { tfjs: tf.version_core, node: process.version, platform: `${process.platform}-${process.arch}` } };
  const cpuName = `${os.cpus()[0]?.model?.trim() ?? 'unknown CPU'} ×${os.cpus().length}`;
  switch (backend) {
    case 'webgpu': {
      if (!allowSoftware && process.platform === 'linux' && !linuxHasGpuDevice()) {
        throw new Error('no GPU device node (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg), so only a software adapter could be found; set SWITCHYARD_ALLOW_SOFTWARE_GPU=1 or --backend webgpu to use one');
      }
      const a = await probeWebGpu();
      if (a.software && !allowSoftware) {
        throw new Error(`only a software adapter (${a.description || a.device}); set SWITCHYARD_ALLOW_SOFTWARE_GPU=1 or --backend webgpu to use it`);
      }
      const d = await activateWebGpu();
      registerWebGpuMoeKernels(a.software);
      const device = a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ') || 'unknown WebGPU adapter';
      const details = {
        vendor: a.vendor,
        architecture: a.architecture,
        adapter: a.device,
        features: d.features.join(' ') || 'none',
        subgroupSize: d.subgroupMinSize === d.subgroupMaxSize ? d.subgroupMinSize : `${d.subgroupMinSize}-${d.subgroupMaxSize}`,
        maxBindingMiB: Math.floor(d.maxStorageBufferBindingSize / 2 ** 20),
        moeKernels: webGpuMoePath() === 'ours' ? `ours (${matMulVariant()})` : 'builtin',
      };
      return { ...base, device, gpu: !a.software, softwareGpu: a.software, details };
    }
    case 'tensorflow': {
      const pkg = await loadTensorflowBinding();
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`tf.setBackend('tensorflow') failed after loading ${pkg}. ${TENSORFLOW_INSTALL_HINT}`);
      const b = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
      const gpu = b.isUsingGpuDevice === true;
      return { ...base, device: gpu ? `CUDA GPU via ${pkg}` : `${cpuName} via ${pkg}`, gpu, softwareGpu: false, details: { package: pkg } };
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
      registerWasmKernels(); // after init: the replaced BatchMatMul needs its original's setup
      const threads = typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : 1;
      return {
        ...base,
        device: cpuName,
        gpu: false,
        softwareGpu: false,
        details: { simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads },
      };
    }
    case 'cpu': {
      // @tensorflow/tfjs registers the cpu backend. Its first write prints an advert for tfjs-node,
      // which cannot install offline; the device line above already says what runs.
      if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      registerCpuKernels();
      return { ...base, device: cpuName, gpu: false, softwareGpu: false, details: {} };
    }
  }
}
