/**
 * The experts' batched matmul over the capacity buffer, told how many of each expert's C slots
 * are filled, so that a backend can skip the empty ones (megablocks' point: padding is work
 * done on nothing). At capacity factor 1.25 a quarter of the rows are padding by construction,
 * more when routing is unbalanced.
 *
 * Semantics (every backend): slots fill in order (positions 0..count-1, dispatch.ts), so the
 * rows j ≥ filled[e] of expert e are empty. Empty rows contribute nothing: the output rows of
 * an empty slot are 0, and a contraction over slots adds only the filled ones. The dispatch
 * buffer's empty rows are zero, so a plain `tf.matMul` over all C rows computes exactly this
 * for finite weights; that is what backends without the kernel run.
 *
 * The kernel `SwitchyardExpertMatMul` (inputs a, b, filled; attrs transposeA, transposeB) is
 * registered for wasm (backend/wasm-matmul.ts) and webgpu (backend/webgpu-moe-kernels.ts). Its
 * gradient is registered here, once.
 * Gradient: ∂b sums over filled slots (the same everywhere, as a's empty rows are zero); ∂a on
 * empty rows is 0 with the kernel and dy·bᵀ with the plain matMul. In the layer dy is 0 there
 * (combine reads no empty slot), so the layer's gradients agree on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { EXPERT_MATMUL, type ExpertMatMulAttrs } from '../kernels/contracts.ts';
import { ownKernel, registerGradientOnce } from './own-kernels.ts';

/** `run(x, y, transposeA, transposeB)`: the same kernel on other operands. */
type RunProduct = (x: tf.Tensor, y: tf.Tensor, transposeA: boolean, transposeB: boolean) => tf.Tensor;

/**
 * Gradients of a grouped product `y = op(a)·op(b)` whose rows are grouped by expert (this file's
 * kernel, and moe/grouped-matmul.ts's): each form's gradients are the other forms, so gradients
 * of gradients work too. Rows of g outside the filled rows are ignored, and products over the
 * rows add filled rows only.
 */
export function groupedProductGrads(a: tf.Tensor, b: tf.Tensor, g: tf.Tensor, transposeA: boolean, transposeB: boolean, run: RunProduct): { a: () => tf.Tensor; b: () => tf.Tensor } {
  // y = a·b: a [..,P], b [E,P,Q], g [..,Q].
  if (!transposeA && !transposeB) return { a: () => run(g, b, false, true), b: () => run(a, g, true, false) };
  // y = a·bᵀ: a [..,P], b [E,Q,P], g [..,Q].
  if (!transposeA) return { a: () => run(g, b, false, false), b: () => run(g, a, true, false) };
  // y = aᵀ·b over the rows: a [..,P], b [..,Q], g [E,P,Q].
  if (!transposeB) return { a: () => run(b, g, false, true), b: () => run(a, g, false, false) };
  throw new Error('grouped matmul: transposeA and transposeB together are not supported');
}

function registerGradient(): void {
  registerGradientOnce({
    kernelName: EXPERT_MATMUL,
    inputsToSave: ['a', 'b', 'filled'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b, filled] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor1D];
      const { transposeA, transposeB } = attrs as unknown as ExpertMatMulAttrs;
      const grads = groupedProductGrads(a, b, dy as tf.Tensor, transposeA, transposeB, (x, y, ta, tb) => run(x as tf.Tensor3D, y as tf.Tensor3D, filled, ta, tb));
      // filled is a count: no gradient (as for gather's indices), but tfjs wants an entry when it
      // was computed on the tape.
      return { ...grads, filled: () => tf.zeros(filled.shape, 'float32') };
    },
  });
}

/** Whether the current backend has the kernel, i.e. computes only filled slots. */
export function skipsEmptySlots(): boolean {
  return ownKernel(EXPERT_MATMUL);
}

function run(a: tf.Tensor3D, b: tf.Tensor3D, filled: tf.Tensor1D, transposeA: boolean, transposeB: boolean): tf.Tensor3D {
  if (!skipsEmptySlots()) return tf.matMul(a, b, transposeA, transposeB);
  return tf.engine().runKernel(EXPERT_MATMUL, { a, b, filled }, { transposeA, transposeB } satisfies ExpertMatMulAttrs as unknown as tf.NamedAttrMap) as tf.Tensor3D;
}

/**
 * `a[e] · b[e]` for every expert, skipping empty capacity slots where the backend can.
 * @param a float32[E,C,K] the capacity buffer (rows j ≥ filled[e] empty, and zero).
 * @param b float32[E,K,N] the experts' weights.
 * @param filled int32[E] filled slots per expert (values above C are read as C).
 * @returns float32[E,C,N], rows j ≥ filled[e] zero.
 */
export function expertMatMul(a: tf.Tensor3D, b: tf.Tensor3D, filled: tf.Tensor1D): tf.Tensor3D {
  const [E, , K] = a.shape;
  if (b.rank !== 3 || b.shape[0] !== E || b.shape[1] !== K) {
    throw new Error(`expertMatMul: a is [${a.shape.join(',')}], so b must be [${E},${K},N]; got [${b.shape.join(',')}]`);
  }
  if (filled.rank !== 1 || filled.shape[0] !== E || filled.dtype !== 'int32') {
    throw new Error(`expertMatMul: filled must be int32[${E}], got ${filled.dtype}[${filled.shape.join(',')}]`);
  }
  registerGradient();
  return run(a, b, filled, false, false);
}
