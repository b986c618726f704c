/**
 * Switch routing (Fedus et al. 2021, §2.1): each token goes to its argmax expert with gate
 * `probs[t,e]`, not renormalised, so the gate carries the router's gradient (eq. 2).
 * Capacity `C = ceil(capacityFactor · T / E)` (eq. 3). With a router bias the expert is the
 * argmax of probs + bias (DeepSeek-V3) and the gate still `probs[t,e]`.
 */
import type * as tf from '@tensorflow/tfjs';
import { routerProbs } from './base.ts';
import { tokenChoice } from './token-choice.ts';
import type { RouteOptions, TokenChoiceRouting } from './types.ts';

/**
 * @param x float32[T,D] layer input.
 * @param routerWeight float32[D,E].
 */
export function top1Router(x: tf.Tensor2D, routerWeight: tf.Tensor2D, opts: RouteOptions): TokenChoiceRouting {
  const base = routerProbs(x, routerWeight, opts);
  return tokenChoice(base, { ...opts, k: 1 }, () => base.top1.reshape([1, -1]) as tf.Tensor2D, (picked) => picked);
}
