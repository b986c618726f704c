/**
 * The capacity analysis: quality at the final step, time to a quality threshold, tokens/s and
 * the dropped fraction per layer over training, per router and capacity factor; the claims of
 * Switch Table 1.
 */
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
export declare function analyze(runs: LoadedRun[]): Analysis;
