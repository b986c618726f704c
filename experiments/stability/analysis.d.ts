/**
 * The stability analysis: final quality and its spread across seeds, divergences, and each
 * seed's training curve, for init scale × router precision; the claims of Switch Tables 2 and 3.
 */
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
export declare function analyze(runs: LoadedRun[]): Analysis;
