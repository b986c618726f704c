/**
 * Running a WGSL program of our own through tfjs-backend-webgpu, with public exports only.
 *
 * tfjs prepends a header to `getUserCode()` (webgpu_program.ts in tfjs-backend-webgpu 4.22):
 * inputs bound by `variableNames` (`array<f32>`, `array<i32>` for int32, `array<vec4<f32>>`
 * where `variableComponents` says 4), the output as `result`, shapes as uniforms, our own
 * scalars after them (`uniforms`), and the built-ins `workgroupId`, `localId`, `localIndex`. It
 * caches pipelines by `shaderKey` plus ranks and dtypes, not by shape values, so every constant
 * baked into the WGSL must be named in the `shaderKey`.
 */
import type * as tf from '@tensorflow/tfjs';

/** The fields of tfjs-webgpu's `WebGPUProgram` our programs set. */
export interface GpuProgram {
  variableNames: string[];
  /** Components per input element (1 or 4); default 1 here. */
  variableComponents: number[];
  /** Components per output element (1 or 4). */
  outputComponent: number;
  outputShape: number[];
  /** Every constant the WGSL bakes in; tfjs appends ranks and dtypes. */
  shaderKey: string;
  /** Workgroups per dimension. */
  dispatch: [number, number, number];
  /** Non-flat (y and z set), so that tfjs calls `main()` without a global index. */
  dispatchLayout: { x: number[]; y: number[]; z: number[] };
  workgroupSize: [number, number, number];
  /** Our uniform fields, e.g. `rows : i32, cols : i32,` (values passed at each run, in order). */
  uniforms: string;
  getUserCode: () => string;
}

/** The WebGPU backend as our kernels use it. */
export interface WebGpuBackendLike {
  runWebGPUProgram(program: GpuProgram, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: { type: 'int32' | 'float32'; data: number[] }[]): tf.TensorInfo;
  device: { limits: { maxStorageBufferBindingSize: number; maxComputeWorkgroupsPerDimension: number }; features: { has(name: string): boolean } };
}

/** A program with our defaults filled in: non-flat dispatch, scalar bindings. */
export function gpuProgram(p: Pick<GpuProgram, 'variableNames' | 'outputShape' | 'shaderKey' | 'dispatch' | 'workgroupSize' | 'getUserCode'> & Partial<GpuProgram>): GpuProgram {
  return {
    variableComponents: p.variableNames.map(() => 1),
    outputComponent: 1,
    dispatchLayout: { x: [0], y: [1], z: [2] },
    uniforms: '',
    ...p,
  };
}

/**
 * Runs `program` on `inputs`; `uniformValues` are int32 values for the program's own uniform
 * fields, in declaration order.
 */
export function runGpuProgram(backend: unknown, program: GpuProgram, inputs: tf.TensorInfo[], dtype: tf.DataType, uniformValues: number[] = []): tf.TensorInfo {
  const b = backend as WebGpuBackendLike;
  const limit = b.device.limits.maxComputeWorkgroupsPerDimension;
  if (program.dispatch.some((n) => n > limit)) {
    throw new Error(`${program.shaderKey}: output [${program.outputShape.join(',')}] needs ${program.dispatch.join('×')} workgroups, more than the ${limit} per dimension this device allows`);
  }
  const uniforms = uniformValues.map((v) => ({ type: 'int32' as const, data: [v] }));
  return b.runWebGPUProgram(program, inputs, dtype, uniforms);
}

/** `ceil(a / b)` for positive integers. */
export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/**
 * WGSL function `fn <name>(row : i32) -> i32`: the last index i in [0, last] with `start(i) <= row`,
 * by binary search over ascending starts (start(0) = 0), i.e. the expert whose segment of a
 * packed layout holds `row`. `start` and `last` are WGSL expressions.
 */
export function wgslSegmentSearch(name: string, start: (i: string) => string, last: string): string {
  return `
  fn ${name}(row : i32) -> i32 {
    var lo = 0;
    var hi = ${last};
    loop {
      if (lo >= hi) { break; }
      let mid = (lo + hi + 1) / 2;
      if (${start('mid')} <= row) { lo = mid; } else { hi = mid - 1; }
    }
    return lo;
  }`;
}
