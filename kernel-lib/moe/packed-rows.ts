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
import { packedAttrs, type PackedAttrs, type PackedLayout } from './packed-layout.ts';

export const GATHER_ROWS = 'SwitchyardGatherRows';
export const COMBINE_ROWS = 'SwitchyardCombineRows';
export const ROW_DOTS = 'SwitchyardRowDots';

const call = (name: string, inputs: tf.NamedTensorMap, attrs: PackedAttrs): tf.Tensor => tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
const noGrad = (t: tf.Tensor) => () => tf.zeros(t.shape, 'float32');

let gradientsRegistered = false;

function registerGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: GATHER_ROWS,
    inputsToSave: ['x', 'scale', 'layout'],
    gradFunc: (dy, [x, scale, layout], attrs) => {
      const a = attrs as unknown as PackedAttrs;
      return {
        x: () => call(COMBINE_ROWS, { src: dy as tf.Tensor, scale, layout }, a),
        scale: () => tf.reshape(call(ROW_DOTS, { src: dy as tf.Tensor, y: x, layout }, a), scale.shape),
        layout: noGrad(layout),
      };
    },
  });
  tf.registerGradient({
    kernelName: COMBINE_ROWS,
    inputsToSave: ['src', 'scale', 'layout'],
    gradFunc: (dy, [src, scale, layout], attrs) => {
      const a = attrs as unknown as PackedAttrs;
      return {
        src: () => call(GATHER_ROWS, { x: dy as tf.Tensor, scale, layout }, a),
        scale: () => tf.reshape(call(ROW_DOTS, { src, y: dy as tf.Tensor, layout }, a), scale.shape),
        layout: noGrad(layout),
      };
    },
  });
  tf.registerGradient({
    kernelName: ROW_DOTS,
    inputsToSave: ['src', 'y', 'layout'],
    gradFunc: (dy, [src, y, layout], attrs) => {
      const a = attrs as unknown as PackedAttrs;
      const dd = tf.reshape(dy as tf.Tensor, [a.k * a.numTokens]);
      return {
        src: () => call(GATHER_ROWS, { x: y, scale: dd, layout }, a),
        y: () => call(COMBINE_ROWS, { src, scale: dd, layout }, a),
        layout: noGrad(layout),
      };
    },
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
