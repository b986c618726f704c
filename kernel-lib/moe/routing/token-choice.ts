/**
 * What top1 and topk share once each token's choices are known: capacity, priority-ordered
 * slots, and gates that are zero for dropped assignments (no renormalisation after dropping).
 */
import * as tf from '@tensorflow/tfjs';
import { roundCapacity, tokenChoiceCapacity } from '../capacity.ts';
import { assignmentSlots, expertLoads } from '../dispatch.ts';
import { log } from '../../util/log.ts';
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
  if (capacity === null) capacity = droplessCapacity(countsBefore, T);
  const C = capacity;
  const slot = untaped(() => assignmentSlots(choices, E, C, opts.priority ?? 'choice')); // [k,T]
  const kept = tf.cast(tf.less(slot, E * C), 'float32'); // [k,T]
  const gates = tf.mul(gate(gatherProbs(base.probs, choices)), kept) as tf.Tensor2D; // [k,T]
  const countsKept = tf.minimum(countsBefore, C) as tf.Tensor1D; // [E]: slots fill in order, so min(load, C)
  return { ...base, kind: 'token-choice', k, capacity: C, choices, gates, slot, countsBefore, countsKept };
}

/**
 * Dropless capacity: the largest expert load, so nothing is dropped. Sizing the buffers needs
 * that number on the CPU: the layer's one device→CPU read, and only in dropless mode (megablocks
 * also reads its bin sizes back to build its topology). WebGPU under Node has no synchronous
 * read (tfjs's readSync needs an OffscreenCanvas), so there the capacity is T, the worst case:
 * exact, but the experts then compute E·T rows instead of about k·T.
 * @param countsBefore float32[E] assignments per expert.
 */
function droplessCapacity(countsBefore: tf.Tensor1D, T: number): number {
  if (tf.getBackend() === 'webgpu') {
    warnOnce('dropless routing on webgpu sizes expert buffers at C = T (no synchronous read in Node): exact, but E·T rows of expert compute');
    return T;
  }
  return roundCapacity(tf.tidy(() => tf.max(countsBefore).dataSync()[0]), T);
}

const warned = new Set<string>();
function warnOnce(msg: string): void {
  if (warned.has(msg)) return;
  warned.add(msg);
  log(msg);
}
