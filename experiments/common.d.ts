import type { LoadedRun, PresetName, SweepRun } from '../kernel-lib/exp/types.ts';
import type { Series } from '../kernel-lib/exp/plots.ts';
import { type Summary } from '../kernel-lib/exp/stats.ts';
/** Runs with a usable final result (completed). */
export declare const done: (runs: LoadedRun[]) => LoadedRun[];
/** Runs by group, in first-appearance order. */
export declare function byGroup(runs: LoadedRun[]): Map<string, LoadedRun[]>;
/** Final validation negative log perplexity (the paper's quality measure; higher is better). */
export declare const finalNlp: (r: LoadedRun) => number;
/** The seeds of one group: one run per seed, for every seed of the preset. */
export declare function seeded(preset: PresetName, group: string, labels: SweepRun['labels'], config: SweepRun['config']): SweepRun[];
/** Cumulative training time (seconds, excluding evaluation) at each step with metrics. */
export declare function wallClock(r: LoadedRun): Map<number, number>;
export interface Curve {
    x: number[];
    y: number[];
    se: number[];
}
/** Mean validation quality over seeds at each evaluation step (steps every seed has). */
export declare function meanEvalCurve(runs: LoadedRun[], axis?: 'steps' | 'seconds'): Curve;
/** A plot series from a curve. */
export declare const seriesOf: (name: string, c: Curve, dashed?: boolean) => Series;
/**
 * The first point where a curve reaches `target` (linear interpolation between evaluations),
 * or NaN when it never does.
 */
export declare function reachAt(x: number[], y: number[], target: number): number;
/** Step at which one run's validation quality first reaches `target`. */
export declare function stepsToReach(r: LoadedRun, target: number): number;
/** Training seconds until one run's validation quality first reaches `target`. */
export declare function secondsToReach(r: LoadedRun, target: number): number;
/** Parameters (total and active per token) and training FLOPs per token of a run's model. */
export declare function sizeOf(r: Pick<LoadedRun, 'config'>): {
    total: number;
    active: number;
    flops: number;
};
/** Epochs of the training split a run's steps cover (NaN when its record lacks the split's size). */
export declare function epochs(r: Pick<LoadedRun, 'config' | 'trainTokens'>): number;
/** Mean tokens per second of a run (over its metric rows). */
export declare function tokensPerSec(r: LoadedRun): number;
/** Mean of the last quarter of a run's training cross-entropy, for the train/validation gap. */
export declare function lateTrainLoss(r: LoadedRun): number;
/** Summary of a per-seed statistic over a group's completed runs. */
export declare const over: (runs: LoadedRun[], f: (r: LoadedRun) => number) => Summary;
/** `1.234 ± 0.010` (or the value with 1 seed; '–' without data). */
export declare function pm(s: Summary, digits?: number): string;
/** A number for a table cell (null when not finite). */
export declare const num: (v: number, digits?: number) => number | null;
