/**
 * The WebGPU device under tfjs, created by Switchyard instead of tfjs-backend-webgpu's own
 * factory, which asks only for `timestamp-query` and `bgra8unorm-storage`: we also ask for
 * `shader-f16` and `subgroups` where the adapter offers them, with the same limits as tfjs
 * (the adapter's maxima), and register `new WebGPUBackend(device, adapter.info)` as 'webgpu'.
 *
 * tfjs prepends its own header to every program, and WGSL requires `enable` directives before
 * any declaration, so the device's shader modules get their directives moved to the top.
 */
import * as tf from '@tensorflow/tfjs';

/** Optional features requested when the adapter offers them. */
const WANTED_FEATURES = ['timestamp-query', 'bgra8unorm-storage', 'shader-f16', 'subgroups'];

/** The limits tfjs-backend-webgpu raises to the adapter's maxima (its base.ts). */
const RAISED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
];

export interface DeviceFacts {
  /** Features of the created device that Switchyard asked for. */
  features: string[];
  /** Bytes one storage binding may hold. */
  maxStorageBufferBindingSize: number;
  /** Subgroup size range the adapter reports (0 when unknown). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
}

interface AdapterLike {
  features: { has(f: string): boolean };
  limits: Record<string, number>;
  info?: { subgroupMinSize?: number; subgroupMaxSize?: number };
  requestDevice(d: object): Promise<DeviceLike>;
}

interface DeviceLike {
  features: { has(f: string): boolean };
  limits: { maxStorageBufferBindingSize: number };
  createShaderModule(d: { code: string }): unknown;
}

/** Moves `enable`, `requires` and `diagnostic` directives to the top of a WGSL module. */
export function hoistDirectives(code: string): string {
  const directives: string[] = [];
  const rest = code.replace(/^[ \t]*(?:enable|requires|diagnostic)\b[^;{]*;[ \t]*$/gm, (d) => {
    directives.push(d.trim());
    return '';
  });
  return directives.length ? `${[...new Set(directives)].join('\n')}\n${rest}` : code;
}

let created: Promise<DeviceFacts> | null = null;

/**
 * Creates the device and registers the 'webgpu' backend on it, once per process; later calls
 * return the same facts. Call after importing tfjs-backend-webgpu and before `setBackend`.
 */
export function registerWebGpuDevice(): Promise<DeviceFacts> {
  created ??= (async () => {
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    const gpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(o: object): Promise<AdapterLike | null> } } }).navigator.gpu;
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('WebGPU: no adapter');
    const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
    const requiredLimits = Object.fromEntries(RAISED_LIMITS.map((l) => [l, adapter.limits[l]]));
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
    const create = device.createShaderModule.bind(device);
    device.createShaderModule = (d) => create({ ...d, code: hoistDirectives(d.code) });
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new WebGPUBackend(device as unknown as GPUDeviceArg, adapter.info as unknown as GPUAdapterInfoArg), 3);
    return {
      features: requiredFeatures.filter((f) => f === 'shader-f16' || f === 'subgroups'),
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      subgroupMinSize: adapter.info?.subgroupMinSize ?? 0,
      subgroupMaxSize: adapter.info?.subgroupMaxSize ?? 0,
    };
  })();
  created.catch(() => {
    created = null;
  });
  return created;
}

type GPUDeviceArg = ConstructorParameters<typeof import('@tensorflow/tfjs-backend-webgpu').WebGPUBackend>[0];
type GPUAdapterInfoArg = ConstructorParameters<typeof import('@tensorflow/tfjs-backend-webgpu').WebGPUBackend>[1];
