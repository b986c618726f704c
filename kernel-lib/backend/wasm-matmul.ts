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
import { EXPERT_MATMUL, type ExpertMatMulAttrs } from '../kernels/contracts.ts';
import { overrideKernel, sizeOf, slicesOf, splitBatches, type WasmBackendLike } from './wasm-heap.ts';

/**
 * Products per batch on XNNPACK's fast path, for a left operand a [B,M,P] whose rows j ≥ rows[i]
 * of batch i are empty (rows[i] = M: every row counts):
 *   a·b (b [B,P,Q]) and a·bᵀ (b [B,Q,P]) → [B,M,Q], empty rows 0;
 *   aᵀ·b (b [B,M,Q]) → [B,P,Q], summed over the first rows[i] rows of each batch.
 * A variable's b is multiplied through its cached copies (wasm-heap.ts): plain ones, and
 * transposed ones from its second transposed use; otherwise a·bᵀ transposes whichever side is
 * smaller.
 */
function perBatchMatMul(backend: unknown, xnnMatMul: tf.KernelFunc, a: tf.TensorInfo, b: tf.TensorInfo, rows: number[], transposeA: boolean, transposeB: boolean): tf.TensorInfo {
  const bk = backend as WasmBackendLike;
  const kernelBackend = backend as tf.KernelBackend;
  const [B, M, P] = a.shape;
  const temps: tf.TensorInfo[] = [];
  const keep = <T extends tf.TensorInfo>(t: T): T => (temps.push(t), t);
  const matmul = (x: tf.TensorInfo, y: tf.TensorInfo) => keep(xnnMatMul({ inputs: { a: x, b: y }, backend: kernelBackend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo);
  const transpose = (x: tf.TensorInfo) => keep(tf.getKernel('Transpose', 'wasm')!.kernelFunc({ inputs: { x }, backend: kernelBackend, attrs: { perm: [0, 2, 1] } }) as tf.TensorInfo);
  /**
   * Rows [0,r) of batch e of a contiguous [B,R,cols] buffer, as [1,r,cols]. A whole [1,R,cols]
   * buffer is passed as itself, no copy. (Never a view of another shape: XNNPACK caches its
   * packed operator on the right operand's id alone, so one id must keep one shape.) A leading-
   * axis batch is contiguous, so the rest are one copy out of the heap (wasm's Slice kernel is a
   * generic strided loop, ~60 ms for one [1,256,1024] batch).
   */
  const rowsOf = (t: tf.TensorInfo, e: number, r: number): tf.TensorInfo => {
    const [T, R, cols] = t.shape;
    if (T === 1 && r === R) return { dataId: t.dataId, shape: [1, r, cols], dtype: t.dtype };
    const out = keep(bk.makeOutput([1, r, cols], t.dtype));
    bk.typedArrayFromHeap(out).set(bk.typedArrayFromHeap(t).subarray(e * R * cols, (e * R + r) * cols));
    return out;
  };
  /** Batch e of a buffer, as [1,rows,cols]: the cached copy when there is one. */
  const batchOf = (t: tf.TensorInfo, e: number, cached: tf.TensorInfo[] | undefined): tf.TensorInfo =>
    cached ? { dataId: cached[e].dataId, shape: [1, t.shape[1], t.shape[2]], dtype: t.dtype } : rowsOf(t, e, t.shape[1]);

  let outShape: number[];
  /** Batch e's product from its first r rows: [1,P,Q] for aᵀ·b, else [1,r,Q]. */
  let product: (e: number, r: number) => tf.TensorInfo;
  if (transposeA) {
    outShape = [B, P, b.shape[2]];
    product = (e, r) => matmul(transpose(rowsOf(a, e, r)), rowsOf(b, e, r));
  } else {
    const Q = transposeB ? b.shape[1] : b.shape[2];
    outShape = [B, M, Q];
    const weights = slicesOf(bk, b);
    let cachedT: tf.TensorInfo[] | undefined;
    if (transposeB && weights) {
      if (!weights.transposed && ++weights.transposedUses >= 2) weights.transposed = splitBatches(bk, b, true);
      cachedT = weights.transposed;
    }
    const cached = weights && !cachedT ? (weights.plain ??= splitBatches(bk, b, false)) : undefined;
    product = (e, r) => {
      const x = rowsOf(a, e, r);
      if (!transposeB) return matmul(x, batchOf(b, e, cached));
      if (cachedT) return matmul(x, { dataId: cachedT[e].dataId, shape: [1, P, Q], dtype: b.dtype });
      // Transpose whichever side is smaller: b_e ([Q,P]) or the rows and the result (r·(P+Q)).
      if (P * Q <= r * (P + Q)) return matmul(x, transpose(batchOf(b, e, cached)));
      return transpose(matmul(batchOf(b, e, cached), transpose(x))); // (b_e · xᵀ)ᵀ
    };
  }
  const [, outRows, outCols] = outShape;
  const n = outRows * outCols;
  /** Output rows batch e's product fills; the rest of its block is 0. */
  const rowsFilled = (r: number) => (r === 0 ? 0 : transposeA ? outRows : r);
  try {
    if (B === 1 && rowsFilled(rows[0]) === outRows) {
      // One batch, nothing to assemble: the product is the result.
      const result = product(0, rows[0]);
      temps.splice(temps.indexOf(result), 1);
      return result;
    }
    const out = bk.makeOutput(outShape, a.dtype);
    for (let e = 0; e < B; e++) {
      const part = rows[e] > 0 ? product(e, rows[e]) : null;
      const ov = bk.typedArrayFromHeap(out); // after the product's allocations, which may grow the heap
      if (part) ov.set(bk.typedArrayFromHeap(part), e * n);
      ov.fill(0, e * n + rowsFilled(rows[e]) * outCols, (e + 1) * n);
    }
    return out;
  } finally {
    for (const t of temps) bk.disposeData(t.dataId);
  }
}

/** Replaces BatchMatMul; returns the original kernel, fast for one untransposed [1,M,K]·[1,K,N]. */
export function registerFastBatchMatMul(): tf.KernelFunc | null {
  return overrideKernel('BatchMatMul', (orig) => ({ inputs, backend, attrs }) => {
    const b_ = backend as unknown as WasmBackendLike;
    const temps: tf.TensorInfo[] = [];
    const run = (name: string, ins: unknown, at: object): tf.TensorInfo => {
      const out = tf.getKernel(name, 'wasm')!.kernelFunc({ inputs: ins as tf.NamedTensorInfoMap, backend, attrs: at as tf.NamedAttrMap }) as tf.TensorInfo;
      temps.push(out);
      return out;
    };
    const swapLast = (t: tf.TensorInfo) => {
      const r = t.shape.length;
      const perm = [...Array(r - 2).keys(), r - 1, r - 2];
      return run('Transpose', { x: t }, { perm });
    };
    let { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    const batchA = sizeOf(a.shape.slice(0, -2));
    const batchB = sizeOf(b.shape.slice(0, -2));
    const M = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
    const N = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const outShape = [...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), M, N];
    const as3 = (t: tf.TensorInfo, batches: number) => run('Reshape', { x: t }, { shape: [batches, ...t.shape.slice(-2)] });
    let result: tf.TensorInfo;
    if (batchA === batchB && batchB > 1) {
      // A real batch (the experts' [E,C,D] products, attention): per batch on the fast path.
      // aᵀ·bᵀ: a's transpose made explicit, then a·bᵀ.
      const both = transposeA && transposeB;
      const a3 = both ? swapLast(as3(a, batchA)) : as3(a, batchA);
      const product = perBatchMatMul(backend, orig, a3, as3(b, batchB), new Array<number>(batchA).fill(a3.shape[1]), transposeA && !both, transposeB);
      temps.push(product);
      result = run('Reshape', { x: product }, { shape: outShape });
    } else {
      if (transposeA) a = swapLast(a);
      if (transposeB) b = swapLast(b);
      const K = a.shape[a.shape.length - 1];
      const matmul = (x: tf.TensorInfo, y: tf.TensorInfo): tf.TensorInfo => {
        const out = orig({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
        temps.push(out);
        return out;
      };
      if (batchB === 1) {
        // [..,M,K]·[K,N]: fold A's batch into its rows, one fast call.
        result = run('Reshape', { x: matmul(run('Reshape', { x: a }, { shape: [1, batchA * M, K] }), run('Reshape', { x: b }, { shape: [1, K, N] })) }, { shape: outShape });
      } else if (batchA === 1) {
        // [M,K]·[B,K,N]: a against each batch of b (a variable's cached copies, packed once per value).
        const a3 = as3(a, 1);
        const b3 = as3(b, batchB);
        const weights = slicesOf(b_, b3);
        const cached = weights ? (weights.plain ??= splitBatches(b_, b3, false)) : undefined;
        const parts: tf.TensorInfo[] = [];
        for (let i = 0; i < batchB; i++) {
          let bi: tf.TensorInfo;
          if (cached) bi = { dataId: cached[i].dataId, shape: [1, K, N], dtype: b.dtype };
          else {
            bi = b_.makeOutput([1, K, N], b.dtype);
            temps.push(bi);
            b_.typedArrayFromHeap(bi).set(b_.typedArrayFromHeap(b3).subarray(i * K * N, (i + 1) * K * N));
          }
          parts.push(matmul(a3, bi));
        }
        result = run('Reshape', { x: run('Concat', parts, { axis: 0 }) }, { shape: outShape });
      } else {
        // Other broadcasts ([2,1,..]·[1,3,..]): the original kernel, on the materialised transposes.
        result = orig({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
        temps.push(result);
      }
    }
    for (const t of temps) if (t !== result) b_.disposeData(t.dataId);
    return result;
  });
}

/**
 * `SwitchyardExpertMatMul` (moe/expert-matmul.ts): per expert, only the filled capacity slots
 * (perBatchMatMul with rows = filled, clamped to [0, C]).
 */
export function registerExpertMatMul(xnnMatMul: tf.KernelFunc): void {
  tf.registerKernel({
    kernelName: EXPERT_MATMUL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b, filled } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo; filled: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as ExpertMatMulAttrs;
      if (transposeA && transposeB) throw new Error(`${EXPERT_MATMUL}: transposeA and transposeB together are not supported`);
      const C = a.shape[1];
      const rows = Array.from((backend as unknown as WasmBackendLike).typedArrayFromHeap(filled), (n) => Math.max(0, Math.min(C, n)));
      return perBatchMatMul(backend, xnnMatMul, a, b, rows, transposeA, transposeB);
    },
  });
}
