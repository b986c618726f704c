/**
 * GShard-style top-k routing (Lepikhin et al. 2020; Shazeer et al. 2017): each token goes to its
 * k most probable experts with gates renormalised to sum to 1 over the k chosen. With a router
 * bias the k are the largest of probs + bias (DeepSeek-V3), the gates still the probs renormalised. Capacity
 * `C = ceil(capacityFactor · k · T / E)`. With k = 1 the gate is always 1 and the router gets no
 * gradient from the output (only from the auxiliary losses): use `top1` for Switch.
 */
import * as tf from '@tensorflow/tfjs';
import { routerProbs } from './base.ts';
import { tokenChoice } from './token-choice.ts';
import type { RouteOptions, TokenChoiceRouting } from './types.ts';

/**
 * @param x float32[T,D] layer input.
 * @param routerWeight float32[D,E].
 */
export function topkRouter(x: tf.Tensor2D, routerWeight: tf.Tensor2D, opts: RouteOptions): TokenChoiceRouting {
  const base = routerProbs(x, routerWeight, opts);
  return tokenChoice(
    base,
    opts,
    () => tf.transpose(tf.topk(base.scores, opts.k).indices) as tf.Tensor2D, // [T,k] → [k,T]; lower index first among equal scores
    (picked) => tf.div(picked, tf.sum(picked, 0, true)) as tf.Tensor2D, // renormalise over the k choices
  );
}
