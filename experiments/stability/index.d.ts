/**
 * Stability (Switch Transformer, Fedus et al. 2021: §2.4, Tables 2 and 3): the initialisation
 * scale and the router's precision, across seeds.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
export declare const stability: Experiment;
