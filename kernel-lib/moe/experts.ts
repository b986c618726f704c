/**
 * The experts: E independent FFNs run as one batched matmul over the [E,C,D] dispatch buffer.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation } from './config.ts';

/** Elementwise activation. gelu is the exact erf form, `x·Φ(x)` (Hendrycks & Gimpel 2016). */
export function activate(h: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(h);
    case 'gelu':
      return tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2))));
    default:
      throw new Error(`unknown activation '${String(activation)}' (choose relu, gelu)`);
  }
}

export interface ExpertOptions {
  activation: Activation;
  /** Dropout on the hidden activations (expert dropout), applied only when training. */
  dropout: number;
  training: boolean;
  seed?: number;
}

/**
 * `FFN_e(v) = act(v · w1[e]) · w2[e]` for every expert at once.
 * @param inputs float32[E,C,D].
 * @param w1 float32[E,D,F].
 * @param w2 float32[E,F,D].
 * @returns float32[E,C,D].
 */
export function expertFfn(inputs: tf.Tensor3D, w1: tf.Tensor3D, w2: tf.Tensor3D, opts: ExpertOptions): tf.Tensor3D {
  let h = activate(tf.matMul(inputs, w1), opts.activation); // [E,C,F]
  if (opts.training && opts.dropout > 0) h = tf.dropout(h, opts.dropout, undefined, opts.seed);
  return tf.matMul(h, w2) as tf.Tensor3D; // [E,C,D]
}
