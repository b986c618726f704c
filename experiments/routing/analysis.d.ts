/**
 * The routing analysis: token choice vs Expert Choice (quality, load balance, dropped tokens and
 * the causality check), and the balance coefficient's effect on load, drops, entropy and quality.
 */
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
/** Coefficient of variation of the expert loads before capacity (0 = perfectly balanced), averaged over the last quarter of training and the MoE layers. */
export declare function loadCv(r: LoadedRun): number;
export declare function analyze(runs: LoadedRun[]): Analysis;
