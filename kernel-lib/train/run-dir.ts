/**
 * What a run directory holds and what may be done with it. The rules, in order:
 *
 * - An empty (or new) directory starts afresh. So does one holding only the records a run
 *   writes before its first step (config, environment, vocabulary): nothing was computed.
 * - A run whose config differs from the saved one in a key that changes the computation is
 *   refused, naming the keys. Where the run lives (`outDir`, `name`) and bookkeeping keys don't
 *   count, so a moved or renamed run directory resumes.
 * - A finished run (completed with at least the steps asked for, or diverged) is left as it is.
 *   A completed run asked for more steps is extended from its last checkpoint.
 * - Otherwise the run resumes from its newest intact checkpoint (`findResumePoint`).
 * - A directory with metrics or checkpoints that can't be resumed is never started afresh
 *   silently: only `restart` does that, and it first moves the old directory aside, whole.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { BatchState } from '../data/index.ts';
import { findResumePoint, type ResumePoint } from './checkpoint.ts';
import { CONFIG_FIELDS } from '../config/fields.ts';
import { checkPathComponent } from '../config/schema.ts';
import { asTrainConfig, type TrainConfig } from './config.ts';
import type { EvalMetrics, StepMetrics } from './metrics.ts';
import { withFsError } from '../util/fs-error.ts';
import { log } from '../util/log.ts';

/** Config keys that do not change what is computed: where the run lives, how long it runs, bookkeeping (the schema's `bookkeeping`). */
export const NON_COMPUTATIONAL_KEYS: ReadonlySet<string> = new Set(Object.keys(CONFIG_FIELDS).filter((k) => 'bookkeeping' in CONFIG_FIELDS[k as keyof typeof CONFIG_FIELDS]));

/**
 * Where a run's first weights came from when it started from another run's (`initFrom`,
 * train/upcycle.ts): in its environment.json, every checkpoint's state and run.json.
 */
export interface InitFromRecord {
  /** `initFrom` as given. */
  given: string;
  /** The source run directory, absolute. */
  path: string;
  /** The step of the source's final checkpoint, whose weights were taken. */
  step: number;
  /** That checkpoint's manifest (in the source's checkpoints/) and the SHA-256 of its binary. */
  checkpoint: string;
  sha256: string;
  /** 'upcycle': a block dense there is an MoE layer here; 'warm start': every weight copied. */
  kind: 'upcycle' | 'warm start';
  /** The blocks whose MoE layer was made from the source's dense FFN. */
  upcycledBlocks: number[];
  /** Weights and state by name: copied as they are; made from a dense FFN (experts, shared experts); left as a fresh run initialises them (routers, router biases). */
  copied: string[];
  fromDense: string[];
  fresh: string[];
  /** Source state with no place here (a router bias, biasUpdateRate 0 here). */
  unused: string[];
}

/** The training state saved in every checkpoint. */
export interface TrainState {
  data: BatchState;
  config: TrainConfig;
  /** Present when the run started from another run's weights (`initFrom`). */
  initFrom?: InitFromRecord;
}

/** `run.json`: how the run last ended. */
export interface RunRecord {
  runDir: string;
  status: 'completed' | 'stopped' | 'interrupted' | 'diverged';
  steps: number;
  finished: string;
  [key: string]: unknown;
}

export type RunPlan =
  | { kind: 'fresh' }
  | { kind: 'resume'; point: ResumePoint<TrainState>; saved: TrainConfig; notes: string[] }
  | { kind: 'finished'; record: RunRecord; note: string; /** The record was rebuilt (run.json was missing): write it. */ rebuilt?: boolean };

/** Where a run's log lines go once stderr is closed (util/log.ts). */
export const STDERR_LOG = 'stderr.log';

/** Files a run writes before its first step; a directory holding only these has computed nothing. */
const PRE_START_FILES = new Set(['config.json', 'environment.json', 'vocab.json', 'lock', 'checkpoints', STDERR_LOG]);

/** Keys whose values differ between two configs, ignoring {@link NON_COMPUTATIONAL_KEYS}. */
export function computationalDifferences(a: TrainConfig, b: Partial<TrainConfig>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !NON_COMPUTATIONAL_KEYS.has(k) && JSON.stringify(a[k as keyof TrainConfig]) !== JSON.stringify(b[k as keyof TrainConfig]));
}

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${path} is unreadable (${(err as Error).message}); nothing was changed. Repair or move it, or restart the run explicitly (train --restart).`);
  }
}

/** Whether `dir` holds anything beyond what a run writes before its first step. */
function hasComputedRecords(dir: string): boolean {
  if (!existsSync(dir)) return false;
  const ckpt = join(dir, 'checkpoints');
  if (existsSync(ckpt) && readdirSync(ckpt).some((f) => !f.startsWith('.'))) return true;
  return readdirSync(dir).some((f) => {
    if (f.startsWith('.') || PRE_START_FILES.has(f)) return false;
    if (f === 'metrics.jsonl') return statSync(join(dir, f)).size > 0;
    return true;
  });
}

const RETRAIN = 'train --restart moves it aside whole and trains it afresh (a sweep\'s run: exp run-one <sweep folder> --index <i> --restart).';

/**
 * Why a run whose record says it finished cannot be used as finished (its metrics, which hold
 * every result, are missing, unreadable, or lack the final evaluation), or null when it can.
 */
export function finishedRecordsProblem(runDir: string, record: Pick<RunRecord, 'status' | 'steps'>): string | null {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return `its ${path} is missing`;
  if (record.status === 'diverged') return null;
  let m: ReturnType<typeof readMetrics>;
  try {
    m = readMetrics(runDir, { quiet: true });
  } catch (err) {
    return (err as Error).message;
  }
  if (!m.eval.some((e) => e.step === record.steps)) return `${path} has no evaluation at its last step (${record.steps})`;
  return null;
}

/** A completed run's record from its final checkpoint step and the evaluation there, or why not. */
function rebuildRecord(runDir: string, steps: number): { record?: RunRecord; problem?: string } {
  const problem = finishedRecordsProblem(runDir, { status: 'completed', steps });
  if (problem) return { problem };
  const row = readMetrics(runDir, { quiet: true }).eval.filter((e) => e.step === steps).at(-1) as (EvalMetrics & { type?: string }) | undefined;
  const { type: _type, ...finalEval } = row!;
  const env = readJson<{ device?: unknown; resumed?: { device?: unknown }[]; initFrom?: InitFromRecord }>(join(runDir, 'environment.json'));
  const device = env?.resumed?.at(-1)?.device ?? env?.device;
  const init = env?.initFrom ? { initFrom: env.initFrom } : {};
  return { record: { runDir, status: 'completed', steps, finalEval, device, ...init, finished: new Date().toISOString(), rebuilt: 'run.json was missing: rebuilt from the final checkpoint and evaluation' } };
}

/**
 * The config a run directory was trained with (its newest intact checkpoint's, else config.json),
 * read back as resolved: keys added since it was written take their defaults. Null when none.
 */
export function readSavedConfig(runDir: string, point = findResumePoint<TrainState>(join(runDir, 'checkpoints'))): TrainConfig | null {
  const path = join(runDir, 'config.json');
  const fromFile = readJson<TrainConfig>(path); // read even when a checkpoint has one: an unreadable file is named
  const saved = point?.manifest.state.config ?? fromFile;
  return saved && asTrainConfig(saved, point ? `the config of the checkpoint at step ${point.manifest.step} in ${runDir}` : path);
}

/**
 * Decides what to do with `runDir` for `cfg` (call while holding its lock). Throws, changing
 * nothing, when the run must be refused.
 */
export function planRun(runDir: string, cfg: TrainConfig, o: { vocabAsked?: number } = {}): RunPlan {
  const what = `run ${runDir}`;
  const point = findResumePoint<TrainState>(join(runDir, 'checkpoints'));
  const saved = readSavedConfig(runDir, point);
  if (saved) {
    // A run saved with the vocabulary size asked for (runs before vocabSize recorded what is used) is the same run.
    const diff = computationalDifferences(cfg, saved.vocabSize === o.vocabAsked ? { ...saved, vocabSize: cfg.vocabSize } : saved);
    if (diff.length && hasComputedRecords(runDir)) {
      const shown = diff.map((k) => `'${k}' (${JSON.stringify(saved[k as keyof TrainConfig])} there, ${JSON.stringify(cfg[k as keyof TrainConfig])} now)`);
      throw new Error(`cannot continue ${what}: its config differs in ${shown.join(', ')}. Use another --name, or train --restart to move the old run aside and start afresh.`);
    }
  }
  const record = readJson<RunRecord>(join(runDir, 'run.json'));
  const trained = point?.manifest.step ?? 0;
  if (record && (record.status === 'diverged' || (record.status === 'completed' && record.steps >= cfg.steps))) {
    const done = record.status === 'diverged' ? `diverged at step ${record.steps}` : `completed ${record.steps} steps`;
    const problem = finishedRecordsProblem(runDir, record);
    if (problem) throw new Error(`${what} says it ${done}, but ${problem}: its results cannot be read back; nothing was changed. ${RETRAIN}`);
    return { kind: 'finished', record: { ...record, runDir }, note: `${what} has ${done}; left as it is` };
  }
  if (point) {
    if (!cfg.resume) throw new Error(`${what} has checkpoints (step ${trained}) and resume is off; nothing was changed. Use another --name, or train --restart to move it aside and start afresh.`);
    if (trained >= cfg.steps && (!record || record.status === 'completed')) {
      // Trained to the end but without its run record (lost, or the process died between the
      // last checkpoint and the record): rebuilt from the checkpoint and the final evaluation.
      const rebuilt = rebuildRecord(runDir, trained);
      if (!rebuilt.record) throw new Error(`${what} has a checkpoint at step ${trained} but no run record, and ${rebuilt.problem}, so the record cannot be rebuilt; nothing was changed. ${RETRAIN}`);
      return { kind: 'finished', record: rebuilt.record, note: `${what} had no run.json; rebuilt it from the checkpoint at step ${trained} and the final evaluation in metrics.jsonl (completed)`, rebuilt: true };
    }
    if (trained >= cfg.steps) {
      return { kind: 'finished', record: { ...record!, runDir }, note: `${what} has trained ${trained} ≥ ${cfg.steps} steps (${record!.status}); left as it is` };
    }
    return { kind: 'resume', point, saved: saved!, notes: point.notes };
  }
  if (hasComputedRecords(runDir)) {
    throw new Error(`${what} has records but no checkpoint to resume from; nothing was changed. Use another --name, or train --restart to move it aside and start afresh.`);
  }
  return { kind: 'fresh' };
}

/**
 * Moves a run directory aside, whole, as `<name>.replaced-<time>` beside it, so a restart
 * loses nothing. @returns the new path, or null when there was nothing to move.
 */
export function moveRunAside(runDir: string): string | null {
  if (!existsSync(runDir) || readdirSync(runDir).length === 0) return null;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const aside = join(dirname(runDir), `${basename(runDir)}.replaced-${stamp}`);
  renameSync(runDir, aside);
  rmSync(join(aside, 'lock'), { force: true });
  return aside;
}

export { checkPathComponent };

/** Checks a run name: one path component, not `.` or `..`. */
export function checkRunName(name: string): void {
  checkPathComponent(name, "config: 'name'");
}

/**
 * Reads a run's metrics file. A last line cut short (a process killed mid-write; the trainer
 * drops it when it resumes) is skipped with a warning; any other unreadable line is an error
 * naming the file and line.
 */
export function readMetrics(runDir: string, o: { quiet?: boolean } = {}): { train: StepMetrics[]; eval: EvalMetrics[] } {
  const out = { train: [] as StepMetrics[], eval: [] as EvalMetrics[] };
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) throw new Error(`no metrics at ${path}`);
  const text = withFsError('read', path, () => readFileSync(path, 'utf8'));
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let row: { type: string };
    try {
      row = JSON.parse(line) as { type: string };
    } catch (err) {
      if (i === lines.length - 1) {
        if (!o.quiet) log(`${path}: ignoring line ${i + 1}, cut short (${line.length} characters, no newline)`);
        return;
      }
      throw new Error(`${path}:${i + 1}: not a JSON metrics row (${(err as Error).message})`);
    }
    if (row.type === 'train') out.train.push(row as unknown as StepMetrics);
    else if (row.type === 'eval') out.eval.push(row as unknown as EvalMetrics);
  });
  return out;
}
