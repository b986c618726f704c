/**
 * What a run ran on. Every CLI command prints this to stderr and every result file embeds it, so
 * a user who asked for a GPU and got a CPU sees it.
 */

/** The backends Switchyard knows. `auto` picks the first that works (see `useBackend`). */
export const BACKEND_NAMES = ['auto', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** A concrete backend (what `auto` resolves to). */
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

export interface DeviceInfo {
  /** What the user asked for (flag, env var or default). */
  requested: BackendName;
  /** The tfjs backend actually in use. */
  backend: ConcreteBackend;
  /** Human-readable device: GPU adapter description, or CPU model. */
  device: string;
  /** True when the math runs on a hardware GPU. */
  gpu: boolean;
  /** True for a software GPU adapter (lavapipe/llvmpipe, SwiftShader): WebGPU code path, CPU speed. */
  softwareGpu: boolean;
  /** Backends `auto` tried and why each was passed over (empty when the first choice worked). */
  skipped: { backend: ConcreteBackend; reason: string }[];
  /** Extra facts: adapter vendor/architecture, wasm threads/SIMD, tfjs-node package. */
  details: Record<string, string | number | boolean>;
  versions: { tfjs: string; node: string; platform: string };
}

/** One line for stderr, e.g. `backend webgpu on NVIDIA H200 (GPU)`. */
export function describeDevice(info: DeviceInfo): string {
  const kind = info.gpu ? 'GPU' : info.softwareGpu ? 'software GPU: CPU speed' : 'CPU';
  let line = `backend ${info.backend} on ${info.device} (${kind})`;
  if (info.requested !== 'auto' && info.requested !== info.backend) line += ` [asked for ${info.requested}]`;
  if (info.skipped.length) line += `; passed over: ${info.skipped.map((s) => `${s.backend} (${s.reason})`).join(', ')}`;
  return line;
}
