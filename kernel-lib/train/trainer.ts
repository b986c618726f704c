/**
 * Training a language model in a run directory: AdamW with warm-up and decay, gradient clipping,
 * loss = cross-entropy + Σ_layers (balanceCoef·balance + zCoef·z), periodic evaluation, run
 * records and exact resume. By concern:
 *
 * - here: `train()`, the entry: the config resolved, the data prepared and the run directory
 *   opened (everything that can refuse a run, before a backend starts), then the loop;
 * - loop.ts: the steps, reads, evaluations, snapshots and checkpoints, and how a run ends;
 * - step.ts: one step as a function; metrics.ts: its metrics vector, encoded and decoded;
 * - evaluate.ts: evaluation and the future-leak check;
 * - run-records.ts: the run directory's records, a fresh start or an exact resume, run.json;
 *   run-dir.ts: what may be done with a run directory;
 * - stop.ts: stopping at a step boundary when the run's signal is aborted (SIGINT, SIGTERM);
 * - upcycle.ts: starting from another run's final weights (`initFrom`: sparse upcycling, warm starts).
 *
 * Device discipline: a step enqueues work and keeps one small metrics vector on the device; the
 * vectors are read back together every `logEvery` steps (and at evaluations and checkpoints).
 * Nothing else is read during training. A step whose loss or gradients are not finite changes
 * nothing (the update is masked on the device); the next read stops the run, records where it
 * diverged, and leaves the last checkpoint, written before that step, as the good one.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { useBackend } from '../backend/index.ts';
import { BatchStream, fixedBatches, wholeSplitBatches, type Corpus } from '../data/index.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { log, logToFileWhenStderrCloses } from '../util/log.ts';
import { asTrainConfig, withVocabSize, type TrainConfig } from './config.ts';
import { corpusFor, isCorpusOf } from './corpus-for.ts';
import { runTraining, type TrainOptions } from './loop.ts';
import { STDERR_LOG } from './run-dir.ts';
import { openRun, type RunResult } from './run-records.ts';
import { openInitSource } from './upcycle.ts';

export { readMetrics } from './run-dir.ts';
export { futureLeak } from './evaluate.ts';
export type { EvalMetrics, StepMetrics } from './metrics.ts';
export type { TrainOptions } from './loop.ts';
export { TrainingDiverged, type RunResult } from './run-records.ts';

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
    // Another run's final weights to start from (initFrom): read and checked only when the run
    // starts afresh (a resumed run continues from its own checkpoint), before the backend starts.
    const init = plan.kind === 'fresh' && cfg.initFrom !== undefined ? openInitSource(cfg, corpus.vocab) : undefined;
    const device = opts.device ?? (await useBackend(cfg.backend));
    return await runTraining(cfg, opts, { corpus, stream, evalSet, finalEvalSet, routingSample, runDir, plan, device, init, markWritten: () => (wrote = true) });
  } catch (err) {
    if (created && !wrote) rmSync(runDir, { recursive: true, force: true });
    throw err;
  } finally {
    stopLogFile();
    lock.release();
  }
}
