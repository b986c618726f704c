/**
 * Granularity: E experts of width F against m·E experts of width F/m with k = m, at equal FLOPs
 * and parameters, with and without a shared expert (Krajewski et al. 2024; DeepSeekMoE).
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
import { analyze } from './analysis.ts';
import { differences, sweep } from './sweep.ts';

export const granularity: Experiment = {
  name: 'granularity',
  title: 'Fine-grained and shared experts at equal compute',
  summary:
    'Krajewski et al. (2024) and DeepSeekMoE (Dai et al. 2024) split experts into narrower ones and route each '
      + 'token to proportionally more of them: the same FLOPs per token and parameters, finer combinations. They '
      + 'report better quality at equal compute, and DeepSeekMoE a further gain from isolating shared experts. '
      + 'Here E experts of width F (top-1) train beside 2E of F/2 (k = 2) and 4E of F/4 (k = 4), with and '
      + 'without one shared expert, dropless, several seeds each.',
  sweep,
  differences,
  analyze,
};
