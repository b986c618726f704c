/**
 * Switchyard's MoE kernels for tfjs-backend-webgpu, registered with public exports only
 * (`tf.registerKernel` with a kernelFunc calling `backend.runWebGPUProgram`). Their names and
 * attributes are kernel-lib/kernels/contracts.ts; the ops and their gradients live in
 * kernel-lib/moe/; the WGSL in webgpu-grouped-matmul.ts, webgpu-routing.ts and
 * webgpu-rows.ts. Every kernel reads inputs the device already holds and writes a new tensor:
 * nothing is read back to the CPU.
 */
import * as tf from '@tensorflow/tfjs';
import {
  COMBINE_ROWS, EXPERT_MATMUL, EXPERT_POSITIONS, GATHER_ROWS, GROUPED_MATMUL, PACK_LAYOUT, ROW_DOTS, segmentOffset,
  type ExpertMatMulAttrs, type MatMulVariant, type PackedAttrs, type PackLayoutAttrs, type PositionsAttrs,
} from '../kernels/contracts.ts';
import { matMulVariant, registerWebGpuFlags } from '../kernels/webgpu-flags.ts';
import { groupedMatMulProgram, uniformValues, type GroupedMatMulSpec } from './webgpu-grouped-matmul.ts';
import { runGpuProgram } from './webgpu-program.ts';
import { layoutProgram, positionsProgram } from './webgpu-routing.ts';
import { combineRowsProgram, gatherRowsProgram, rowDotsProgram, rowsUniforms, type RowsShape } from './webgpu-rows.ts';

function form({ transposeA, transposeB }: ExpertMatMulAttrs): GroupedMatMulSpec['form'] {
  if (transposeA && transposeB) throw new Error('grouped matmul: transposeA and transposeB together are not supported');
  return transposeA ? 'tn' : transposeB ? 'nt' : 'nn';
}

function checkFloat(kernel: string, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new Error(`${kernel}: float32 operands expected, got ${t.dtype}`);
}

function register(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(kernelName, 'webgpu')) tf.unregisterKernel(kernelName, 'webgpu');
  tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
}

/** Capacity buffer [E,C,·] with filled slots per expert: moe/expert-matmul.ts. */
const expertMatMul: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { a, b, filled } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; filled: tf.TensorInfo };
  checkFloat(EXPERT_MATMUL, a, b);
  const f = form(attrs as unknown as ExpertMatMulAttrs);
  const [E, C, P] = a.shape;
  const base = { form: f, layout: 'batched' as const, variant: matMulVariant(), E, segOffset: 0 };
  // nn: [E,C,P]·[E,P,Q]; nt: [E,C,P]·[E,Q,P]ᵀ; tn: [E,C,P]ᵀ·[E,C,Q] over the filled slots.
  const spec: GroupedMatMulSpec =
    f === 'tn' ? { ...base, M: P, N: b.shape[2], K: C } : { ...base, M: C, N: f === 'nt' ? b.shape[1] : b.shape[2], K: P };
  return runGpuProgram(backend, groupedMatMulProgram(spec), [a, b, filled], 'float32', uniformValues(spec));
};

/** Packed rows [R,·]: moe/grouped-matmul.ts. */
const groupedMatMul: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { a, b, layout } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; layout: tf.TensorInfo };
  checkFloat(GROUPED_MATMUL, a, b);
  const at = attrs as unknown as PackedAttrs & ExpertMatMulAttrs;
  const f = form(at);
  const [R, P] = a.shape;
  const base = { form: f, layout: 'packed' as const, variant: at.variant as MatMulVariant, E: at.numExperts, segOffset: segmentOffset(at) };
  // nn: [R,P]·[E,P,Q]; nt: [R,P]·[E,Q,P]ᵀ; tn: [R,P]ᵀ·[R,Q] per expert segment.
  const spec: GroupedMatMulSpec =
    f === 'tn' ? { ...base, M: P, N: b.shape[1], K: R } : { ...base, M: R, N: f === 'nt' ? b.shape[1] : b.shape[2], K: P };
  return runGpuProgram(backend, groupedMatMulProgram(spec), [a, b, layout], 'float32', uniformValues(spec));
};

/** Priority-order slots: moe/positions.ts. */
const expertPositions: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { choices } = inputs as { choices: tf.TensorInfo };
  const { numExperts: E, capacity: C } = attrs as unknown as PositionsAttrs;
  const n = choices.shape[0];
  return runGpuProgram(backend, positionsProgram(n, E), [choices], 'int32', [n, E, C]);
};

/** The packed layout: moe/packed-layout.ts. */
const packLayout: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { slot, countsKept } = inputs as { slot: tf.TensorInfo; countsKept: tf.TensorInfo };
  const { numExperts: E, capacity: C, rowTile, rows: R } = attrs as unknown as PackLayoutAttrs;
  const n = slot.shape.reduce((x, d) => x * d, 1);
  // The segment starts live in workgroup memory (16 KiB guaranteed by WebGPU): 4 bytes per expert.
  if (E > 4096) throw new Error(`${PACK_LAYOUT}: at most 4096 experts per layer on webgpu, got ${E}`);
  return runGpuProgram(backend, layoutProgram(n, R, E), [slot, countsKept], 'int32', [n, R, E, C, rowTile]);
};

const rowsShape = (a: PackedAttrs, D: number): RowsShape => ({ T: a.numTokens, k: a.k, D, R: a.rows });

/** Dispatch and combine: moe/packed-rows.ts. */
const gatherRows: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, scale, layout } = inputs as { x: tf.TensorInfo; scale: tf.TensorInfo; layout: tf.TensorInfo };
  checkFloat(GATHER_ROWS, x, scale);
  const s = rowsShape(attrs as unknown as PackedAttrs, x.shape[1]);
  return runGpuProgram(backend, gatherRowsProgram(s), [x, scale, layout], 'float32', rowsUniforms(s));
};

const combineRows: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { src, scale, layout } = inputs as { src: tf.TensorInfo; scale: tf.TensorInfo; layout: tf.TensorInfo };
  checkFloat(COMBINE_ROWS, src, scale);
  const s = rowsShape(attrs as unknown as PackedAttrs, src.shape[1]);
  return runGpuProgram(backend, combineRowsProgram(s), [src, scale, layout], 'float32', rowsUniforms(s));
};

const rowDots: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { src, y, layout } = inputs as { src: tf.TensorInfo; y: tf.TensorInfo; layout: tf.TensorInfo };
  checkFloat(ROW_DOTS, src, y);
  const s = rowsShape(attrs as unknown as PackedAttrs, src.shape[1]);
  return runGpuProgram(backend, rowDotsProgram(s), [src, y, layout], 'float32', rowsUniforms(s));
};

/**
 * Registers the kernels for 'webgpu' (again on each call, so a re-created backend gets them) and
 * the flags choosing among them (kernels/webgpu-flags.ts).
 */
export function registerWebGpuMoeKernels(softwareAdapter: boolean): void {
  registerWebGpuFlags(softwareAdapter);
  register(EXPERT_MATMUL, expertMatMul);
  register(GROUPED_MATMUL, groupedMatMul);
  register(EXPERT_POSITIONS, expertPositions);
  register(PACK_LAYOUT, packLayout);
  register(GATHER_ROWS, gatherRows);
  register(COMBINE_ROWS, combineRows);
  register(ROW_DOTS, rowDots);
}
