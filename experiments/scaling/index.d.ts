/**
 * Scaling (Switch Transformer, Fedus et al. 2021: Figures 1, 4, 5, 6 and Table 7, in miniature):
 * dense vs Switch (top-1) vs MoE (top-2) with 2 … 64 experts. Switch experts are as wide as the
 * dense FFN, so Switch costs the dense model's FLOPs per token whatever E; top-2 with experts of
 * that width costs about twice the FFN FLOPs, so a dense model with a twice-as-wide FFN is its
 * FLOP-matched baseline.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
export declare const scaling: Experiment;
