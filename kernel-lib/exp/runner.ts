/**
 * Runs a sweep's runs as child processes, `jobs` at a time. tfjs-wasm runs one thread in Node,
 * so parallel runs need processes (as many as cores); a GPU takes one run at a time. Each child
 * is `switchyard exp run-one <dir> --index i`, the same command a Slurm array task runs: it
 * takes the run directory's lock, resumes a stopped run, and leaves a finished one as it is.
 * Finished runs are skipped without starting a process.
 *
 * A child's stderr goes to `logs/<id>.log`; a child that exits with an error leaves
 * `logs/<id>.failed.json` (exit code, last lines of stderr) and the other runs go on. An abort
 * (Ctrl-C, SIGTERM) is passed to every running child, which stops at a step boundary with a
 * checkpoint; no new run starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ConcreteBackend } from '../backend/device.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { readJsonOrNull } from '../util/read-json.ts';
import { projectRoot } from '../util/project-root.ts';
import type { RunResult } from '../train/trainer.ts';
import { finishedRecordsProblem } from '../train/run-dir.ts';
import { failurePath, logPath, type FailureNote } from './records.ts';
import { log as logLine } from '../util/log.ts';
import { sourceIndex, sourceIndices } from './sources.ts';
import type { SweepFile } from './types.ts';

export type RunState = 'queued' | 'running' | 'skipped' | 'completed' | 'diverged' | 'interrupted' | 'failed';

export interface RunProgress {
  id: string;
  index: number;
  state: RunState;
  step: number;
  steps: number;
  loss?: number;
  /** Exit code of a failed or interrupted child. */
  code?: number;
}

export interface RunSweepOptions {
  /** Runs at a time. */
  jobs: number;
  /** The backend every child uses (resolved once by the caller, so all runs agree). */
  backend: ConcreteBackend;
  /** Called whenever a run changes state or reports progress. */
  onUpdate?: (runs: readonly RunProgress[]) => void;
  /** Aborting stops every running child gracefully and starts no new one. */
  signal?: AbortSignal;
  /** Extra environment for the children. */
  env?: NodeJS.ProcessEnv;
}

export interface SweepOutcome {
  runs: RunProgress[];
  interrupted: boolean;
  failed: RunProgress[];
}

/** This project's CLI under its own tsx, with `words` after it, run from the project's folder. */
export function cliCommand(...words: string[]): { command: string; args: string[]; cwd: string } {
  const root = projectRoot(import.meta.url);
  return { command: process.execPath, args: ['--import', 'tsx', join(root, 'kernel-lib', 'cli.ts'), ...words], cwd: root };
}

/** The command that runs one run of a sweep. `index` may be a shell word (`"$SLURM_ARRAY_TASK_ID"`) for a batch script. */
export function runOneCommand(dir: string, index: number | string, backend: ConcreteBackend): { command: string; args: string[]; cwd: string } {
  return cliCommand('exp', 'run-one', dir, '--index', String(index), '--backend', backend);
}

/**
 * Whether run `id` already finished for this sweep (completed with all steps, or diverged) with
 * its results readable (metrics with the final evaluation): no process needed. A run whose record
 * says finished but whose metrics are gone is not: its process repairs or refuses it, naming it.
 */
export function isFinished(dir: string, id: string, steps: number): boolean {
  const runDir = join(dir, 'runs', id);
  const r = readJsonOrNull<RunResult>(join(runDir, 'run.json'));
  return r !== null && (r.status === 'diverged' || (r.status === 'completed' && r.steps >= steps)) && finishedRecordsProblem(runDir, r) === null;
}

/**
 * Waits, polling, until the sweep run that run `index` starts from (its `initFrom`, sources.ts)
 * has finished: what `exp run-one` does first, so that a Slurm array, whose tasks start in any
 * order, runs such a run after its source. Throws, naming both, when the source's failure note
 * (written by the local runner) appears. A run without a source in the sweep returns at once.
 */
export async function waitForSource(dir: string, sweep: SweepFile, index: number, pollMs = 10_000): Promise<void> {
  const source = sourceIndex(sweep, index);
  if (source === null) return;
  const [id, from] = [sweep.runs[index].id, sweep.runs[source].id];
  for (let said = false; !isFinished(dir, from, sweep.steps); said = true) {
    if (existsSync(failurePath(dir, from))) {
      throw new Error(`run ${id} starts from run ${from} (initFrom), which failed: see ${failurePath(dir, from)}`);
    }
    if (!said) logLine(`run ${id}: waiting for run ${from} (its initFrom) to finish`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Writes a run's failure note; a note the disk refuses is logged, and the sweep goes on (the run's state is known here). */
function noteFailure(dir: string, id: string, note: FailureNote): void {
  try {
    writeJsonAtomic(failurePath(dir, id), note);
  } catch (err) {
    logLine(`run ${id} failed (exit ${note.code}), and its failure note could not be written: ${(err as Error).message}`);
  }
}

const PROGRESS = /step (\d+)\/(\d+)\s+loss (-?[\d.]+|NaN)/;

export async function runSweep(dir: string, sweep: SweepFile, o: RunSweepOptions): Promise<SweepOutcome> {
  if (!Number.isInteger(o.jobs) || o.jobs < 1) throw new Error(`jobs must be an integer ≥ 1, got ${o.jobs}`);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const runs: RunProgress[] = sweep.runs.map((r, index) => ({ id: r.id, index, state: isFinished(dir, r.id, sweep.steps) ? 'skipped' : 'queued', step: 0, steps: sweep.steps }));
  const update = () => o.onUpdate?.(runs);
  update();
  const sources = sourceIndices(sweep);
  /** Whether a run skipped as finished had diverged (in an earlier invocation): no source for another run. */
  const divergedBefore = (id: string) => readJsonOrNull<RunResult>(join(dir, 'runs', id, 'run.json'))?.status === 'diverged';
  const queue = runs.filter((r) => r.state === 'queued');
  /** Workers waiting for a run to end (a run that starts from it may then start). */
  let waiting: (() => void)[] = [];
  const wake = () => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  const children = new Set<ChildProcess>();
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    for (const c of children) c.kill('SIGTERM');
    wake();
  };
  o.signal?.addEventListener('abort', onAbort);
  if (o.signal?.aborted) onAbort();

  const runOne = (p: RunProgress) =>
    new Promise<void>((resolve) => {
      const { command, args, cwd } = runOneCommand(dir, p.index, o.backend);
      const log = createWriteStream(logPath(dir, p.id), { flags: 'a' });
      log.on('error', () => {}); // a log that cannot be written (disk full) must not stop the sweep; the run keeps its own records
      log.write(`\n== ${new Date().toISOString()} ${[command, ...args].join(' ')}\n`);
      const child = spawn(command, args, { cwd, env: { ...process.env, ...o.env, SWITCHYARD_BACKEND: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      p.state = 'running';
      update();
      let tail = '';
      child.stderr!.on('data', (d: Buffer) => {
        const text = d.toString();
        log.write(text);
        tail = (tail + text).slice(-4000);
        const all = [...text.matchAll(new RegExp(PROGRESS, 'g'))];
        const m = all.at(-1);
        if (m) {
          p.step = Number(m[1]);
          p.loss = Number(m[3]);
          update();
        }
      });
      child.stdout!.on('data', (d: Buffer) => log.write(d));
      child.on('close', (code, sig) => {
        children.delete(child);
        const exit = code ?? 128 + (sig === 'SIGKILL' ? 9 : 15);
        p.code = exit;
        if (exit === 0 && !isFinished(dir, p.id, p.steps)) {
          // Exit 0 but no usable result (a defence: the trainer refuses such a run itself).
          p.state = 'failed';
          noteFailure(dir, p.id, { code: exit, at: new Date().toISOString(), stderr: `${tail.split('\n').slice(-19).join('\n')}\nexited 0 but its run record or metrics do not show it finished` });
        } else if (exit === 0) {
          p.state = 'completed';
          p.step = p.steps;
          rmSync(failurePath(dir, p.id), { force: true });
        } else if (exit === 3) {
          p.state = 'diverged';
        } else if ((exit === 129 || exit === 130 || exit === 143) && interrupted) {
          p.state = 'interrupted';
        } else {
          p.state = 'failed';
          noteFailure(dir, p.id, { code: exit, at: new Date().toISOString(), stderr: tail.split('\n').slice(-20).join('\n') });
        }
        log.end(() => {
          update();
          resolve();
          wake();
        });
      });
    });

  /**
   * The next queued run whose source (if any) has finished, in sweep order; a run whose source
   * failed, diverged or was interrupted fails without starting. Waits while every queued run
   * waits on a running one; undefined when nothing is left to start.
   */
  const nextRun = async (): Promise<RunProgress | undefined> => {
    while (!interrupted && queue.length > 0) {
      for (const p of [...queue]) {
        const source = sources[p.index] === null ? null : runs[sources[p.index]!];
        const ended = source && (source.state === 'skipped' && divergedBefore(source.id) ? 'diverged' : source.state);
        if (source && ended && ['failed', 'diverged', 'interrupted'].includes(ended)) {
          queue.splice(queue.indexOf(p), 1);
          p.state = 'failed';
          noteFailure(dir, p.id, { code: 1, at: new Date().toISOString(), stderr: `not started: it starts from run ${source.id} (initFrom), which ${ended === 'diverged' ? 'diverged' : `was ${ended}`}` });
          update();
          continue;
        }
        if (!source || source.state === 'completed' || source.state === 'skipped') {
          queue.splice(queue.indexOf(p), 1);
          return p;
        }
      }
      if (queue.length > 0) await new Promise<void>((r) => waiting.push(r));
    }
    return undefined;
  };
  const workers = Array.from({ length: Math.min(o.jobs, queue.length) }, async () => {
    for (let next = await nextRun(); next && !interrupted; next = await nextRun()) await runOne(next);
    wake(); // a worker leaving may leave others waiting on nothing: let them look again
  });
  await Promise.all(workers);
  o.signal?.removeEventListener('abort', onAbort);
  return { runs, interrupted, failed: runs.filter((r) => r.state === 'failed') };
}
