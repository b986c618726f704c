import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
export declare function analyze(runs: LoadedRun[]): Analysis;
