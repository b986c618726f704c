/**
 * Routing: token choice (top-1, top-2) vs Expert Choice (Zhou et al. 2022), and the
 * load-balancing coefficient of Switch eq. 4 from 1e-1 to 1e-5.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
import { analyze } from './analysis.ts';
import { differences, sweep } from './sweep.ts';

export const routing: Experiment = {
  name: 'routing',
  title: 'Routing: token choice, Expert Choice and the balance coefficient',
  summary:
    'Expert Choice routing lets each expert pick its tokens, which balances load perfectly, but a token\'s routing '
      + 'then depends on the whole group, later tokens included: fine for an encoder, a leak of the future in a causal '
      + 'LM. Switch\'s load-balancing loss (eq. 4) with α = 1e-2 is meant to balance token-choice routing without '
      + 'disturbing the language-model loss. Here top-1, top-2 and Expert Choice train side by side, and top-1 at α '
      + 'from 1e-1 to 1e-5.',
  sweep,
  differences,
  analyze,
};
