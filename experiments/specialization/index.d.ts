/**
 * Expert specialisation: which experts a trained Switch model sends which tokens to. The Switch
 * paper gives only prose here; ST-MoE (Zoph et al. 2022, §7) reports encoder experts that
 * specialise in token types. Measured: per layer, contingency of expert with part of speech and
 * genre, top words, normalised mutual information against a shuffled baseline, its development
 * over training, and which parts of speech get dropped.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
export declare const specialization: Experiment;
