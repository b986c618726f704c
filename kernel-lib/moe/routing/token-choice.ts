/**
 * What top1 and topk share once each token's choices are known: capacity, priority-ordered
 * slots, and gates that are zero for dropped assignments (no renormalisation after dropping).
 */
import * as tf from '@tensorflow/tfjs';
import { roundCapacity, tokenChoiceCapacity } from '../capacity.ts';
import { assignmentSlots, expertLoads } from '../dispatch.ts';
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
  if (capacity === null) {
    // Dropless: size the buffers by the largest load. This is the layer's one GPU→CPU read, and
    // only in dropless mode (megablocks also reads its bin sizes back to build the topology).
    const maxLoad = tf.tidy(() => tf.max(countsBefore).dataSync()[0]);
    capacity = roundCapacity(maxLoad, T);
  }
  const C = capacity;
  const slot = untaped(() => assignmentSlots(choices, E, C, opts.priority ?? 'choice')); // [k,T]
  const kept = tf.cast(tf.less(slot, E * C), 'float32'); // [k,T]
  const gates = tf.mul(gate(gatherProbs(base.probs, choices)), kept) as tf.Tensor2D; // [k,T]
  const countsKept = tf.minimum(countsBefore, C) as tf.Tensor1D; // [E]: slots fill in order, so min(load, C)
  return { ...base, kind: 'token-choice', k, capacity: C, choices, gates, slot, countsBefore, countsKept };
}
