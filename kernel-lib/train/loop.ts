/**
 * The training loop of one run directory, once train() (trainer.ts) has prepared its data and
 * opened it: steps, the scheduled metric reads, evaluations, routing snapshots, checkpoints, and
 * how it ends (completed, stopped, interrupted by its signal, or diverged).
 */
import type { DeviceInfo } from '../backend/index.ts';
import type { Batch, BatchStream, Corpus } from '../data/index.ts';
import { log } from '../util/log.ts';
import type { TrainConfig } from './config.ts';
import { evaluate } from './evaluate.ts';
import type { LanguageModel } from './lm.ts';
import { PendingSteps, type EvalMetrics, type StepMetrics } from './metrics.ts';
import { createModel } from './model-factory.ts';
import { AdamW } from './optimizer.ts';
import { type ProgressSink, terminalProgress } from './progress.ts';
import { writeRoutingSnapshot } from './routing-dump.ts';
import type { RunPlan } from './run-dir.ts';
import { RunRecords, TrainingDiverged, type RunResult } from './run-records.ts';
import { learningRate } from './schedule.ts';
import { createTrainStep } from './step.ts';
import { stopReason, yieldToEventLoop } from './stop.ts';
import { applyInitSource, describeInitFrom, type InitSource } from './upcycle.ts';

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

/** What train() hands the loop: the run's data and its opened directory. */
export interface Prepared {
  corpus: Corpus;
  stream: BatchStream;
  evalSet: Batch[];
  finalEvalSet: Batch[];
  routingSample: Batch[] | null;
  runDir: string;
  plan: Exclude<RunPlan, { kind: 'finished' }>;
  device: DeviceInfo;
  /** The run to take the first weights from (`initFrom`), for a fresh start only. */
  init?: InitSource;
  /** Called before the first write into the run directory. */
  markWritten: () => void;
}

export async function runTraining(cfg: TrainConfig, opts: TrainOptions, prep: Prepared): Promise<RunResult> {
  const { corpus, evalSet, finalEvalSet, routingSample, runDir, plan, device } = prep;
  const V = corpus.vocab.size;
  const model: LanguageModel = (opts.createModel ?? createModel)(cfg, V);
  const params = model.namedVariables();
  const opt = new AdamW(params, { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon, weightDecay: cfg.weightDecay });
  const B = cfg.batchSize;
  const S = cfg.seqLen;
  let pending: PendingSteps | undefined;
  // From here on, the model and optimizer are disposed however the run ends.
  try {
    // Another run's final weights (initFrom), set before anything is written; the optimizer starts afresh.
    const initFrom = prep.init && plan.kind === 'fresh' ? applyInitSource(prep.init, { ...params, ...model.namedState?.() }) : undefined;
    if (initFrom) log(describeInitFrom(initFrom));
    // The checkpoint holds the weights, the optimizer's state and the model's untrained state (router biases).
    const records = new RunRecords(runDir, cfg, { ...params, ...opt.namedState(), ...model.namedState?.() });
    prep.markWritten();
    const { startStep, stream } = records.begin(plan, { corpus, stream: prep.stream, device, routingSample, initFrom });

    const display = terminalProgress(cfg.progress);
    const progress = opts.onProgress ?? display.update;
    const t0 = performance.now();
    pending = new PendingSteps(B * S);
    const waiting = pending;
    let lastEval: EvalMetrics | undefined;
    let diverged: RunResult['diverged'];
    const stepper = createTrainStep(model, params, opt, { batchSize: B, seqLen: S, seed: cfg.seed, gradClip: cfg.gradClip });

    /** The scheduled read: every waiting step's metrics, recorded and shown. */
    const readBack = async (): Promise<void> => {
      const rows = await waiting.read(stepper.layout());
      if (rows.length === 0) return;
      records.appendSteps(rows);
      const bad = rows.find((r) => !r.finite);
      if (bad) diverged = { step: bad.step, loss: bad.loss, gradNorm: bad.gradNorm };
      const last = rows[rows.length - 1];
      opts.onMetrics?.(rows);
      progress({ step: last.step, steps: cfg.steps, loss: last.loss, tokensPerSec: last.tokensPerSec, evalLoss: lastEval?.loss, evalStep: lastEval?.step, elapsedSec: (performance.now() - t0) / 1000 });
    };

    const evaluateAt = async (step: number): Promise<void> => {
      const final = step === cfg.steps;
      const e = await evaluate(model, final ? finalEvalSet : evalSet, { step, batchSize: B, seqLen: S, vocabSize: V, leakOn: final ? evalSet[0] : undefined });
      records.appendEval(e);
      lastEval = e;
      opts.onEval?.(e);
    };

    const finish = (status: RunResult['status'], steps: number, stop?: RunResult['stop']): RunResult => {
      display.done();
      return records.finish({ runDir, status, steps, finalEval: lastEval, diverged, device, ...(stop ? { stop } : {}) });
    };

    // Every run directory that holds metrics holds a checkpoint to resume from.
    if (plan.kind === 'fresh') await records.checkpoint(0, stream);
    if (routingSample && plan.kind === 'fresh') await writeRoutingSnapshot(runDir, model, routingSample, 0);
    const stopAt = Math.min(cfg.steps, opts.stopAfterSteps ?? Infinity);
    for (let step = startStep; step < stopAt; step++) {
      const lr = learningRate(step, { lr: cfg.lr, minLr: cfg.minLr, warmupSteps: cfg.warmupSteps, steps: cfg.steps, decay: cfg.decay });
      const batch = stream.next();
      waiting.push(step, lr, stepper.run(batch.inputs, batch.targets, step, lr));
      const done = step + 1;
      const last = done === stopAt;
      const evalNow = done === cfg.steps || (cfg.evalEvery > 0 && done % cfg.evalEvery === 0);
      const ckptNow = last || (cfg.checkpointEvery > 0 && done % cfg.checkpointEvery === 0);
      if (done % cfg.logEvery === 0 || last || evalNow || ckptNow) await readBack();
      if (diverged) {
        const result = finish('diverged', done);
        throw new TrainingDiverged(
          `training diverged: non-finite loss or gradients at step ${diverged.step} (loss ${diverged.loss}, grad norm ${diverged.gradNorm}); ` +
            `that step's update was masked and the run stopped at the next read (step ${done}); no checkpoint was written after step ${diverged.step}, so the last good one in ${records.ckptDir} is kept. Try a lower lr, gradClip, or a larger zCoef.`,
          result,
        );
      }
      if (evalNow) await evaluateAt(done);
      if (routingSample && (done === cfg.steps || done % cfg.routingEvery === 0)) await writeRoutingSnapshot(runDir, model, routingSample, done);
      if (ckptNow) await records.checkpoint(done, stream);
      if (!last) {
        await yieldToEventLoop();
        const reason = stopReason(opts.signal);
        if (reason !== null) {
          await readBack();
          if (!ckptNow) await records.checkpoint(done, stream);
          log(`stopped at step ${done} (${reason}); checkpoint written, resume with the same command`);
          return finish('interrupted', done, { reason, step: done, at: new Date().toISOString() });
        }
      }
    }
    return finish(stopAt < cfg.steps ? 'stopped' : 'completed', Math.max(startStep, stopAt));
  } finally {
    pending?.dispose();
    model.dispose();
    opt.dispose();
  }
}
