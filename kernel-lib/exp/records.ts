/**
 * Reading a sweep's runs back from their run directories, whatever state they are in: the
 * analysis gets every run the sweep defines, each marked completed, stopped, interrupted,
 * diverged, failed (the runner recorded why) or missing, so a report can name what it lacks.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics, type RunResult } from '../train/trainer.ts';
import { readJsonOrNull } from '../util/read-json.ts';
import type { LoadedRun, SweepFile } from './types.ts';

/** The runner's note on a run that exited with an error: `logs/<id>.failed.json`. */
export interface FailureNote {
  code: number;
  at: string;
  /** The last lines of its stderr. */
  stderr: string;
}

export const failurePath = (dir: string, id: string) => join(dir, 'logs', `${id}.failed.json`);
export const logPath = (dir: string, id: string) => join(dir, 'logs', `${id}.log`);

/** Every run of the sweep, as its run directory (under `<dir>/runs/`) has it. */
export function loadRuns(dir: string, sweep: SweepFile): LoadedRun[] {
  return sweep.runs.map((r) => {
    const runDir = join(dir, 'runs', r.id);
    const base = { id: r.id, group: r.group, seed: r.seed, labels: r.labels, config: { ...r.config, steps: sweep.steps }, runDir, train: [], eval: [] };
    const failure = readJsonOrNull<FailureNote>(failurePath(dir, r.id));
    if (!existsSync(join(runDir, 'metrics.jsonl'))) {
      const said = readJsonOrNull<RunResult>(join(runDir, 'run.json'));
      if (failure) return { ...base, status: 'failed' as const, reason: `exit ${failure.code}: ${failure.stderr.trim().split('\n').pop()}` };
      if (said) return { ...base, status: 'failed' as const, reason: `its run.json says ${said.status} at step ${said.steps}, but its metrics.jsonl is missing` };
      return existsSync(runDir) ? { ...base, status: 'missing' as const, reason: 'started, no metrics yet' } : { ...base, status: 'missing' as const, reason: 'not run yet' };
    }
    let metrics: ReturnType<typeof readMetrics>;
    try {
      metrics = readMetrics(runDir);
    } catch (err) {
      return { ...base, status: 'failed' as const, reason: (err as Error).message };
    }
    const record = readJsonOrNull<RunResult>(join(runDir, 'run.json'));
    const env = readJsonOrNull<{ device?: LoadedRun['device']; data?: { trainTokens?: number }; initFrom?: LoadedRun['initFrom'] }>(join(runDir, 'environment.json'));
    const lastStep = metrics.train.at(-1)?.step ?? 0;
    let status: LoadedRun['status'] = record?.status ?? 'interrupted';
    let reason: string | undefined;
    if (status === 'completed' && record!.steps < sweep.steps) {
      status = 'stopped';
      reason = `completed ${record!.steps} of ${sweep.steps} steps`;
    }
    if (!record) reason = failure ? `exit ${failure.code} at step ${lastStep}: ${failure.stderr.trim().split('\n').pop()}` : `no run record; last metrics at step ${lastStep}`;
    else if (status !== 'completed' && !reason) reason = `${status} at step ${record.steps}`;
    if (failure && status !== 'completed' && status !== 'diverged') status = 'failed';
    const final = status === 'completed' ? metrics.eval.filter((e) => e.step === sweep.steps).at(-1) : undefined;
    return { ...base, status, reason, train: metrics.train, eval: metrics.eval, final, device: record?.device ?? env?.device, trainTokens: env?.data?.trainTokens, ...(env?.initFrom ? { initFrom: env.initFrom } : {}) };
  });
}

/** Runs that have no usable final result, with why: the report's `missing` list. */
export function unfinished(runs: LoadedRun[]): { run: string; reason: string }[] {
  return runs.filter((r) => r.status !== 'completed' && r.status !== 'diverged').map((r) => ({ run: r.id, reason: `${r.status}: ${r.reason ?? ''}`.trim() }));
}
