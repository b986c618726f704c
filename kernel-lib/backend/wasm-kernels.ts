/**
 * Kernels that tfjs-backend-wasm 4.22 lacks and the MoE layer needs.
 *
 * `UnsortedSegmentSum` is the gradient of `gather` (and the combine step of Expert Choice);
 * without it, backprop through dispatch throws on wasm. This version runs in JavaScript over
 * the wasm heap: O(N·inner) adds, memory-bound, far below the matmuls around it.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

let registered = false;

/** Registers the missing wasm kernels once; safe to call repeatedly. */
export function registerWasmKernels(): void {
  if (registered || tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    registered = true;
    return;
  }
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
  registered = true;
}
