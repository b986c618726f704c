/**
 * Shared pieces of the wasm kernels: the backend's heap as they use it, kernel replacement, and
 * the cache of per-batch copies of variables' buffers (see wasm-matmul.ts for why). Like tfjs's
 * own packed-operator cache, the cache lives beside the backend and follows its buffers: an
 * entry is freed with its buffer. The copies are made inside a kernel call, so tfjs's own leak
 * check for kernels (run only with the IS_TEST flag) reports them as new data ids on a
 * variable's first use.
 */
import * as tf from '@tensorflow/tfjs';

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
  /** True when the buffer was freed (its reference count reached 0, or `force`). */
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  incRef(dataId: tf.DataId): void;
}

/**
 * Replaces wasm's kernel `name` with `make(original)`; returns the original, or null (and
 * changes nothing) when wasm has no such kernel.
 */
export function overrideKernel(name: string, make: (original: tf.KernelFunc) => tf.KernelFunc): tf.KernelFunc | null {
  const original = tf.getKernel(name, 'wasm');
  if (!original) return null;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: make(original.kernelFunc) });
  return original.kernelFunc;
}

export const sizeOf = (shape: number[]) => shape.reduce((a, d) => a * d, 1);

/**
 * Per-batch copies of variables' buffers, keyed on the buffer's dataId and freed with it:
 * `plain[i]` is batch i as stored, `transposed[i]` its last two axes swapped.
 */
export interface VariableSlices {
  /** The [B,rows,cols] view the copies were cut by; a buffer seen with another is not cached. */
  shape: number[];
  plain?: tf.TensorInfo[];
  transposed?: tf.TensorInfo[];
  /** Uses as a transposed operand so far; the transposed copies are made on the second. */
  transposedUses: number;
}
const variableSlices = new Map<tf.DataId, VariableSlices>();
const hookedBackends = new WeakSet<object>();

function isVariableBuffer(dataId: tf.DataId): boolean {
  for (const v of Object.values(tf.engine().state.registeredVariables)) if (v.dataId === dataId) return true;
  return false;
}

/** Frees a buffer's cached slices when the buffer itself is freed (a variable assigned or disposed). */
function hookDisposal(b: WasmBackendLike): void {
  if (hookedBackends.has(b)) return;
  hookedBackends.add(b);
  const dispose = b.disposeData.bind(b);
  b.disposeData = (dataId, force) => {
    const freed = dispose(dataId, force);
    const entry = freed ? variableSlices.get(dataId) : undefined;
    if (entry) {
      variableSlices.delete(dataId);
      for (const t of [...(entry.plain ?? []), ...(entry.transposed ?? [])]) dispose(t.dataId, true);
    }
    return freed;
  };
}

/** The cache entry of a variable's buffer viewed as [B,rows,cols], or null when `t` is not a variable's. */
export function slicesOf(b: WasmBackendLike, t: tf.TensorInfo): VariableSlices | null {
  const [rows, cols] = t.shape.slice(-2);
  const shape = [sizeOf(t.shape) / (rows * cols), rows, cols];
  let entry = variableSlices.get(t.dataId);
  if (!entry) {
    if (!isVariableBuffer(t.dataId)) return null;
    hookDisposal(b);
    entry = { shape, transposedUses: 0 };
    variableSlices.set(t.dataId, entry);
  }
  return entry.shape.every((d, i) => d === shape[i]) ? entry : null;
}

/** Copies of each batch of a contiguous [B,rows,cols] buffer, as [1,rows,cols] (or [1,cols,rows] transposed). */
export function splitBatches(b: WasmBackendLike, t: tf.TensorInfo, transposed: boolean): tf.TensorInfo[] {
  const [rows, cols] = t.shape.slice(-2);
  const n = rows * cols;
  const B = sizeOf(t.shape) / n;
  const out: tf.TensorInfo[] = [];
  for (let j = 0; j < B; j++) {
    const o = b.makeOutput(transposed ? [1, cols, rows] : [1, rows, cols], t.dtype);
    // Views are taken after makeOutput: allocation may grow (and detach) the wasm heap.
    const ov = b.typedArrayFromHeap(o);
    const src = b.typedArrayFromHeap(t).subarray(j * n, (j + 1) * n);
    if (!transposed) ov.set(src);
    else for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) ov[c * rows + r] = src[r * cols + c];
    out.push(o);
  }
  return out;
}
