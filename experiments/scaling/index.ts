/**
 * Scaling (Switch Transformer, Fedus et al. 2021: Figures 1, 4, 5, 6 and Table 7, in miniature):
 * dense vs Switch (top-1) vs MoE (top-2) with 2 … 64 experts. Switch experts are as wide as the
 * dense FFN, so Switch costs the dense model's FLOPs per token whatever E; top-2 with experts of
 * that width costs about twice the FFN FLOPs, so a dense model with a twice-as-wide FFN is its
 * FLOP-matched baseline.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
import { analyze } from './analysis.ts';
import { differences, sweep } from './sweep.ts';

export const scaling: Experiment = {
  name: 'scaling',
  title: 'Scaling: dense vs Switch vs top-2 MoE',
  summary:
    'The Switch Transformer paper finds that, at equal FLOPs per token, a Switch model beats its dense baseline and '
      + 'improves as experts are added (Fig. 4), reaching the dense model\'s quality several times faster (Fig. 5, '
      + 'Table 7), and that top-1 routing is a better speed-quality trade than top-2 (Table 1). Here the same '
      + 'comparison runs on the Brown corpus at a small scale: dense, dense with a twice-as-wide FFN (FLOP-matched to '
      + 'top-2), Switch and top-2 with several expert counts, several seeds each.',
  sweep,
  differences,
  analyze,
};
