/**
 * The experiments, by name, and running one: `runExperiment('scaling', { preset: 'quick' })`
 * is what `switchyard exp scaling --preset quick` and the notebooks call.
 */
import { type ExperimentOptions, type ExperimentRun } from '../kernel-lib/exp/orchestrate.ts';
import type { Experiment, PresetName } from '../kernel-lib/exp/types.ts';
import { PRESETS } from './presets.ts';
/** In the order the README and `npm start` present them. */
export declare const EXPERIMENTS: Record<string, Experiment>;
export declare function getExperiment(name: string): Experiment;
/** Runs (or continues) an experiment at a preset: its runs in parallel processes, then its report. */
export declare function runExperiment(name: string, o: ExperimentOptions & {
    preset: PresetName | string;
}): Promise<ExperimentRun>;
export { PRESETS };
