/**
 * Matmuls on wasm: tfjs-backend-wasm 4.22 is fast (XNNPACK) only for one untransposed batch.
 *
 * - `BatchMatMul` with transposeA/B (every backward pass) or a real batch (the [E,C,D] expert
 *   matmul) falls to a scalar loop 20–40× slower. The wrapper transposes explicitly and splits
 *   batches, then calls the fast path.
 * - XNNPACK packs the right operand into its GEMM layout and tfjs caches that packed operator
 *   on the operand's tensor id, so a 2-D weight is packed once per value. A batched weight
 *   ([E,D,F] experts) is split per batch, and fresh slices would be repacked on every call: at
 *   C = 40 rows per expert, packing cost twice the multiply. Slices of a variable's buffer are
 *   therefore kept while that buffer lives (one more copy of the expert weights in memory), so
 *   experts get the same packed-operator reuse as a dense weight. Training assigns new values
 *   every step, so there each value is still packed once per step, as a dense weight is.
 * - `SwitchyardExpertMatMul` (moe/expert-matmul.ts) multiplies only the filled capacity slots.
 */
import * as tf from '@tensorflow/tfjs';
import { sizeOf, slicesOf, splitBatches, type WasmBackendLike } from './wasm-heap.ts';

/** Replaces BatchMatMul; returns the original kernel, fast for one untransposed [1,M,K]·[1,K,N]. */
export function registerFastBatchMatMul(): tf.KernelFunc | null {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) return null;
  const orig = original.kernelFunc;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b_ = backend as unknown as WasmBackendLike;
      const temps: tf.TensorInfo[] = [];
      const run = (name: string, ins: unknown, at: object): tf.TensorInfo => {
        const out = tf.getKernel(name, 'wasm')!.kernelFunc({ inputs: ins as tf.NamedTensorInfoMap, backend, attrs: at as tf.NamedAttrMap }) as tf.TensorInfo;
        temps.push(out);
        return out;
      };
      const matmul = (a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo => {
        const out = orig({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
        temps.push(out);
        return out;
      };
      const swapLast = (t: tf.TensorInfo) => {
        const r = t.shape.length;
        const perm = [...Array(r - 2).keys(), r - 1, r - 2];
        return run('Transpose', { x: t }, { perm });
      };
      // A leading-axis batch is contiguous: copy it straight out of the heap (wasm's Slice kernel
      // is a generic strided loop, ~60 ms for one [1,256,1024] batch).
      const batch = (t: tf.TensorInfo, i: number, rows: number, cols: number, cached?: tf.TensorInfo[]): tf.TensorInfo => {
        if (cached) return { dataId: cached[i].dataId, shape: [1, rows, cols], dtype: t.dtype }; // same bytes, owned by the cache
        const out = b_.makeOutput([1, rows, cols], t.dtype);
        temps.push(out);
        const n = rows * cols;
        b_.typedArrayFromHeap(out).set(b_.typedArrayFromHeap(t).subarray(i * n, (i + 1) * n));
        return out;
      };
      let { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      const rank = (t: tf.TensorInfo) => t.shape.length;
      if (transposeB && !transposeA && rank(a) === 3 && rank(b) === 3 && a.shape[0] === b.shape[0] && b.shape[0] > 1) {
        // [B,M,K]·[B,N,K]ᵀ with large b (the experts' backward, dY·W2ᵀ): transposing all of b
        // costs more than the matmul. Per batch, (b_i · a_iᵀ)ᵀ transposes only the small pieces.
        const [B, M, K] = a.shape;
        const N = b.shape[1];
        const parts: tf.TensorInfo[] = [];
        const weights = slicesOf(b_, b);
        if (weights && !weights.transposed && ++weights.transposedUses >= 2) weights.transposed = splitBatches(b_, b, true);
        const plain = weights && !weights.transposed ? (weights.plain ??= splitBatches(b_, b, false)) : undefined;
        for (let i = 0; i < B; i++) {
          if (weights?.transposed) {
            // A weight used transposed again (evaluation, benchmarks, frozen experts): its own
            // transposed copy, packed once by XNNPACK, then a plain a_i · (b_iᵀ).
            parts.push(matmul(batch(a, i, M, K), batch(b, i, K, N, weights.transposed)));
          } else {
            // First use of this value (training assigns a new one every step): no copy to keep.
            const outT = matmul(batch(b, i, N, K, plain), swapLast(batch(a, i, M, K))); // [1,N,M]
            parts.push(swapLast(outT)); // [1,M,N]
          }
        }
        const result = run('Concat', parts, { axis: 0 });
        for (const t of temps) if (t !== result) b_.disposeData(t.dataId);
        return result;
      }
      if (transposeA) a = swapLast(a);
      if (transposeB) b = swapLast(b);
      const [M, K] = a.shape.slice(-2);
      const N = b.shape[b.shape.length - 1];
      const batchA = sizeOf(a.shape.slice(0, -2));
      const batchB = sizeOf(b.shape.slice(0, -2));
      const outShape = [...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), M, N];
      let result: tf.TensorInfo;
      if (batchB === 1) {
        // [..,M,K]·[K,N]: fold A's batch into its rows, one fast call.
        const a2 = run('Reshape', { x: a }, { shape: [1, batchA * M, K] });
        const b2 = run('Reshape', { x: b }, { shape: [1, K, N] });
        result = run('Reshape', { x: matmul(a2, b2) }, { shape: outShape });
      } else if (batchA === batchB || batchA === 1) {
        const a3 = run('Reshape', { x: a }, { shape: [batchA, M, K] });
        const b3 = run('Reshape', { x: b }, { shape: [batchB, K, N] });
        const parts: tf.TensorInfo[] = [];
        const weights = slicesOf(b_, b3); // a variable's slices persist, so XNNPACK packs each once per value
        const plain = weights ? (weights.plain ??= splitBatches(b_, b3, false)) : undefined;
        for (let i = 0; i < batchB; i++) {
          const ai = batchA === 1 ? a3 : batch(a3, i, M, K);
          parts.push(matmul(ai, batch(b3, i, K, N, plain)));
        }
        const cat = parts.length === 1 ? parts[0] : run('Concat', parts, { axis: 0 });
        result = run('Reshape', { x: cat }, { shape: outShape });
      } else {
        // Other broadcasts ([2,1,..]·[1,3,..]): the original kernel, on the materialised transposes.
        result = orig({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
        temps.push(result);
      }
      for (const t of temps) if (t !== result) b_.disposeData(t.dataId);
      return result;
    },
  });
  return orig;
}

/**
 * `SwitchyardExpertMatMul` (moe/expert-matmul.ts): per expert, only the filled capacity slots.
 * a·b: a's first filled[e] rows times b[e] (a variable's cached copy, packed once per value);
 * a·bᵀ: the same with bᵀ (cached from the second use, else (b·aᵀ)ᵀ on the small pieces);
 * aᵀ·b: the contraction runs over the filled slots only. Unfilled output rows are 0.
 */
export function registerExpertMatMul(xnnMatMul: tf.KernelFunc): void {
  tf.registerKernel({
    kernelName: 'SwitchyardExpertMatMul',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const bk = backend as unknown as WasmBackendLike;
      const { a, b, filled } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; filled: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (transposeA && transposeB) throw new Error('SwitchyardExpertMatMul: transposeA and transposeB together are not supported');
      const [E, C, P] = a.shape;
      const counts = Array.from(bk.typedArrayFromHeap(filled), (n) => Math.max(0, Math.min(C, n)));
      const temps: tf.TensorInfo[] = [];
      const keep = <T extends tf.TensorInfo>(t: T): T => (temps.push(t), t);
      const matmul = (x: tf.TensorInfo, y: tf.TensorInfo) => keep(xnnMatMul({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo);
      const transpose = (x: tf.TensorInfo) => keep(tf.getKernel('Transpose', 'wasm')!.kernelFunc({ inputs: { x }, backend, attrs: { perm: [0, 2, 1] } }) as tf.TensorInfo);
      /**
       * Rows [0,r) of batch e of a contiguous [B,R,cols] buffer, as [1,r,cols]. A whole [1,R,cols]
       * buffer is passed as itself, no copy. (Never a view of another shape: XNNPACK caches its
       * packed operator on the right operand's id alone, so one id must keep one shape.)
       */
      const rowsOf = (t: tf.TensorInfo, e: number, r: number): tf.TensorInfo => {
        const [B, R, cols] = t.shape;
        if (B === 1 && r === R) return { dataId: t.dataId, shape: [1, r, cols], dtype: t.dtype };
        const out = keep(bk.makeOutput([1, r, cols], t.dtype));
        bk.typedArrayFromHeap(out).set(bk.typedArrayFromHeap(t).subarray(e * R * cols, (e * R + r) * cols));
        return out;
      };
      /** Batch e of a buffer, as [1,rows,cols]: the cached copy when there is one. */
      const batchOf = (t: tf.TensorInfo, e: number, cached: tf.TensorInfo[] | undefined): tf.TensorInfo =>
        cached ? { dataId: cached[e].dataId, shape: [1, t.shape[1], t.shape[2]], dtype: t.dtype } : rowsOf(t, e, t.shape[1]);
      let out: tf.TensorInfo;
      /** Returns a temporary as the result (one expert, nothing to assemble). */
      const finish = (result: tf.TensorInfo): tf.TensorInfo => {
        temps.splice(temps.indexOf(result), 1);
        return result;
      };
      try {
        if (transposeA) {
          // [E,C,P]ᵀ·[E,C,Q] → [E,P,Q]: Σ over the filled slots only.
          const Q = b.shape[2];
          if (E === 1 && counts[0] > 0) return finish(matmul(transpose(rowsOf(a, 0, counts[0])), rowsOf(b, 0, counts[0]))); // [1,P,Q]
          out = bk.makeOutput([E, P, Q], a.dtype);
          for (let e = 0; e < E; e++) {
            const n = P * Q;
            if (counts[e] === 0) {
              bk.typedArrayFromHeap(out).fill(0, e * n, (e + 1) * n);
              continue;
            }
            const part = matmul(transpose(rowsOf(a, e, counts[e])), rowsOf(b, e, counts[e])); // [1,P,Q]
            bk.typedArrayFromHeap(out).set(bk.typedArrayFromHeap(part), e * n);
          }
        } else {
          // [E,C,P]·[E,P,Q] or [E,C,P]·[E,Q,P]ᵀ → [E,C,Q], rows ≥ filled[e] zero.
          const Q = transposeB ? b.shape[1] : b.shape[2];
          const weights = slicesOf(bk, b);
          let cachedT: tf.TensorInfo[] | undefined;
          let cached: tf.TensorInfo[] | undefined;
          if (transposeB && weights) {
            if (!weights.transposed && ++weights.transposedUses >= 2) weights.transposed = splitBatches(bk, b, true);
            cachedT = weights.transposed;
          }
          if (weights && !cachedT) cached = weights.plain ??= splitBatches(bk, b, false);
          const product = (e: number, r: number): tf.TensorInfo => {
            const rows = rowsOf(a, e, r);
            if (!transposeB) return matmul(rows, batchOf(b, e, cached));
            if (cachedT) return matmul(rows, { dataId: cachedT[e].dataId, shape: [1, P, Q], dtype: b.dtype });
            // Transpose whichever side is smaller: b_e ([Q,P]) or the rows and the result (r·(P+Q)).
            if (P * Q <= r * (P + Q)) return matmul(rows, transpose(batchOf(b, e, cached)));
            return transpose(matmul(batchOf(b, e, cached), transpose(rows))); // (b_e · rowsᵀ)ᵀ
          };
          if (E === 1 && counts[0] === C) return finish(product(0, C)); // [1,C,Q]
          out = bk.makeOutput([E, C, Q], a.dtype);
          for (let e = 0; e < E; e++) {
            const r = counts[e];
            const part = r > 0 ? product(e, r) : null; // [1,r,Q]
            const ov = bk.typedArrayFromHeap(out);
            if (part) ov.set(bk.typedArrayFromHeap(part), e * C * Q);
            ov.fill(0, (e * C + r) * Q, (e + 1) * C * Q);
          }
        }
      } finally {
        for (const t of temps) bk.disposeData(t.dataId);
      }
      return out;
    },
  });
}
