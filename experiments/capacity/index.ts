/**
 * Capacity factor (Switch Transformer, Fedus et al. 2021: §2.2 and Table 1, in miniature): how the
 * number of expert slots per routing group trades dropped tokens against computation.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
import { analyze } from './analysis.ts';
import { differences, sweep } from './sweep.ts';

export const capacity: Experiment = {
  name: 'capacity',
  title: 'Capacity factor: dropped tokens, quality and speed',
  summary:
    'Switch Table 1 compares capacity factors: with fewer slots per expert, more tokens are dropped (they skip the '
      + 'layer), quality per step falls slightly, and steps get cheaper; Switch at capacity factor 1.0–1.25 reaches a '
      + 'quality threshold fastest. Here top-1 and top-2 train at several capacity factors and dropless, several seeds '
      + 'each, all evaluated at capacity factor 2.0.',
  sweep,
  differences,
  analyze,
};
