/**
 * Balance: Switch's auxiliary load-balancing loss against loss-free balancing by a router bias
 * (Wang et al. 2024, arXiv 2408.15664; DeepSeek-V3), both and neither, for top-1 and top-2.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
import { analyze } from './analysis.ts';
import { differences, sweep } from './sweep.ts';

export const balance: Experiment = {
  name: 'balance',
  title: 'Balancing expert load: auxiliary loss vs loss-free bias',
  summary:
    'Wang et al. (2024) balance expert load without an auxiliary loss: a per-expert bias, added to the router\'s '
      + 'scores only to choose experts, rises for under-loaded experts and falls for over-loaded ones after every '
      + 'step. They report better balance and better quality than the auxiliary loss. Here top-1 and top-2 train '
      + 'with the loss, the bias, both and neither, at training capacity factor 1.0, several seeds each.',
  sweep,
  differences,
  analyze,
};
