/**
 * The experts' matmul over the packed layout (packed-layout.ts): rows r of expert e's segment
 * are multiplied by expert e's weights; padding and unused rows give 0.
 *
 * Kernel `SwitchyardGroupedMatMul` (inputs a, b, layout; attrs transposeA, transposeB and the
 * layout's PackedAttrs), registered for webgpu (backend/webgpu-moe-kernels.ts):
 *   a [R,P] · b [E,P,Q] → [R,Q];  a [R,P] · b[E,Q,P]ᵀ → [R,Q];  a[R,P]ᵀ · b[R,Q] → [E,P,Q]
 *   summed over each expert's filled rows only.
 * Gradients: expert-matmul.ts's `groupedProductGrads`, as for the capacity-buffer kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { GROUPED_MATMUL, type ExpertMatMulAttrs, type PackedAttrs } from '../kernels/contracts.ts';
import { groupedProductGrads } from './expert-matmul.ts';
import { registerGradientOnce } from './own-kernels.ts';
import { packedAttrs, type PackedLayout } from './packed-layout.ts';

function registerGradient(): void {
  registerGradientOnce({
    kernelName: GROUPED_MATMUL,
    inputsToSave: ['a', 'b', 'layout'],
    gradFunc: (dy, [a, b, layout], attrs) => {
      const { transposeA, transposeB } = attrs as unknown as ExpertMatMulAttrs;
      const grads = groupedProductGrads(a, b, dy as tf.Tensor, transposeA, transposeB, (x, y, ta, tb) => run(x, y, layout, { ...(attrs as unknown as PackedAttrs) }, ta, tb));
      return { ...grads, layout: () => tf.zeros(layout.shape, 'float32') };
    },
  });
}

function run(a: tf.Tensor, b: tf.Tensor, layout: tf.Tensor, attrs: PackedAttrs, transposeA: boolean, transposeB: boolean): tf.Tensor {
  return tf.engine().runKernel(GROUPED_MATMUL, { a, b, layout }, { ...attrs, transposeA, transposeB } satisfies PackedAttrs & ExpertMatMulAttrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * `a[r] · b[e]` for every filled row r of every expert e.
 * @param a float32[R,K] packed rows (padding rows zero).
 * @param b float32[E,K,N] the experts' weights.
 * @returns float32[R,N], padding and unused rows 0.
 */
export function groupedMatMul(a: tf.Tensor2D, b: tf.Tensor3D, layout: PackedLayout): tf.Tensor2D {
  const { rows: R, numExperts: E } = layout;
  const K = a.shape[1];
  if (a.rank !== 2 || a.shape[0] !== R) throw new Error(`groupedMatMul: a must be [${R},K] (the layout's rows), got [${a.shape.join(',')}]`);
  if (b.rank !== 3 || b.shape[0] !== E || b.shape[1] !== K) {
    throw new Error(`groupedMatMul: a is [${a.shape.join(',')}], so b must be [${E},${K},N]; got [${b.shape.join(',')}]`);
  }
  registerGradient();
  return run(a, b, layout.buffer, packedAttrs(layout), false, false) as tf.Tensor2D;
}
