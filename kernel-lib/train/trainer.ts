/**
 * The training loop: AdamW with warm-up and decay, gradient clipping, loss = cross-entropy +
 * Σ_layers (balanceCoef·balance + zCoef·z), periodic evaluation, run records and exact resume.
 *
 * Device discipline: a step enqueues work and keeps one small metrics vector on the device; the
 * vectors are read back together every `logEvery` steps (and at evaluations and checkpoints).
 * Nothing else is read during training. A step whose loss or gradients are not finite changes
 * nothing (the update is masked on the device); the next read stops the run, records where it
 * diverged, and leaves the last checkpoint, written before that step, as the good one.
 */
import * as tf from '@tensorflow/tfjs';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoGpuErrors, type DeviceInfo, useBackend } from '../backend/index.ts';
import { BatchStream, fixedBatches, wholeSplitBatches, type Corpus } from '../data/index.ts';
import { corpusFor, isCorpusOf } from './corpus-for.ts';
import { removeStaleTemporaries, writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { ensureDir, withFsError } from '../util/fs-error.ts';
import { log, logToFileWhenStderrCloses } from '../util/log.ts';
import { restoreCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { asTrainConfig, withVocabSize, type TrainConfig } from './config.ts';
import { acquireRunLock, type RunLock } from './run-lock.ts';
import { moveRunAside, planRun, STDERR_LOG, type RunPlan, type TrainState } from './run-dir.ts';

export { readMetrics } from './run-dir.ts';
import { correctCount, crossEntropy, type LanguageModel } from './lm.ts';
import { createTrainStep, HEAD, LAYER_SCALARS } from './step.ts';
import { writeRoutingSnapshot, writeRoutingTokens } from './routing-dump.ts';
import { createModel } from './model-factory.ts';
import { AdamW } from './optimizer.ts';
import { type ProgressSink, terminalProgress } from './progress.ts';
import { learningRate } from './schedule.ts';

/** One training step's metrics, as read back. */
export interface StepMetrics {
  step: number;
  loss: number;
  crossEntropy: number;
  balanceLoss: number;
  zLoss: number;
  gradNorm: number;
  lr: number;
  finite: boolean;
  /** Window average: wall time of the `logEvery` steps up to and including the read, divided by their count. */
  stepMs: number;
  /**
   * CPU time (user + system) of this process per step over the same window, ms. On the CPU
   * backends this is the step's compute, unaffected by other processes sharing the cores
   * (parallel runs of a sweep); on a GPU the wall time is the measure.
   */
  cpuMs: number;
  tokensPerSec: number;
  moe: { layer: number; droppedFraction: number; entropy: number; balanceLoss: number; zLoss: number; meanTopProb: number; countsBefore: number[]; countsKept: number[] }[];
}

export interface EvalMetrics {
  step: number;
  loss: number;
  /** The paper's quality measure: −loss (higher is better). */
  negLogPerplexity: number;
  perplexity: number;
  accuracy: number;
  tokens: number;
  /** Per MoE layer, at the eval capacity factor. */
  droppedFraction: number[];
  /**
   * Final evaluation only: how much the model's outputs on the first half of the group's first
   * sequence change when every later token is replaced (largest |Δ logit|). 0 for a causal LM;
   * above 0 when routing lets later tokens decide earlier ones' outputs (Expert Choice). See {@link futureLeak}.
   */
  futureLeak?: number;
}

/**
 * The causality check behind `EvalMetrics.futureLeak`: replaces every token after the middle of
 * the batch's first sequence (its second half and every later sequence of the routing group),
 * runs both batches in evaluation mode, and returns the largest |Δ logit| over the first
 * sequence's first half. A causal LM with causal routing gives exactly 0: nothing before a
 * position in the group's order changed. Expert Choice gives more: experts choose their tokens
 * from the whole group.
 * @returns float32 scalar (on the device).
 */
export function futureLeak(model: LanguageModel, batch: { inputs: Int32Array; batchSize: number; seqLen: number }, vocabSize: number): tf.Scalar {
  const { batchSize: B, seqLen: S } = batch;
  const half = Math.max(1, Math.floor(S / 2));
  const altered = Int32Array.from(batch.inputs);
  for (let t = half; t < B * S; t++) altered[t] = (altered[t] + 1 + (t % 7)) % vocabSize;
  return tf.tidy(() => {
    const a = model.forward(tf.tensor2d(batch.inputs, [B, S], 'int32'), { training: false }).logits;
    const b = model.forward(tf.tensor2d(altered, [B, S], 'int32'), { training: false }).logits;
    const pick = (x: tf.Tensor3D) => tf.slice(x, [0, 0, 0], [1, half, -1]); // [1,S/2,V] the first sequence's first half
    return tf.max(tf.abs(tf.sub(pick(a), pick(b)))) as tf.Scalar;
  });
}

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
}

export class TrainingDiverged extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
  }
}

export interface TrainOptions {
  /** Progress callback (notebooks); default: a terminal bar or periodic lines on stderr. */
  onProgress?: ProgressSink;
  /** Called with each batch of metrics rows as they are read back. */
  onMetrics?: (rows: StepMetrics[]) => void;
  /** Called after each evaluation. */
  onEval?: (e: EvalMetrics) => void;
  /** Stop (with a checkpoint) after this many steps, as an interruption would: for tests and time-boxed runs. */
  stopAfterSteps?: number;
  /** Use the corpus already loaded (notebooks running several configs). */
  corpus?: Corpus;
  /** Skip backend selection (the caller already chose one). */
  device?: DeviceInfo;
  /** Build the model yourself (a custom LM, or a wrapped one in tests); default: the Transformer of the config. */
  createModel?: (cfg: TrainConfig, vocabSize: number) => LanguageModel;
  /**
   * Stops the run at the next step boundary when aborted: the step in flight finishes, a
   * checkpoint is written, `run.json` records the stop (status `interrupted`, the abort reason),
   * and `train` resolves. Resuming later continues exactly. The CLI aborts on SIGINT and SIGTERM.
   */
  signal?: AbortSignal;
  /**
   * Start afresh even if the run directory holds an earlier run: that directory is first moved
   * aside, whole, as `<name>.replaced-<time>` (nothing is deleted). Without it, a directory with
   * metrics or checkpoints is resumed, left as it is when finished, or refused.
   */
  restart?: boolean;
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
function openRun(runDir: string, cfg: TrainConfig, restart: boolean, vocabAsked: number): { lock: RunLock; plan: RunPlan; created: boolean } {
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

/**
 * The data of a run, checked against the config (corpus, split, sizes against the corpus):
 * everything about the data that can refuse a run, before anything is written or a backend
 * starts. Sweeps call it once per data configuration before their runs start.
 */
export function prepareData(cfg: TrainConfig, given?: Corpus) {
  const corpus = given ?? corpusFor(cfg);
  if (corpus.options.seed !== cfg.splitSeed || corpus.vocab.size > cfg.vocabSize || !isCorpusOf(corpus, cfg)) {
    throw new Error(`train: the corpus passed in (${corpus.source}) was built with split seed ${corpus.options.seed} and ${corpus.vocab.size} words; the config asks for corpus '${cfg.corpus}', split seed ${cfg.splitSeed} and ${cfg.vocabSize} words`);
  }
  const trainSplit = corpus.split('train');
  const stream = new BatchStream(trainSplit, { seqLen: cfg.seqLen, batchSize: cfg.batchSize, seed: cfg.seed });
  const evalSet = fixedBatches(corpus.split('validation'), { seqLen: cfg.seqLen, batchSize: cfg.batchSize, seed: 4242 }, cfg.evalBatches);
  // The final evaluation reads the whole validation split (finalEvalBatches 0) or a fixed number of batches.
  const finalEvalSet = cfg.finalEvalBatches === 0
    ? wholeSplitBatches(corpus.split('validation'), { seqLen: cfg.seqLen, batchSize: cfg.batchSize, seed: 4242 })
    : fixedBatches(corpus.split('validation'), { seqLen: cfg.seqLen, batchSize: cfg.batchSize, seed: 4242 }, cfg.finalEvalBatches);
  const routingSample = cfg.routingEvery > 0 ? fixedBatches(corpus.split('validation'), { seqLen: cfg.seqLen, batchSize: cfg.batchSize, seed: 777 }, cfg.routingBatches) : null;
  return { corpus, stream, evalSet, finalEvalSet, routingSample };
}

export async function train(cfg: TrainConfig, opts: TrainOptions = {}): Promise<RunResult> {
  cfg = asTrainConfig(cfg, 'train'); // a config resolveTrainConfig made is taken as it is
  // ---- everything that can be checked before the backend starts: data, run directory
  const { corpus, stream, evalSet, finalEvalSet, routingSample } = prepareData(cfg, opts.corpus);
  const vocabAsked = cfg.vocabSize;
  if (corpus.vocab.size < cfg.vocabSize) {
    // The vocabulary holds every word of the training split and no more: record what is used.
    log(`vocabSize ${cfg.vocabSize} asked for, but the training split of ${cfg.corpus} has ${corpus.vocab.size - 3} distinct words: the vocabulary (and the run's config.json) has ${corpus.vocab.size}`);
    cfg = withVocabSize(cfg, corpus.vocab.size);
  }
  const runDir = join(cfg.outDir, cfg.name);
  const { lock, plan, created } = openRun(runDir, cfg, opts.restart ?? false, vocabAsked);
  let wrote = false; // whether anything was written into a directory this call created
  // A closed stderr (a pipe to `head`, a dead `tee`) does not stop the run: its log lines go here.
  const stopLogFile = logToFileWhenStderrCloses(join(runDir, STDERR_LOG));
  try {
    if (plan.kind === 'finished') {
      log(plan.note);
      const r = plan.record as unknown as RunResult;
      if (plan.rebuilt) {
        writeJsonAtomic(join(runDir, 'run.json'), plan.record);
        return { ...r, runDir };
      }
      return { ...r, runDir, unchanged: true };
    }
    const device = opts.device ?? (await useBackend(cfg.backend));
    return await runTraining(cfg, opts, { corpus, stream, evalSet, finalEvalSet, routingSample, runDir, plan, device, markWritten: () => (wrote = true) });
  } catch (err) {
    if (created && !wrote) rmSync(runDir, { recursive: true, force: true });
    throw err;
  } finally {
    stopLogFile();
    lock.release();
  }
}

interface Prepared {
  corpus: Corpus;
  stream: BatchStream;
  evalSet: ReturnType<typeof fixedBatches>;
  finalEvalSet: ReturnType<typeof fixedBatches>;
  routingSample: ReturnType<typeof fixedBatches> | null;
  runDir: string;
  plan: Exclude<RunPlan, { kind: 'finished' }>;
  device: DeviceInfo;
  markWritten: () => void;
}

async function runTraining(cfg: TrainConfig, opts: TrainOptions, prep: Prepared): Promise<RunResult> {
  const { corpus, evalSet, finalEvalSet, routingSample, runDir, plan, device } = prep;
  let stream = prep.stream;
  const ckptDir = join(runDir, 'checkpoints');
  const V = corpus.vocab.size;
  const model: LanguageModel = (opts.createModel ?? createModel)(cfg, V);
  const params = model.namedVariables();
  const opt = new AdamW(params, { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon, weightDecay: cfg.weightDecay });
  const pending: { step: number; lr: number; vec: tf.Tensor1D }[] = []; // metrics vectors not yet read
  // From here on, the model and optimizer are disposed however the run ends.
  try {
    const allVars = { ...params, ...opt.namedState() };

    // ---- fresh start or resume
    let startStep = 0;
    const metricsPath = join(runDir, 'metrics.jsonl');
    const envPath = join(runDir, 'environment.json');
    const now = new Date().toISOString();
    prep.markWritten();
    ensureDir(ckptDir);
    if (plan.kind === 'resume') {
      const { manifest } = plan.point;
      for (const note of plan.notes) log(note);
      restoreCheckpoint(ckptDir, manifest, allVars);
      stream = BatchStream.restore(stream.split, manifest.state.data);
      startStep = manifest.step;
      truncateMetrics(metricsPath, startStep);
      const env = existsSync(envPath) ? JSON.parse(readFileSync(envPath, 'utf8')) : { started: now, resumed: [] };
      const resumption: Record<string, unknown> = { at: now, step: startStep, device, ...runnerFacts() };
      if (plan.notes.length) resumption.notes = plan.notes;
      if (plan.saved.steps !== cfg.steps) resumption.steps = { from: plan.saved.steps, to: cfg.steps, note: `the learning-rate schedule after step ${startStep} follows ${cfg.steps} steps` };
      env.resumed = [...(env.resumed ?? []), resumption];
      writeJsonAtomic(envPath, { ...env, device });
      log(`resumed ${runDir} at step ${startStep}${resumption.steps ? ` (steps ${plan.saved.steps} → ${cfg.steps})` : ''}`);
    } else {
      // An attempt that stopped before its first step left at most empty metrics: start clean.
      if (existsSync(metricsPath) && statSync(metricsPath).size > 0) renameSync(metricsPath, join(runDir, `metrics.${Date.now()}.jsonl.bak`));
      writeFileAtomic(metricsPath, '');
      const data = { trainTokens: stream.split.ids.length, validationTokens: corpus.split('validation').ids.length };
      writeJsonAtomic(envPath, { started: now, device, data, ...runnerFacts(), resumed: [] });
    }
    writeJsonAtomic(join(runDir, 'config.json'), cfg);
    corpus.vocab.save(join(runDir, 'vocab.json'));
    if (routingSample && !existsSync(join(runDir, 'routing', 'tokens.bin'))) writeRoutingTokens(runDir, routingSample, corpus.genres);

    const display = terminalProgress(cfg.progress);
    const progress = opts.onProgress ?? display.update;
    const t0 = performance.now();
    const B = cfg.batchSize;
    const S = cfg.seqLen;
    let windowStart = performance.now();
    let windowCpu = process.cpuUsage();
    let lastEval: EvalMetrics | undefined;
    let diverged: RunResult['diverged'];

    const stepper = createTrainStep(model, params, opt, { batchSize: B, seqLen: S, seed: cfg.seed, gradClip: cfg.gradClip });

    const flush = async (): Promise<StepMetrics[]> => {
      if (pending.length === 0) return [];
      const stacked = tf.stack(pending.map((p) => p.vec));
      const data = await stacked.data(); // the scheduled read
      assertNoGpuErrors('training');
      const now = performance.now();
      const width = stacked.shape[1]!;
      stacked.dispose();
      const windowMs = now - windowStart;
      windowStart = now;
      const cpu = process.cpuUsage(windowCpu);
      windowCpu = process.cpuUsage();
      const stepMs = windowMs / pending.length;
      const cpuMs = (cpu.user + cpu.system) / 1000 / pending.length;
      const { layers, experts: E } = stepper.layout();
      const rows: StepMetrics[] = pending.map((p, i) => {
        const r = data.subarray(i * width, (i + 1) * width);
        const moe = layers.map((layer, j) => {
          const o = HEAD + j * (LAYER_SCALARS + 2 * E);
          return {
            layer,
            droppedFraction: r[o],
            entropy: r[o + 1],
            balanceLoss: r[o + 2],
            zLoss: r[o + 3],
            meanTopProb: r[o + 4],
            countsBefore: Array.from(r.subarray(o + LAYER_SCALARS, o + LAYER_SCALARS + E)),
            countsKept: Array.from(r.subarray(o + LAYER_SCALARS + E, o + LAYER_SCALARS + 2 * E)),
          };
        });
        return {
          step: p.step + 1,
          loss: r[0],
          gradNorm: r[1],
          finite: r[2] === 1,
          crossEntropy: r[3],
          balanceLoss: r[4],
          zLoss: r[5],
          lr: p.lr,
          stepMs,
          cpuMs,
          tokensPerSec: (B * S * 1000) / stepMs,
          moe,
        };
      });
      tf.dispose(pending.map((p) => p.vec));
      pending.length = 0;
      appendLines(metricsPath, rows.map((r) => JSON.stringify({ type: 'train', ...r })));
      const bad = rows.find((r) => !r.finite);
      if (bad) diverged = { step: bad.step, loss: bad.loss, gradNorm: bad.gradNorm };
      const last = rows[rows.length - 1];
      opts.onMetrics?.(rows);
      progress({ step: last.step, steps: cfg.steps, loss: last.loss, tokensPerSec: last.tokensPerSec, evalLoss: lastEval?.loss, evalStep: lastEval?.step, elapsedSec: (now - t0) / 1000 });
      return rows;
    };

    const evaluate = async (step: number): Promise<EvalMetrics> => {
      let sums: tf.Tensor | null = null; // [2 + MoE layers], accumulated on the device
      const final = step === cfg.steps;
      const batches = final ? finalEvalSet : evalSet;
      for (const batch of batches) {
        const prev: tf.Tensor | null = sums;
        sums = tf.tidy(() => {
          const ids = tf.tensor2d(batch.inputs, [B, S], 'int32');
          const targets = tf.tensor2d(batch.targets, [B, S], 'int32');
          const out = model.forward(ids, { training: false });
          const parts = [tf.mul(crossEntropy(out.logits, targets), B * S), correctCount(out.logits, targets), ...out.moe.map((m) => m.metrics.droppedFraction)];
          const v = tf.stack(parts);
          return prev ? tf.add(prev, v) : v;
        });
        prev?.dispose();
      }
      if (!sums) throw new Error('train: evalBatches must be ≥ 1');
      const withLeak = final && S >= 2; // the causality check needs a first and a second half
      if (withLeak) {
        const prev: tf.Tensor = sums;
        sums = tf.tidy(() => tf.concat([prev, tf.reshape(futureLeak(model, evalSet[0], V), [1])]));
        prev.dispose();
      }
      const d = await sums.data(); // one read per evaluation
      sums.dispose();
      const tokens = batches.length * B * S;
      const loss = d[0] / tokens;
      const L = d.length - 2 - (withLeak ? 1 : 0);
      const e: EvalMetrics = { step, loss, negLogPerplexity: -loss, perplexity: Math.exp(loss), accuracy: d[1] / tokens, tokens, droppedFraction: Array.from(d.subarray(2, 2 + L)).map((v) => v / batches.length) };
      if (withLeak) e.futureLeak = d[d.length - 1];
      appendLines(metricsPath, [JSON.stringify({ type: 'eval', ...e })]);
      lastEval = e;
      opts.onEval?.(e);
      return e;
    };

    const checkpoint = async (step: number) => {
      const state: TrainState = { data: stream.state(), config: cfg };
      await saveCheckpoint(ckptDir, step, allVars, state);
    };

    const finish = (status: RunResult['status'], steps: number, stop?: RunResult['stop']): RunResult => {
      display.done();
      const result: RunResult = { runDir, status, steps, finalEval: lastEval, diverged, device, ...(stop ? { stop } : {}) };
      writeJsonAtomic(join(runDir, 'run.json'), { ...result, finished: new Date().toISOString() });
      return result;
    };

    // Every run directory that holds metrics holds a checkpoint to resume from.
    if (plan.kind === 'fresh') await checkpoint(0);
    if (routingSample && plan.kind === 'fresh') await writeRoutingSnapshot(runDir, model, routingSample, 0);
    const stopAt = Math.min(cfg.steps, opts.stopAfterSteps ?? Infinity);
    const signal = opts.signal;
    for (let step = startStep; step < stopAt; step++) {
      const lr = learningRate(step, { lr: cfg.lr, minLr: cfg.minLr, warmupSteps: cfg.warmupSteps, steps: cfg.steps, decay: cfg.decay });
      const batch = stream.next();
      pending.push({ step, lr, vec: stepper.run(batch.inputs, batch.targets, step, lr) });
      const done = step + 1;
      const last = done === stopAt;
      const evalNow = done === cfg.steps || (cfg.evalEvery > 0 && done % cfg.evalEvery === 0);
      const ckptNow = last || (cfg.checkpointEvery > 0 && done % cfg.checkpointEvery === 0);
      if (done % cfg.logEvery === 0 || last || evalNow || ckptNow) await flush();
      if (diverged) {
        const result = finish('diverged', done);
        throw new TrainingDiverged(
          `training diverged: non-finite loss or gradients at step ${diverged.step} (loss ${diverged.loss}, grad norm ${diverged.gradNorm}); ` +
            `that step's update was masked and the run stopped at the next read (step ${done}); no checkpoint was written after step ${diverged.step}, so the last good one in ${ckptDir} is kept. Try a lower lr, gradClip, or a larger zCoef.`,
          result,
        );
      }
      if (evalNow) await evaluate(done);
      if (routingSample && (done === cfg.steps || done % cfg.routingEvery === 0)) await writeRoutingSnapshot(runDir, model, routingSample, done);
      if (ckptNow) await checkpoint(done);
      if (!last) {
        // Yield every step: a wasm or cpu step never yields on its own, and a pending signal
        // handler and the run lock's heartbeat timer wait for the event loop.
        await new Promise((r) => setImmediate(r));
        if (signal?.aborted) {
          await flush();
          if (!ckptNow) await checkpoint(done);
          const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
          log(`stopped at step ${done} (${reason}); checkpoint written, resume with the same command`);
          return finish('interrupted', done, { reason, step: done, at: new Date().toISOString() });
        }
      }
    }
    return finish(stopAt < cfg.steps ? 'stopped' : 'completed', Math.max(startStep, stopAt));
  } finally {
    tf.dispose(pending.map((p) => p.vec));
    model.dispose();
    opt.dispose();
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
