/**
 * Capacity, dispatch and combine for token-choice routing, as pure functions (megablocks style).
 *
 * No [T,E,C] one-hot tensor is ever built: slots are computed with a cumulative count over the
 * [k·T,E] assignment one-hot (the size of the router's own logits), tokens are moved with a
 * gather into an [E·C,D] buffer, and results come back with a gather and a sum over the k
 * choices. Memory and time stay flat in E at fixed T and expert size.
 */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../util/sum.ts';
import type { Priority } from './config.ts';
import { oneHotFloat } from './onehot.ts';
import { hasPositionsKernel, positionsKernel } from './positions.ts';

/**
 * Per-expert assignment counts.
 * @param choices int32[k,T].
 * @returns float32[E].
 */
export function expertLoads(choices: tf.Tensor2D, numExperts: number): tf.Tensor1D {
  return tf.tidy(() => tf.sum(oneHotFloat(tf.reshape(choices, [-1]) as tf.Tensor1D, numExperts), 0) as tf.Tensor1D);
}

/**
 * Slot of every assignment in its expert's buffer, in priority order: every token's 1st
 * choice in token order, then every 2nd choice, and so on (GShard §2.2; Switch §2.2 with k = 1).
 * An assignment whose expert already holds C earlier ones is dropped.
 * With `priority: 'token'`, token t's choices all come before token t+1's instead (causal).
 * @param choices int32[k,T] row j = each token's (j+1)-th choice.
 * @param capacity C ≥ 1.
 * @returns int32[k,T]: e·C + position when kept, E·C when dropped.
 */
export function assignmentSlots(choices: tf.Tensor2D, numExperts: number, capacity: number, priority: Priority = 'choice'): tf.Tensor2D {
  return tf.tidy(() => {
    const [k, T] = choices.shape;
    const ordered = priority === 'choice' ? choices : tf.transpose(choices); // [k,T] or [T,k]
    const flat = tf.reshape(ordered, [k * T]) as tf.Tensor1D; // [kT] in priority order
    const slots = hasPositionsKernel() ? positionsKernel(flat, numExperts, capacity) : cumsumSlots(flat, numExperts, capacity); // [kT]
    return (priority === 'choice' ? tf.reshape(slots, [k, T]) : tf.transpose(tf.reshape(slots, [T, k]))) as tf.Tensor2D; // [k,T]
  });
}

/** assignmentSlots' rule with tfjs ops: a cumulative count over the [k·T,E] one-hot. */
function cumsumSlots(flat: tf.Tensor1D, numExperts: number, capacity: number): tf.Tensor1D {
  const onehot = oneHotFloat(flat, numExperts); // [kT,E]
  // Assignments to the same expert ahead in priority order; float32 counts are exact below 2^24.
  const ahead = tf.cumsum(onehot, 0, true); // [kT,E]
  const position = tf.cast(tf.sum(tf.mul(ahead, onehot), 1), 'int32'); // [kT]
  const kept = tf.less(position, capacity);
  const slot = tf.add(tf.mul(flat, tf.scalar(capacity, 'int32')), position); // int32: a bare JS number would upcast to float32
  return tf.where(kept, slot, tf.fill([flat.shape[0]], numExperts * capacity, 'int32')) as tf.Tensor1D; // [kT]
}

/**
 * Which token fills each expert slot (1-based; 0 = empty slot).
 * @param slot int32[k,T] from `assignmentSlots`.
 * @returns int32[E·C].
 */
export function slotTokens(slot: tf.Tensor2D, numExperts: number, capacity: number): tf.Tensor1D {
  return tf.tidy(() => {
    const [k, T] = slot.shape;
    const tokenIds = tf.tile(tf.range(1, T + 1, 1, 'int32').reshape([1, T]), [k, 1]); // [k,T]
    // Kept slots are unique; every dropped assignment lands in the extra trash slot E·C, cut off below.
    const filled = tf.scatterND(tf.reshape(slot, [k * T, 1]), tf.reshape(tokenIds, [k * T]), [numExperts * capacity + 1]); // [E·C+1]
    return tf.slice(filled, 0, numExperts * capacity) as tf.Tensor1D; // [E·C]
  });
}

/**
 * Moves tokens into their experts' buffers; empty slots hold zeros.
 * @param x float32[T,D].
 * @param slotToken int32[E·C] from `slotTokens`.
 * @returns float32[E,C,D].
 */
export function dispatch(x: tf.Tensor2D, slotToken: tf.Tensor1D, numExperts: number, capacity: number): tf.Tensor3D {
  return tf.tidy(() => {
    const D = x.shape[1];
    const xPad = tf.concat([tf.zeros([1, D]), x], 0); // [T+1,D]: row 0 feeds empty slots
    return tf.reshape(tf.gather(xPad, slotToken), [numExperts, capacity, D]) as tf.Tensor3D; // [E,C,D]
  });
}

/**
 * Brings expert outputs back to their tokens: `y[t] = Σ_j gates[j,t] · out[slot[j,t]]`.
 * Dropped assignments read a zero row (and their gates are zero), so they add nothing; the
 * block's residual connection carries such a token on unchanged.
 * @param expertOut float32[E,C,D].
 * @param slot int32[k,T].
 * @param gates float32[k,T].
 * @returns float32[T,D].
 */
export function combine(expertOut: tf.Tensor3D, slot: tf.Tensor2D, gates: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [E, C, D] = expertOut.shape;
    const [k, T] = slot.shape;
    const outPad = tf.concat([tf.reshape(expertOut, [E * C, D]), tf.zeros([1, D])], 0); // [E·C+1,D]: last row for drops
    // One gather and scale per choice, then pairwise adds: a sum over the leading axis of a
    // [k,T,D] tensor would make tfjs-webgpu transpose it and run a reduction per output element
    // (500 ms of a 2.6 s step on lavapipe at k = 1).
    const perChoice = Array.from({ length: k }, (_, j) => {
      const picked = tf.gather(outPad, tf.reshape(tf.slice(slot, [j, 0], [1, T]), [T])); // [T,D]
      return tf.mul(picked, tf.reshape(tf.slice(gates, [j, 0], [1, T]), [T, 1])); // [T,D]
    });
    return sumTensors(perChoice) as tf.Tensor2D; // [T,D]
  });
}

/**
 * Expert-choice combine: `y[t] = Σ_{(e,c): token[e,c]=t} gates[e,c] · out[e,c]`.
 * @param expertOut float32[E,C,D].
 * @param tokenIndex int32[E,C].
 * @param gates float32[E,C].
 * @returns float32[T,D].
 */
export function combineExpertChoice(expertOut: tf.Tensor3D, tokenIndex: tf.Tensor2D, gates: tf.Tensor2D, numTokens: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [E, C, D] = expertOut.shape;
    const weighted = tf.mul(tf.reshape(expertOut, [E * C, D]), tf.reshape(gates, [E * C, 1])); // [E·C,D]
    return tf.unsortedSegmentSum(weighted, tf.reshape(tokenIndex, [E * C]), numTokens) as tf.Tensor2D; // [T,D]
  });
}
