/** What the trainer needs from a language model, and the LM loss. */
import * as tf from '@tensorflow/tfjs';
import type { RoutingMetrics } from '../moe/layer.ts';

export interface LmForward {
  /** float32[B,S,V] */
  logits: tf.Tensor3D;
  /** Σ over MoE layers of balanceCoef·balance + zCoef·z. */
  auxLoss: tf.Scalar;
  /** Σ over MoE layers, no coefficient. */
  balanceLoss: tf.Scalar;
  /** Σ over MoE layers, no coefficient. */
  zLoss: tf.Scalar;
  moe: { layer: number; metrics: RoutingMetrics }[];
}

/** One MoE layer's loads of a step: what a router-bias update reads. */
export interface LayerLoad {
  /** The block index of the MoE layer. */
  layer: number;
  /** float32[E] the step's assignments per expert before capacity (`metrics.countsBefore`). */
  countsBefore: tf.Tensor1D;
}

export interface LanguageModel {
  forward(ids: tf.Tensor2D, opts: { training: boolean; seed?: number; returnExpertIndex?: boolean }): LmForward;
  /** The trained weights, by stable name: the optimizer's parameters. */
  namedVariables(): Record<string, tf.Variable>;
  /**
   * State that is not trained but changes what the model computes (the MoE layers' router
   * biases, biasUpdateRate > 0), by stable name: saved in checkpoints and restored on resume.
   * Absent or empty: none.
   */
  namedState?(): Record<string, tf.Variable>;
  /**
   * After a step's update, moves the state from the step's loads (`b_e += γ·sign(mean load −
   * load_e)` per layer); `ok` false (a non-finite step) leaves it as it is. Returns each updated
   * layer's bias, float32[E], for the step's metrics.
   */
  updateState?(loads: LayerLoad[], ok: tf.Scalar): { layer: number; routerBias: tf.Tensor1D }[];
  dispose(): void;
}

/**
 * Mean token cross-entropy (nats).
 * @param logits float32[B,S,V].
 * @param targets int32[B,S].
 */
export function crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const [B, S, V] = logits.shape;
    const N = B * S;
    const logp = tf.logSoftmax(tf.reshape(logits, [N, V])); // [N,V]
    const flat = tf.add(tf.range(0, N * V, V, 'int32'), tf.reshape(targets, [N])); // [N] index i·V + target
    return tf.neg(tf.mean(tf.gather(tf.reshape(logp, [N * V]), flat))) as tf.Scalar;
  });
}

/**
 * Correct next-token predictions, summed.
 * @param logits float32[B,S,V].
 * @param targets int32[B,S].
 */
export function correctCount(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 2), targets), 'float32')) as tf.Scalar);
}
