/**
 * Kernels that tfjs-backend-wasm 4.22 lacks or runs slowly, for the MoE layer.
 *
 * - `UnsortedSegmentSum` is the gradient of `gather` (and the combine step of Expert Choice);
 *   without it, backprop through dispatch throws on wasm. This version runs in JavaScript over
 *   the wasm heap: O(N·inner) adds, memory-bound, far below the matmuls around it.
 * - `BatchMatMul` and the experts' slot-skipping matmul: wasm-matmul.ts.
 * - `GatherV2` along axis 0 (dispatch, combine, embeddings) is a generic element loop: 60 ms
 *   for 2048 rows of 256 floats. Row gathers here are one contiguous copy per row.
 * - `Identity` copies its input. The gradient tape clones every input it saves for backward, so
 *   each step copied all weights (64 MB per step for a 64-expert layer). Tensors are immutable,
 *   so sharing the buffer by reference count is safe; tfjs's cpu and webgpu backends do the same.
 */
import * as tf from '@tensorflow/tfjs';
import { overrideKernel, sizeOf, type WasmBackendLike } from './wasm-heap.ts';
import { registerExpertMatMul, registerFastBatchMatMul } from './wasm-matmul.ts';

let registered = false;

/**
 * Registers the missing and faster wasm kernels once; safe to call repeatedly. Call after the
 * wasm backend is initialised: the original BatchMatMul's setup must have run.
 */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  const xnnMatMul = registerFastBatchMatMul();
  if (xnnMatMul) registerExpertMatMul(xnnMatMul);
  registerFastGather();
  registerSharedIdentity();
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const b = backend as unknown as WasmBackendLike;
      const rest = x.shape.slice(segmentIds.shape.length);
      const inner = rest.reduce((a, d) => a * d, 1);
      const out = b.makeOutput([numSegments, ...rest], x.dtype);
      // Views are taken after makeOutput: allocation may grow (and detach) the wasm heap.
      const ov = b.typedArrayFromHeap(out);
      const xv = b.typedArrayFromHeap(x);
      const ids = b.typedArrayFromHeap(segmentIds);
      ov.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue; // TF semantics: out-of-range ids are dropped
        const o = s * inner;
        const xi = i * inner;
        for (let j = 0; j < inner; j++) ov[o + j] += xv[xi + j];
      }
      return out;
    },
  });
}

function registerFastGather(): void {
  overrideKernel('GatherV2', (orig) => (args) => {
    const { inputs, backend, attrs } = args;
    const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = attrs as { axis: number; batchDims: number };
    const ax = axis < 0 ? axis + x.shape.length : axis;
    if (ax !== 0 || (batchDims ?? 0) !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32')) return orig(args);
    const b = backend as unknown as WasmBackendLike;
    const rows = x.shape[0];
    const row = sizeOf(x.shape.slice(1));
    const out = b.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const ov = b.typedArrayFromHeap(out);
    const xv = b.typedArrayFromHeap(x);
    const iv = b.typedArrayFromHeap(indices);
    for (let i = 0; i < iv.length; i++) {
      const r = iv[i];
      if (!(r >= 0 && r < rows)) {
        b.disposeData(out.dataId);
        throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
      }
      ov.set(xv.subarray(r * row, (r + 1) * row), i * row);
    }
    return out;
  });
}

function registerSharedIdentity(): void {
  overrideKernel('Identity', (orig) => (args) => {
    const x = (args.inputs as { x: tf.TensorInfo }).x;
    if (x.dtype === 'string') return orig(args);
    (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}
