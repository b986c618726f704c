/**
 * The experts: E independent FFNs run as one batched matmul over the [E,C,D] dispatch buffer,
 * or as one grouped matmul over the packed rows (packed-layout.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation } from './config.ts';
import { expertMatMul } from './expert-matmul.ts';
import { groupedMatMul } from './grouped-matmul.ts';
import type { PackedLayout } from './packed-layout.ts';

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
 * @param filled int32[E] filled slots per expert when slots fill in order (token choice): the
 *   rest are empty, their output rows 0, and a backend may skip them (expert-matmul.ts).
 *   Omitted: every slot is computed (expert choice fills all C).
 * @returns float32[E,C,D].
 */
export function expertFfn(inputs: tf.Tensor3D, w1: tf.Tensor3D, w2: tf.Tensor3D, opts: ExpertOptions, filled?: tf.Tensor1D): tf.Tensor3D {
  const mm = (a: tf.Tensor3D, b: tf.Tensor3D) => (filled ? expertMatMul(a, b, filled) : (tf.matMul(a, b) as tf.Tensor3D));
  return ffn(inputs, w1, w2, opts, mm); // [E,C,D]
}

/**
 * The same FFNs over the packed layout: row r goes through its expert's weights.
 * @param rows float32[R,D] (packed-rows.ts `gatherRows`), padding rows zero.
 * @param w1 float32[E,D,F].
 * @param w2 float32[E,F,D].
 * @returns float32[R,D], padding rows 0.
 */
export function packedExpertFfn(rows: tf.Tensor2D, w1: tf.Tensor3D, w2: tf.Tensor3D, opts: ExpertOptions, layout: PackedLayout): tf.Tensor2D {
  return ffn(rows, w1, w2, opts, (a, b) => groupedMatMul(a, b, layout)); // [R,D]
}

function ffn<X extends tf.Tensor>(x: X, w1: tf.Tensor3D, w2: tf.Tensor3D, opts: ExpertOptions, mm: (a: X, b: tf.Tensor3D) => X): X {
  // act(0) = 0 for relu and gelu, so empty slots and padding rows stay zero through the activation.
  let h = activate(mm(x, w1), opts.activation) as X; // [..,F]
  if (opts.training && opts.dropout > 0) h = tf.dropout(h, opts.dropout, undefined, opts.seed) as X;
  return mm(h, w2); // [..,D]
}
