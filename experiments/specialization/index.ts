/**
 * Expert specialisation: which experts a trained Switch model sends which tokens to. The Switch
 * paper gives only prose here; ST-MoE (Zoph et al. 2022, §7) reports encoder experts that
 * specialise in token types. Measured: per layer, contingency of expert with part of speech and
 * genre, top words, normalised mutual information against a shuffled baseline, its development
 * over training, and which parts of speech get dropped.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
import { analyze } from './analysis.ts';
import { differences, sweep } from './sweep.ts';

export const specialization: Experiment = {
  name: 'specialization',
  title: 'Expert specialisation: parts of speech, genres, words',
  summary:
    'Which experts take which tokens? A Switch model trains on the Brown corpus, whose every token carries a '
      + 'part-of-speech tag and a genre, while routing snapshots of a fixed validation sample are written during '
      + 'training. The analysis measures how much the expert assignment tells about a token\'s part of speech, genre '
      + 'and identity, against a baseline of the same assignments shuffled.',
  sweep,
  differences,
  analyze,
  needsTags: true,
};
