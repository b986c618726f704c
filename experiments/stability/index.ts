/**
 * Stability (Switch Transformer, Fedus et al. 2021: §2.4, Tables 2 and 3): the initialisation
 * scale and the router's precision, across seeds.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
import { analyze } from './analysis.ts';
import { differences, sweep } from './sweep.ts';

export const stability: Experiment = {
  name: 'stability',
  title: 'Stability: initialisation scale and router precision',
  summary:
    'Switch §2.4 stabilises sparse training with a 10× smaller initialisation (Table 3: better and far less variable '
      + 'quality) and by keeping the router in float32 while the rest runs in bfloat16 (Table 2: a bfloat16 router '
      + 'diverged). Here a Switch model trains with init scale 0.1 or 1.0 and router logits in float32 or rounded to '
      + 'bfloat16, several seeds each, without z-loss or gradient clipping.',
  sweep,
  differences,
  analyze,
};
