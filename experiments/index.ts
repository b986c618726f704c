/**
 * The experiments, by name, and running one: `runExperiment('scaling', { preset: 'quick' })`
 * is what `switchyard exp scaling --preset quick` and the notebooks call.
 */
import { runExperimentSweep, type ExperimentOptions, type ExperimentRun } from '../kernel-lib/exp/orchestrate.ts';
import { checkPreset } from '../kernel-lib/exp/sweep-file.ts';
import type { Experiment, PresetName } from '../kernel-lib/exp/types.ts';
import { PRESETS } from './presets.ts';
import { balance } from './balance/index.ts';
import { capacity } from './capacity/index.ts';
import { granularity } from './granularity/index.ts';
import { upcycle } from './upcycle/index.ts';
import { routing } from './routing/index.ts';
import { scaling } from './scaling/index.ts';
import { specialization } from './specialization/index.ts';
import { stability } from './stability/index.ts';

/** In the order the README and `npm start` present them. */
export const EXPERIMENTS: Record<string, Experiment> = {
  scaling, capacity, specialization, stability, routing, balance, granularity, upcycle,
};

export function getExperiment(name: string): Experiment {
  const e = Object.hasOwn(EXPERIMENTS, name) ? EXPERIMENTS[name] : undefined;
  if (!e) throw new Error(`unknown experiment '${name}' (experiments: ${Object.keys(EXPERIMENTS).join(', ')})`);
  return e;
}

/** Runs (or continues) an experiment at a preset: its runs in parallel processes, then its report. */
export function runExperiment(
  name: string, o: ExperimentOptions & { preset: PresetName | string },
): Promise<ExperimentRun> {
  const exp = getExperiment(name);
  return runExperimentSweep(exp, PRESETS[checkPreset(o.preset)], o);
}

export { PRESETS };
