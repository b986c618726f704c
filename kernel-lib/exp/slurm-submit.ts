/**
 * `--submit`: hands an emitted sweep folder to Slurm with `sbatch`: the array (only the runs not
 * finished yet, so submitting again after a time limit runs what is left), then the report with
 * `--dependency=afterok:<array job>` (its script sets `--kill-on-invalid-dep=yes`: a failed
 * task cancels it instead of leaving it pending forever).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isFinished } from './runner.ts';
import { arraySpec } from './slurm-script.ts';
import type { EmittedSweep } from './slurm-emit.ts';

export interface Submitted {
  /** The array job's id, or null when every run had finished already. */
  arrayJob: string | null;
  reportJob: string;
  /** Run indices submitted as array tasks. */
  indices: number[];
  /** The command that shows both jobs. */
  watch: string;
}

/** The path of `command` on PATH, or null. */
export function onPath(command: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, command);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** Throws naming the Slurm commands that are not on PATH (before anything is written). */
export function requireSlurm(commands: readonly string[] = ['sbatch']): void {
  const missing = commands.filter((c) => !onPath(c));
  if (missing.length) {
    throw new Error(`--submit needs Slurm's ${missing.join(', ')} on PATH, and ${missing.length > 1 ? 'they are' : 'it is'} not there (PATH=${process.env.PATH ?? ''}); nothing was written. Run this on the cluster's login node, or leave out --submit and submit the scripts there.`);
  }
}

/** Runs `sbatch --parsable <args>` and returns the job id, or throws with sbatch's own message. */
function sbatch(args: string[]): string {
  const r = spawnSync('sbatch', ['--parsable', ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`sbatch ${args.join(' ')} could not start: ${r.error.message}`);
  const id = /^(\d+)(;\S*)?\s*$/.exec(r.stdout ?? '')?.[1];
  if (r.status !== 0 || !id) throw new Error(`sbatch ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim() || 'no message'}`);
  return id;
}

/** Submits the unfinished runs as an array job and the report after it. */
export function submitSweep(e: EmittedSweep): Submitted {
  requireSlurm();
  const indices = e.sweep.runs.flatMap((r, i) => (isFinished(e.dir, r.id, e.sweep.steps) ? [] : [i]));
  if (indices.length === 0) {
    const reportJob = sbatch([e.report]);
    return { arrayJob: null, reportJob, indices, watch: `squeue -j ${reportJob}` };
  }
  const all = indices.length === e.sweep.runs.length;
  const arrayJob = sbatch([...(all ? [] : [`--array=${arraySpec(e.sweep.runs.length, e.options.maxRunning, indices)}`]), e.submit]);
  let reportJob: string;
  try {
    reportJob = sbatch([`--dependency=afterok:${arrayJob}`, e.report]);
  } catch (err) {
    throw new Error(`array job ${arrayJob} was submitted, but the report was not: ${(err as Error).message}. Submit it with: sbatch --dependency=afterok:${arrayJob} ${e.report}`);
  }
  return { arrayJob, reportJob, indices, watch: `squeue -j ${arrayJob},${reportJob}` };
}
