/**
 * Fused dispatch and combine over the packed layout (packed-layout.ts), each one kernel. With a =
 * j·T + t the assignment of token t's (j+1)-th choice, row(a) its packed row and t(r), a(r) the
 * token and assignment in row r:
 *
 *   gatherRows(x, s)[r]   = s[a(r)] · x[t(r)]              (dispatch with s = 1; 0 on padding)
 *   combineRows(z, s)[t]  = Σ_j s[j,t] · z[row(j,t)]        (combine with s = gates; dropped: 0)
 *   rowDots(z, y)[a]      = z[row(a)] · y[t(a)]            (the gates' gradient; dropped: 0)
 *
 * Each is linear in each float input, and their gradients are each other (registered here):
 *   gatherRows:  ∂x = combineRows(dy, s),  ∂s = rowDots(dy, x)
 *   combineRows: ∂z = gatherRows(dy, s),   ∂s = rowDots(z, dy)
 *   rowDots:     ∂z = gatherRows(y, dd),   ∂y = combineRows(z, dd)
 * Kernels `SwitchyardGatherRows` (x, scale, layout), `SwitchyardCombineRows` (src, scale,
 * layout), `SwitchyardRowDots` (src, y, layout), all with the layout's PackedAttrs; registered
 * for webgpu (backend/webgpu-moe-kernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { COMBINE_ROWS, GATHER_ROWS, ROW_DOTS, type PackedAttrs } from '../kernels/contracts.ts';
import { registerGradientOnce } from './own-kernels.ts';
import { packedAttrs, type PackedLayout } from './packed-layout.ts';

const call = (name: string, inputs: tf.NamedTensorMap, attrs: PackedAttrs): tf.Tensor => tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;

type Lazy = () => tf.Tensor;

/**
 * Registers the gradient of a packed kernel with float inputs u, v and the layout (no gradient:
 * an index, but tfjs wants an entry when it was computed on the tape).
 */
function registerPackedGradient(kernelName: string, [u, v]: [string, string], grads: (dy: tf.Tensor, u: tf.Tensor, v: tf.Tensor, layout: tf.Tensor, a: PackedAttrs) => [Lazy, Lazy]): void {
  registerGradientOnce({
    kernelName,
    inputsToSave: [u, v, 'layout'],
    gradFunc: (dy, [uT, vT, layout], attrs) => {
      const [du, dv] = grads(dy as tf.Tensor, uT, vT, layout, attrs as unknown as PackedAttrs);
      return { [u]: du, [v]: dv, layout: () => tf.zeros(layout.shape, 'float32') };
    },
  });
}

function registerGradients(): void {
  registerPackedGradient(GATHER_ROWS, ['x', 'scale'], (dy, x, scale, layout, a) => [
    () => call(COMBINE_ROWS, { src: dy, scale, layout }, a),
    () => tf.reshape(call(ROW_DOTS, { src: dy, y: x, layout }, a), scale.shape),
  ]);
  registerPackedGradient(COMBINE_ROWS, ['src', 'scale'], (dy, src, scale, layout, a) => [
    () => call(GATHER_ROWS, { x: dy, scale, layout }, a),
    () => tf.reshape(call(ROW_DOTS, { src, y: dy, layout }, a), scale.shape),
  ]);
  registerPackedGradient(ROW_DOTS, ['src', 'y'], (dy, src, y, layout, a) => {
    const dd = tf.reshape(dy, [a.k * a.numTokens]);
    return [() => call(GATHER_ROWS, { x: y, scale: dd, layout }, a), () => call(COMBINE_ROWS, { src, scale: dd, layout }, a)];
  });
}

function checkScale(name: string, scale: tf.Tensor, l: PackedLayout): void {
  if (scale.size !== l.k * l.numTokens || scale.dtype !== 'float32') {
    throw new Error(`${name}: scale must be float32[${l.k},${l.numTokens}], got ${scale.dtype}[${scale.shape.join(',')}]`);
  }
}

/**
 * Dispatch: each packed row gets its token, scaled.
 * @param x float32[T,D].
 * @param scale float32[k,T] per assignment (ones for plain dispatch).
 * @returns float32[R,D], padding rows 0.
 */
export function gatherRows(x: tf.Tensor2D, scale: tf.Tensor, layout: PackedLayout): tf.Tensor2D {
  if (x.rank !== 2 || x.shape[0] !== layout.numTokens) throw new Error(`gatherRows: x must be [${layout.numTokens},D], got [${x.shape.join(',')}]`);
  checkScale('gatherRows', scale, layout);
  registerGradients();
  return call(GATHER_ROWS, { x, scale, layout: layout.buffer }, packedAttrs(layout)) as tf.Tensor2D;
}

/**
 * Combine: each token's kept rows, scaled and summed.
 * @param src float32[R,D] packed rows.
 * @param scale float32[k,T] per assignment (the gates).
 * @returns float32[T,D].
 */
export function combineRows(src: tf.Tensor2D, scale: tf.Tensor, layout: PackedLayout): tf.Tensor2D {
  if (src.rank !== 2 || src.shape[0] !== layout.rows) throw new Error(`combineRows: src must be [${layout.rows},D], got [${src.shape.join(',')}]`);
  checkScale('combineRows', scale, layout);
  registerGradients();
  return call(COMBINE_ROWS, { src, scale, layout: layout.buffer }, packedAttrs(layout)) as tf.Tensor2D;
}
