/**
 * Starting a run from another run's final weights (`initFrom`): sparse upcycling (Komatsuzaki et
 * al. 2022, "Sparse Upcycling: Training Mixture-of-Experts from Dense Checkpoints", arXiv
 * 2212.05055) and plain warm starts. Block by block, weight by weight (names as in
 * model/transformer.ts):
 *
 * - a block dense in the source and an MoE layer here is upcycled: each of its E experts is a copy
 *   of the source's dense FFN (`moe/w1[e] = ffn/w1` [D,F], `moe/w2[e] = ffn/w2` [F,D]; the FFNs
 *   have no biases), and so is each shared expert (see below); its router keeps the init a fresh
 *   run gives it (the new run's seed), as the paper's router, the one weight without a
 *   counterpart in the dense model; a router bias (biasUpdateRate > 0) starts at zero;
 * - every other weight (embeddings, attention, LayerNorms, the output projection, a block of the
 *   same kind on both sides, an MoE layer's router bias) is copied as it is: where no block is
 *   upcycled this is a plain warm start.
 *
 * Shared experts (numSharedExperts > 0, DeepSeekMoE) of an upcycled block are copies of the dense
 * FFN too: a shared expert is what the dense FFN was, an FFN every token passes through with
 * weight 1, so it has a counterpart, and the paper's rule (copy everything that has one, only the
 * router is new) copies it. The price: the layer's output at step 0 is (Σ gates + S)·FFN(x), not
 * FFN(x) (top-1: (p + S)·FFN(x), p the top router probability; top-k, whose gates are
 * renormalised to sum to 1, without shared experts: FFN(x) exactly).
 *
 * Optimizer state: fresh (AdamW moments zero, its step 0), and the new run's learning-rate
 * schedule (warm-up included) starts at step 0. The paper copies the dense checkpoint's
 * optimizer state "optionally" (its Fig. 1; t5x's UpcycleCheckpointer can) and continues the
 * dense run's schedule; here the new run is a run of its own with its own schedule, and AdamW's
 * bias correction (1 − β^t) with t restarted at 0 would inflate copied moments ~1/(1 − β1) at
 * the first step; fresh moments with a fresh warm-up are the consistent choice.
 *
 * Shapes must fit, or the run is refused before anything is written, naming the values and the
 * source: vocabulary (size and words), dModel, seqLen, numHeads, numLayers, tiedEmbeddings,
 * activation; per block: dense ↔ dense the same dFf; dense → MoE an expert width (expertDff ??
 * dFf) and a shared width (sharedDff ?? dFf) equal to the source's dFf; MoE → MoE the same
 * numExperts, expert width, numSharedExperts and shared width; MoE → dense is refused. The
 * source must be a finished run: its newest intact checkpoint at the last step its config asks for.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Vocab } from '../data/index.ts';
import { isMoeLayer } from '../model/config.ts';
import { expertWidth, sharedWidth } from '../moe/config.ts';
import { findResumePoint, readCheckpointTensors, type CheckpointManifest, type ResumePoint } from './checkpoint.ts';
import type { TrainConfig } from './config.ts';
import { readSavedConfig, type InitFromRecord, type TrainState } from './run-dir.ts';

/** How one weight of the new model is set. */
export type UpcycleStep =
  | { how: 'copy'; from: string }
  /** `copies` stacked copies of the source's dense FFN weight `from` (experts or shared experts). */
  | { how: 'fromDense'; from: string; copies: number }
  /** Left as a fresh run initialises it. */
  | { how: 'fresh' };

export interface UpcyclePlan {
  /** Every weight and state of the new model, by name. */
  steps: Record<string, UpcycleStep>;
  /** Source weights and state the new model has no place for (only router biases may be). */
  unused: string[];
}

/** `block{i}/moe/{w1,w2,shared_w1,shared_w2,router,router_bias}` and the dense FFN weight each is made from. */
const MOE_NAME = /^block(\d+)\/moe\/(w1|w2|shared_w1|shared_w2|router|router_bias)$/;
const DENSE_OF: Record<string, string> = { w1: 'w1', w2: 'w2', shared_w1: 'w1', shared_w2: 'w2' };
/** The optimizer's state in a checkpoint: never taken (see the file's comment). */
const isOptimizerState = (name: string) => name.startsWith('opt/');
const isRouterBias = (name: string) => name.endsWith('/moe/router_bias');
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const show = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * The mapping from a source checkpoint's tensors to the new model's, by name and shape only.
 * @param source shape of each source tensor by name (optimizer state `opt/…` is ignored).
 * @param target shape of each of the new model's weights and state by name.
 * @throws naming the tensor, when a shape does not fit or a weight has no source.
 */
export function planUpcycle(source: Record<string, readonly number[]>, target: Record<string, readonly number[]>): UpcyclePlan {
  const steps: Record<string, UpcycleStep> = {};
  const used = new Set<string>();
  for (const [name, shape] of Object.entries(target)) {
    if (name in source) {
      if (!same(source[name], shape)) throw new Error(`'${name}' is ${show(source[name])} in the source, ${show(shape)} here`);
      steps[name] = { how: 'copy', from: name };
      used.add(name);
      continue;
    }
    const m = MOE_NAME.exec(name);
    const denseThere = m !== null && `block${m[1]}/ffn/w1` in source;
    if (m && denseThere && DENSE_OF[m[2]]) {
      // [n, ...dense shape]: n experts (or shared experts), each a copy of the dense FFN weight.
      const from = `block${m[1]}/ffn/${DENSE_OF[m[2]]}`;
      if (!(from in source)) throw new Error(`the source has 'block${m[1]}/ffn/w1' but no '${from}'`);
      if (!same(source[from], shape.slice(1))) {
        throw new Error(`'${name}' is ${show(shape)} here: ${shape[0]} copies of the source's dense '${from}' ${show(source[from])} need ${show([shape[0], ...source[from]])}`);
      }
      steps[name] = { how: 'fromDense', from, copies: shape[0] };
      used.add(from);
    } else if ((m && denseThere) || isRouterBias(name)) {
      steps[name] = { how: 'fresh' }; // a router (or router bias) the dense block did not have, or a bias the source's layer had none of
    } else {
      const b = /^block(\d+)\/ffn\//.exec(name);
      const why = b && `block${b[1]}/moe/w1` in source ? `: block ${b[1]} is an MoE layer there and dense here, and a dense FFN is not made from experts` : '';
      throw new Error(`the source has no '${name}' ${show(shape)}${why}`);
    }
  }
  const unused = Object.keys(source).filter((n) => !isOptimizerState(n) && !used.has(n));
  const lost = unused.filter((n) => !isRouterBias(n));
  if (lost.length) throw new Error(`the source's ${lost.map((n) => `'${n}' ${show(source[n])}`).join(', ')} would have no place in this model`);
  return { steps, unused };
}

/**
 * Sets the new model's weights and state from a source checkpoint's tensors ({@link planUpcycle}):
 * copies, stacked copies of dense FFN weights for experts, and fresh inits left as they are. A
 * dense `block{i}/ffn/w1` float32[D,F] becomes `block{i}/moe/w1` float32[E,D,F] (and `shared_w1`
 * [S,D,F]), `ffn/w2` [F,D] becomes `moe/w2` [E,F,D] (and `shared_w2` [S,F,D]). All values are
 * exact copies (no arithmetic). Nothing is assigned when the plan throws; every intermediate
 * tensor is disposed.
 * @param source source tensors by name (the caller keeps and disposes them).
 * @param target the new model's variables, freshly initialised, by name.
 */
export function upcycleWeights(source: Record<string, tf.Tensor>, target: Record<string, tf.Variable>): UpcyclePlan {
  const shapes = (o: Record<string, tf.Tensor>) => Object.fromEntries(Object.entries(o).map(([n, t]) => [n, t.shape]));
  const plan = planUpcycle(shapes(source), shapes(target));
  for (const [name, step] of Object.entries(plan.steps)) {
    if (step.how === 'fresh') continue;
    const v = target[name];
    tf.tidy(() => {
      const src = source[step.from];
      if (step.how === 'copy') v.assign(src);
      else v.assign(tf.tile(tf.expandDims(src, 0), [step.copies, ...src.shape.map(() => 1)])); // [n, ...]
    });
  }
  return plan;
}

/** A finished run to start from, read and checked before anything is written. */
export interface InitSource {
  given: string;
  /** The run directory, absolute. */
  path: string;
  point: ResumePoint<TrainState>;
  config: TrainConfig;
}

/**
 * Why the source's model does not fit this run's (one phrase per mismatch), or none.
 * @param vocab this run's vocabulary (the words actually built).
 * @param sourceTokens the source's vocabulary (its vocab.json).
 */
export function fitProblems(source: TrainConfig, target: TrainConfig, vocab: Pick<Vocab, 'tokens' | 'size'>, sourceTokens: readonly string[]): string[] {
  const out: string[] = [];
  if (source.vocabSize !== vocab.size) out.push(`vocabulary ${source.vocabSize} there, ${vocab.size} here`);
  else if (sourceTokens.some((t, i) => t !== vocab.tokens[i])) {
    out.push(`vocabulary: ${vocab.size} words on both sides but other words (corpus '${source.corpus}', splitSeed ${source.splitSeed} there; '${target.corpus}', ${target.splitSeed} here)`);
  }
  for (const k of ['dModel', 'seqLen', 'numHeads', 'numLayers', 'tiedEmbeddings', 'activation'] as const) {
    if (source[k] !== target[k]) out.push(`${k} = ${String(source[k])} there, ${String(target[k])} here`);
  }
  if (source.numLayers !== target.numLayers) return out;
  const perBlock = new Map<string, number[]>(); // problem → blocks
  const note = (i: number, problem: string) => perBlock.set(problem, [...(perBlock.get(problem) ?? []), i]);
  for (let i = 0; i < target.numLayers; i++) {
    const [moeThere, moeHere] = [isMoeLayer(source, i), isMoeLayer(target, i)];
    if (!moeThere && !moeHere && source.dFf !== target.dFf) note(i, `dFf = ${source.dFf} there, ${target.dFf} here`);
    if (!moeThere && moeHere) {
      // Upcycled: every expert and shared expert is a copy of the dense FFN, so has its width.
      if (expertWidth(target) !== source.dFf) note(i, `expert width (expertDff ?? dFf) = ${expertWidth(target)} here must be the dense FFN's dFf = ${source.dFf} there (each expert is a copy of it)`);
      if (target.numSharedExperts > 0 && sharedWidth(target) !== source.dFf) note(i, `shared expert width (sharedDff ?? dFf) = ${sharedWidth(target)} here must be the dense FFN's dFf = ${source.dFf} there (each shared expert is a copy of it)`);
    }
    if (moeThere && moeHere) {
      const pairs = [['numExperts', source.numExperts, target.numExperts], ['expert width (expertDff ?? dFf)', expertWidth(source), expertWidth(target)], ['numSharedExperts', source.numSharedExperts, target.numSharedExperts]] as const;
      for (const [k, a, b] of pairs) if (a !== b) note(i, `${k} = ${a} there, ${b} here`);
      if (target.numSharedExperts > 0 && source.numSharedExperts === target.numSharedExperts && sharedWidth(source) !== sharedWidth(target)) note(i, `shared expert width (sharedDff ?? dFf) = ${sharedWidth(source)} there, ${sharedWidth(target)} here`);
    }
    if (moeThere && !moeHere) note(i, 'an MoE layer there and a dense FFN here (a dense FFN is not made from experts)');
  }
  for (const [problem, blocks] of perBlock) out.push(`${blocks.length > 1 ? 'blocks' : 'block'} ${blocks.join(', ')}: ${problem}`);
  return out;
}

/**
 * Reads and checks the run `cfg.initFrom` names: a finished run (its newest intact checkpoint at
 * the last step of its config) whose model fits this run's ({@link fitProblems}). Reads only;
 * throws naming the path (and the values that do not fit).
 * @param vocab this run's vocabulary.
 */
export function openInitSource(cfg: TrainConfig, vocab: Pick<Vocab, 'tokens' | 'size'>): InitSource {
  const given = cfg.initFrom!;
  const path = resolve(given);
  const what = `initFrom '${given}' (${path})`;
  const refuse = (why: string): never => {
    throw new Error(`${what}: ${why}; nothing was written`);
  };
  if (!existsSync(path)) refuse('no such run directory');
  if (!statSync(path).isDirectory()) refuse('not a directory');
  let point: ResumePoint<TrainState> | null = null;
  try {
    point = findResumePoint<TrainState>(join(path, 'checkpoints'));
  } catch (err) {
    refuse(`no intact checkpoint (${(err as Error).message})`);
  }
  if (!point) return refuse('no checkpoint: not a run directory, or a run that never started; name a finished run');
  const config = readSavedConfig(path, point) ?? refuse('no saved config (config.json) beside its checkpoint');
  const step = point.manifest.step;
  const recordPath = join(path, 'run.json');
  let record: { status?: string; steps?: number } | null = null;
  try {
    record = existsSync(recordPath) ? JSON.parse(readFileSync(recordPath, 'utf8')) : null;
  } catch (err) {
    refuse(`its run.json is unreadable (${(err as Error).message})`);
  }
  if (record && record.status !== 'completed') refuse(`not a finished run: its run.json says ${record.status} at step ${record.steps}`);
  if (step !== config.steps) refuse(`not a finished run: its newest checkpoint is at step ${step} of the ${config.steps} its config asks for`);
  const vocabPath = join(path, 'vocab.json');
  if (!existsSync(vocabPath)) refuse('no vocab.json');
  let sourceTokens: string[] = [];
  try {
    sourceTokens = (JSON.parse(readFileSync(vocabPath, 'utf8')) as { tokens?: string[] }).tokens ?? [];
  } catch (err) {
    refuse(`its vocab.json is unreadable (${(err as Error).message})`);
  }
  const problems = fitProblems(config, cfg, vocab, sourceTokens);
  if (problems.length) refuse(`its model does not fit this run's: ${problems.join('; ')}`);
  return { given, path, point, config };
}

/**
 * Sets the new model's weights and state from the source's final checkpoint (weights and router
 * biases; not its optimizer state) and says what was done, for the run's records.
 * @param target the new model's weights and state, freshly initialised, by name.
 */
export function applyInitSource(src: InitSource, target: Record<string, tf.Variable>): InitFromRecord {
  const manifest: CheckpointManifest<TrainState> = src.point.manifest;
  const tensors = readCheckpointTensors(join(src.path, 'checkpoints'), manifest, (n) => !isOptimizerState(n));
  let plan: UpcyclePlan;
  try {
    plan = upcycleWeights(tensors, target);
  } catch (err) {
    throw new Error(`initFrom '${src.given}' (${src.path}): ${(err as Error).message}; nothing was written`, { cause: err });
  } finally {
    tf.dispose(Object.values(tensors));
  }
  const names = (how: UpcycleStep['how']) => Object.keys(plan.steps).filter((n) => plan.steps[n].how === how);
  const fromDense = names('fromDense');
  const upcycledBlocks = [...new Set(fromDense.map((n) => Number(MOE_NAME.exec(n)![1])))].sort((a, b) => a - b);
  return {
    given: src.given,
    path: src.path,
    step: manifest.step,
    checkpoint: manifest.bin.replace(/\.bin$/, '.json'),
    sha256: manifest.sha256,
    kind: upcycledBlocks.length ? 'upcycle' : 'warm start',
    upcycledBlocks,
    copied: names('copy'),
    fromDense,
    fresh: names('fresh'),
    unused: plan.unused,
  };
}

/** One line for the log: what the run started from. */
export function describeInitFrom(r: InitFromRecord): string {
  const what = r.kind === 'upcycle' ? `upcycled from ${r.path} (step ${r.step}): block${r.upcycledBlocks.length > 1 ? 's' : ''} ${r.upcycledBlocks.join(', ')} made from its dense FFNs` : `warm start from ${r.path} (step ${r.step})`;
  return `initFrom: ${what}; ${r.copied.length} weights copied, ${r.fromDense.length} from dense FFNs, ${r.fresh.length} fresh (${r.fresh.join(', ') || 'none'}); optimizer state and schedule start at step 0`;
}
