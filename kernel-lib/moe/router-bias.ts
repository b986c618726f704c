/**
 * Balancing without an auxiliary loss (Wang et al. 2024, arXiv 2408.15664, Algorithm 1;
 * DeepSeek-V3 §2.1.2): each MoE layer holds a bias b[E] that token choice adds to the router's
 * probabilities to choose experts (routing/base.ts `selectionScores`), never to weigh them. After
 * each training step the bias moves towards balance, `b_e ← b_e + γ·sign(mean load − load_e)`:
 * an overloaded expert's bias falls, an underloaded one's rises, an expert at the mean load keeps
 * its bias. The bias is state, not a trained weight: it gets no gradient.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * One bias update, on the device (nothing is read back).
 * @param bias float32[E] the bias the step routed with.
 * @param load float32[E] the step's assignments per expert as the router chose them (the layer's
 *   `countsBefore`: before any capacity limit), summed over the group.
 * @param rate γ ≥ 0.
 * @param ok bool scalar, optional: false (a non-finite step) leaves the bias as it is, exactly.
 * @returns float32[E] the new bias.
 */
export function routerBiasUpdate(bias: tf.Tensor1D, load: tf.Tensor1D, rate: number, ok?: tf.Scalar): tf.Tensor1D {
  if (bias.rank !== 1 || load.rank !== 1 || bias.shape[0] !== load.shape[0]) {
    throw new Error(`routerBiasUpdate: bias [${bias.shape.join(',')}] and load [${load.shape.join(',')}] must both be [E]`);
  }
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new Error(`routerBiasUpdate: rate γ must be a finite number ≥ 0, got ${rate}`);
  return tf.tidy(() => {
    let step = tf.mul(tf.sign(tf.sub(tf.mean(load), load)), rate); // [E] ±γ or 0
    // Arithmetic masking, as AdamW's: a finite step times 0 is exactly 0, so a skipped step changes no bit.
    if (ok) step = tf.mul(step, tf.cast(ok, 'float32'));
    return tf.add(bias, step) as tf.Tensor1D; // [E]
  });
}
