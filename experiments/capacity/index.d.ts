/**
 * Capacity factor (Switch Transformer, Fedus et al. 2021: §2.2 and Table 1, in miniature): how the
 * number of expert slots per routing group trades dropped tokens against computation.
 */
import type { Experiment } from '../../kernel-lib/exp/types.ts';
export declare const capacity: Experiment;
