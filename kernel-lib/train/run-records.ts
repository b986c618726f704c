/**
 * A run directory's records as training writes them: the directory opened under its lock and
 * planned (run-dir.ts says what may be done with it), a fresh start or an exact resume (the
 * checkpoint restored, the data stream where it was, the metrics cut back to it, the resumption
 * noted), the metrics lines, checkpoints, and `run.json`, how the run ended.
 */
import type * as tf from '@tensorflow/tfjs';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DeviceInfo } from '../backend/index.ts';
import { BatchStream, type Batch, type Corpus } from '../data/index.ts';
import { removeStaleTemporaries, writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { ensureDir, withFsError } from '../util/fs-error.ts';
import { log } from '../util/log.ts';
import { restoreCheckpoint, saveCheckpoint } from './checkpoint.ts';
import type { TrainConfig } from './config.ts';
import type { EvalMetrics, StepMetrics } from './metrics.ts';
import { writeRoutingTokens } from './routing-dump.ts';
import { acquireRunLock, type RunLock } from './run-lock.ts';
import { moveRunAside, planRun, type InitFromRecord, type RunPlan, type TrainState } from './run-dir.ts';

export interface RunResult {
  runDir: string;
  /**
   * `completed`: all steps done. `stopped`: `stopAfterSteps` reached. `interrupted`: stopped by
   * `signal` (Ctrl-C, SIGTERM) after writing a checkpoint. `diverged`: a non-finite loss or
   * gradient. Every state but `completed` and `diverged` resumes where it stopped.
   */
  status: 'completed' | 'stopped' | 'interrupted' | 'diverged';
  steps: number;
  finalEval?: EvalMetrics;
  diverged?: { step: number; loss: number; gradNorm: number };
  /** Why an interrupted run stopped (the abort reason, e.g. 'SIGTERM'). */
  stop?: { reason: string; step: number; at: string };
  /** True when the run was already finished and nothing was computed or changed. */
  unchanged?: boolean;
  device: DeviceInfo;
  /** Where its first weights came from, when it started from another run's (`initFrom`). */
  initFrom?: InitFromRecord;
}

/** Thrown when a run diverged, after its record was written. */
export class TrainingDiverged extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
  }
}

/** What the run directory's records say about the process and the scheduler (Slurm) that ran it. */
function runnerFacts(): Record<string, unknown> {
  const e = process.env;
  const slurm = e.SLURM_JOB_ID
    ? { jobId: e.SLURM_JOB_ID, arrayJobId: e.SLURM_ARRAY_JOB_ID, arrayTaskId: e.SLURM_ARRAY_TASK_ID, restartCount: e.SLURM_RESTART_COUNT, node: e.SLURMD_NODENAME }
    : undefined;
  return { pid: process.pid, argv: process.argv.slice(2), ...(slurm ? { slurm } : {}) };
}

/**
 * Opens the run directory under its lock and decides what to do (run-dir.ts). Everything that
 * can refuse the run happens here, before a backend starts; a refused run creates no directory.
 */
export function openRun(runDir: string, cfg: TrainConfig, restart: boolean, vocabAsked: number): { lock: RunLock; plan: RunPlan; created: boolean } {
  const existed = existsSync(runDir);
  ensureDir(runDir, 'create run directory');
  let lock: RunLock | null = null;
  try {
    lock = acquireRunLock(runDir, `train ${cfg.name}`);
    if (restart) {
      lock.release();
      lock = null;
      const aside = moveRunAside(runDir);
      if (aside) log(`restart: moved the earlier run to ${aside}`);
      ensureDir(runDir, 'create run directory');
      lock = acquireRunLock(runDir, `train ${cfg.name}`);
    }
    const removed = removeStaleTemporaries(runDir).concat(removeStaleTemporaries(join(runDir, 'checkpoints')));
    if (removed.length) log(`removed ${removed.length} temporary file(s) left by an interrupted write in ${runDir}`);
    return { lock, plan: planRun(runDir, cfg, { vocabAsked }), created: !existed };
  } catch (err) {
    lock?.release();
    if (!existed) rmSync(runDir, { recursive: true, force: true });
    throw err;
  }
}

/** The records of one training call in its run directory. */
export class RunRecords {
  readonly metricsPath: string;
  readonly ckptDir: string;
  /** Where the first weights came from (initFrom): given at a fresh start, read back from the checkpoint on resume. */
  private initFrom?: InitFromRecord;

  /** @param vars every variable a checkpoint holds (the model's and the optimizer's). */
  constructor(
    readonly runDir: string,
    private readonly cfg: TrainConfig,
    private readonly vars: Record<string, tf.Variable>,
  ) {
    this.metricsPath = join(runDir, 'metrics.jsonl');
    this.ckptDir = join(runDir, 'checkpoints');
  }

  /**
   * Starts the records afresh, or resumes them from the plan's checkpoint (restoring `vars`);
   * then writes the config, the vocabulary and the routing sample's tokens.
   * @param o.initFrom at a fresh start from another run's weights (already set): what was done, for the records.
   * @returns the step to continue from and the training stream positioned there.
   */
  begin(plan: Exclude<RunPlan, { kind: 'finished' }>, o: { corpus: Corpus; stream: BatchStream; device: DeviceInfo; routingSample: Batch[] | null; initFrom?: InitFromRecord }): { startStep: number; stream: BatchStream } {
    const { runDir, cfg, metricsPath } = this;
    const envPath = join(runDir, 'environment.json');
    const now = new Date().toISOString();
    let startStep = 0;
    let stream = o.stream;
    ensureDir(this.ckptDir);
    if (plan.kind === 'resume') {
      const { manifest } = plan.point;
      for (const note of plan.notes) log(note);
      restoreCheckpoint(this.ckptDir, manifest, this.vars);
      stream = BatchStream.restore(stream.split, manifest.state.data);
      startStep = manifest.step;
      this.initFrom = manifest.state.initFrom;
      const asked = cfg.initFrom === undefined ? undefined : resolve(cfg.initFrom);
      if (asked !== this.initFrom?.path) {
        const began = this.initFrom ? `from ${this.initFrom.path} (step ${this.initFrom.step})` : 'from a fresh init';
        log(`${runDir} started ${began} and resumes from its own checkpoint${asked ? `; initFrom ${asked} is not read` : ''}`);
      }
      truncateMetrics(metricsPath, startStep);
      const env = existsSync(envPath) ? JSON.parse(readFileSync(envPath, 'utf8')) : { started: now, resumed: [] };
      const resumption: Record<string, unknown> = { at: now, step: startStep, device: o.device, ...runnerFacts() };
      if (plan.notes.length) resumption.notes = plan.notes;
      if (plan.saved.steps !== cfg.steps) resumption.steps = { from: plan.saved.steps, to: cfg.steps, note: `the learning-rate schedule after step ${startStep} follows ${cfg.steps} steps` };
      env.resumed = [...(env.resumed ?? []), resumption];
      writeJsonAtomic(envPath, { ...env, device: o.device });
      log(`resumed ${runDir} at step ${startStep}${resumption.steps ? ` (steps ${plan.saved.steps} → ${cfg.steps})` : ''}`);
    } else {
      // An attempt that stopped before its first step left at most empty metrics: start clean.
      if (existsSync(metricsPath) && statSync(metricsPath).size > 0) renameSync(metricsPath, join(runDir, `metrics.${Date.now()}.jsonl.bak`));
      writeFileAtomic(metricsPath, '');
      const data = { trainTokens: stream.split.ids.length, validationTokens: o.corpus.split('validation').ids.length };
      this.initFrom = o.initFrom;
      writeJsonAtomic(envPath, { started: now, device: o.device, data, ...runnerFacts(), ...(o.initFrom ? { initFrom: o.initFrom } : {}), resumed: [] });
    }
    writeJsonAtomic(join(runDir, 'config.json'), cfg);
    o.corpus.vocab.save(join(runDir, 'vocab.json'));
    if (o.routingSample && !existsSync(join(runDir, 'routing', 'tokens.bin'))) writeRoutingTokens(runDir, o.routingSample, o.corpus.genres);
    return { startStep, stream };
  }

  appendSteps(rows: StepMetrics[]): void {
    appendLines(this.metricsPath, rows.map((r) => JSON.stringify({ type: 'train', ...r })));
  }

  appendEval(e: EvalMetrics): void {
    appendLines(this.metricsPath, [JSON.stringify({ type: 'eval', ...e })]);
  }

  /** Checkpoint `step`: every variable, and the data stream's position. */
  async checkpoint(step: number, stream: BatchStream): Promise<void> {
    const state: TrainState = { data: stream.state(), config: this.cfg, ...(this.initFrom ? { initFrom: this.initFrom } : {}) };
    await saveCheckpoint(this.ckptDir, step, this.vars, state);
  }

  /** Writes `run.json`: how the run ended. */
  finish(result: RunResult): RunResult {
    const full = this.initFrom ? { ...result, initFrom: this.initFrom } : result;
    writeJsonAtomic(join(this.runDir, 'run.json'), { ...full, finished: new Date().toISOString() });
    return full;
  }
}

/** Appends whole lines and syncs them to disk. */
function appendLines(path: string, lines: string[]): void {
  if (lines.length === 0) return;
  withFsError('append to', path, () => {
    const fd = openSync(path, 'a');
    try {
      writeSync(fd, lines.join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

/** Keeps the metrics of steps ≤ `step` (and drops a torn last line), atomically. */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const keep = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  writeFileAtomic(path, keep.length ? keep.join('\n') + '\n' : '');
}
