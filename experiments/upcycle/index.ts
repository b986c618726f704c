/**
 * Upcycle: sparse upcycling (Komatsuzaki et al. 2022) of a dense model into Switch, against
 * continuing the dense model and against Switch trained from scratch, at equal steps.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
import { analyze } from './analysis.ts';
import { differences, sweep } from './sweep.ts';

export const upcycle: Experiment = {
  name: 'upcycle',
  title: 'Sparse upcycling: dense continued vs upcycled vs Switch from scratch',
  summary:
    'Komatsuzaki et al. (2022) start a Mixture-of-Experts model from a dense checkpoint: every expert a copy of '
      + 'the dense FFN, the router new. For the same extra compute the upcycled model beats both the dense model '
      + 'trained on and an MoE model trained from scratch. Here a dense model and Switch each train for M steps; '
      + 'then, for M more, the dense model is continued, the dense model is upcycled into Switch, and Switch is '
      + 'continued, several seeds each.',
  sweep,
  differences,
  analyze,
};
