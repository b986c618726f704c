/**
 * What top1 and topk share once each token's choices are known: capacity, priority-ordered
 * slots, and gates that are zero for dropped assignments (no renormalisation after dropping).
 */
import * as tf from '@tensorflow/tfjs';
import { droplessCapacity, tokenChoiceCapacity } from '../capacity.ts';
import { assignmentSlots, expertLoads } from '../dispatch.ts';
import { log } from '../../util/log.ts';
import { packedRowTile } from '../packed-layout.ts';
import { gatherProbs, untaped } from './base.ts';
import type { RouteOptions, RouterProbs, TokenChoiceRouting } from './types.ts';

/**
 * @param choose returns int32[k,T] choices in priority order (run with the tape off).
 * @param gate maps the chosen probs float32[k,T] to gates float32[k,T] (before dropping).
 */
export function tokenChoice(
  base: RouterProbs,
  opts: RouteOptions,
  choose: () => tf.Tensor2D,
  gate: (picked: tf.Tensor2D) => tf.Tensor2D,
): TokenChoiceRouting {
  const [T, E] = base.probs.shape;
  const { k } = opts;
  const choices = untaped(choose); // [k,T]
  const countsBefore = expertLoads(choices, E); // [E]
  let capacity = tokenChoiceCapacity(opts.capacityFactor, k, T, E);
  if (capacity === null) capacity = droplessCapacity(largestLoad(countsBefore), T);
  const C = capacity;
  const slot = untaped(() => assignmentSlots(choices, E, C, opts.priority ?? 'choice')); // [k,T]
  const kept = tf.cast(tf.less(slot, E * C), 'float32'); // [k,T]
  const gates = tf.mul(gate(gatherProbs(base.probs, choices)), kept) as tf.Tensor2D; // [k,T]
  const countsKept = tf.minimum(countsBefore, C) as tf.Tensor1D; // [E]: slots fill in order, so min(load, C)
  return { ...base, kind: 'token-choice', k, capacity: C, choices, gates, slot, countsBefore, countsKept };
}

/**
 * The largest expert load that sizes a dropless capacity buffer (capacity.ts
 * `droplessCapacity`), or null where it is not read. Where the layer runs the packed layout
 * (webgpu with Switchyard's kernels), C = T only numbers the slots: the experts multiply the kept
 * rows, whose count stays on the device. Elsewhere the read is the layer's one device→CPU read,
 * and only in dropless mode (megablocks also reads its bin sizes back to build its topology). On
 * webgpu with tfjs's own ops (`SWITCHYARD_WEBGPU_MOE=builtin`) that read is impossible (no
 * synchronous read in Node), so the buffer is C = T: exact, but E·T rows of expert compute.
 * @param countsBefore float32[E] assignments per expert.
 */
function largestLoad(countsBefore: tf.Tensor1D): number | null {
  if (packedRowTile()) return null;
  if (tf.getBackend() === 'webgpu') {
    warnOnce('dropless routing on webgpu with tfjs ops sizes expert buffers at C = T (no synchronous read in Node): exact, but E·T rows of expert compute');
    return null;
  }
  return tf.tidy(() => tf.max(countsBefore).dataSync()[0]);
}

const warned = new Set<string>();
function warnOnce(msg: string): void {
  if (warned.has(msg)) return;
  warned.add(msg);
  log(msg);
}
