/**
 * Expert Choice routing (Zhou et al. 2022): each expert takes the
 * `C = min(T, ceil(capacityFactor · T / E))` tokens it scores highest (`probs[·,e]`), so experts
 * are perfectly balanced by construction and a token may get 0..E experts. The choice looks at
 * the whole group, including later tokens: in a causal LM that leaks the future.
 */
import * as tf from '@tensorflow/tfjs';
import { oneHotFloat } from '../onehot.ts';
import { expertChoiceCapacity } from '../capacity.ts';
import { biasRefusedBecause } from '../config.ts';
import { routerProbs, untaped } from './base.ts';
import type { ExpertChoiceRouting, RouteOptions } from './types.ts';

/**
 * @param x float32[T,D] layer input.
 * @param routerWeight float32[D,E].
 */
export function expertChoiceRouter(x: tf.Tensor2D, routerWeight: tf.Tensor2D, opts: RouteOptions): ExpertChoiceRouting {
  if (opts.bias) throw new Error(`expert-choice router: got a router bias float32[${opts.bias.shape.join(',')}]; ${biasRefusedBecause('expert-choice')}`);
  const base = routerProbs(x, routerWeight, opts);
  const [T, E] = base.probs.shape;
  const C = expertChoiceCapacity(opts.capacityFactor, T, E);
  // Top-C tokens per expert; tfjs's topk puts the lower index first among equal values.
  const tokenIndex = untaped(() => tf.topk(tf.transpose(base.probs), C).indices as tf.Tensor2D); // [E,C]
  const expertOfSlot = tf.tile(tf.range(0, E, 1, 'int32').reshape([E, 1]), [1, C]); // [E,C]
  const flat = tf.add(tf.mul(tokenIndex, tf.scalar(E, 'int32')), expertOfSlot); // [E,C] flat index t·E + e into probs
  const gates = tf.reshape(tf.gather(tf.reshape(base.probs, [T * E]), tf.reshape(flat, [E * C])), [E, C]) as tf.Tensor2D; // [E,C]
  const coverage = tf.unsortedSegmentSum(tf.ones([E * C]), tf.reshape(tokenIndex, [E * C]), T) as tf.Tensor1D; // [T]
  const countsBefore = tf.sum(oneHotFloat(base.top1, E), 0) as tf.Tensor1D; // [E]
  const countsKept = tf.fill([E], C, 'float32') as tf.Tensor1D; // [E]
  return { ...base, kind: 'expert-choice', capacity: C, tokenIndex, gates, countsBefore, countsKept, coverage };
}
