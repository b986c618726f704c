/** The scaling analysis: quality against steps, time and parameters; speed-ups to dense quality; the claims. */
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
export declare function analyze(runs: LoadedRun[]): Analysis;
