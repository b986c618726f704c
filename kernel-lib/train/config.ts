/**
 * Training configuration: one flat object with commented defaults (nanoGPT style). Experiment
 * files export a `Partial<TrainConfig>`; `--key=value` overrides are type-checked against the
 * defaults; unknown keys are rejected. The resolved config is saved with every run.
 */
import { BACKEND_NAMES, type BackendName } from '../backend/index.ts';
import { ACTIVATIONS, ROUTER_NAMES } from '../moe/config.ts';
import { ROUTER_DTYPES } from '../moe/bfloat16.ts';
import { DEFAULT_MODEL_CONFIG, FFN_KINDS, moeLayerIndices, resolveModelConfig, type ModelConfig } from '../model/config.ts';
import { modelConfigOf } from './model-factory.ts';
import { DECAYS, type Decay } from './schedule.ts';
import { checkRunName } from './run-dir.ts';
import { validateVocabSize } from '../data/vocab.ts';

/**
 * The model's fields, with the meanings and defaults of kernel-lib/model/config.ts (ModelConfig);
 * V is the vocabulary actually built (≤ vocabSize), seqLen is shared with the data.
 */
type ModelFields = Omit<ModelConfig, 'vocabSize' | 'seqLen'>;

export interface TrainConfig extends ModelFields {
  // ---- run
  /** Run name: the run directory is `${outDir}/${name}`. */
  name: string;
  /** Where runs are written. */
  outDir: string;
  /** tfjs backend (`auto` prefers a hardware GPU). */
  backend: BackendName;
  /** Seed for weights, dropout/jitter noise and data order. */
  seed: number;
  /** Continue from the run directory's latest checkpoint when there is one. */
  resume: boolean;

  // ---- data
  /** 'brown' (the Brown corpus, with tags and genres), or a `.txt` / `.jsonl` file of your own (data/text.ts). */
  corpus: string;
  /** Vocabulary size including <pad> <unk> <eos>. */
  vocabSize: number;
  /** Seed of the train/validation/test document split. */
  splitSeed: number;
  /** S: tokens per sequence. */
  seqLen: number;
  /** B: sequences per batch; one routing group is all B·S tokens. */
  batchSize: number;

  // ---- optimisation
  /** Training steps in all. */
  steps: number;
  /** Peak learning rate. */
  lr: number;
  /** Learning rate at the end of decay. */
  minLr: number;
  warmupSteps: number;
  decay: Decay;
  /** Decoupled weight decay (AdamW) on matrices. */
  weightDecay: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Clip gradients to this global L2 norm; 0 = off. */
  gradClip: number;

  // ---- bookkeeping
  /** Read metrics back from the device every this many steps (never per step). */
  logEvery: number;
  /** Evaluate on the validation split every this many steps (0 = only at the end). */
  evalEvery: number;
  /** Validation batches per evaluation (a fixed set, the same every time). */
  evalBatches: number;
  /** Validation batches of the final evaluation; 0 = the whole validation split (one epoch of its windows). */
  finalEvalBatches: number;
  /** Checkpoint every this many steps (0 = only at the end). */
  checkpointEvery: number;
  /** Write a routing snapshot of a fixed validation sample at step 0, every this many steps and at the end (0 = never); see routing-dump.ts. */
  routingEvery: number;
  /** Validation batches in the routing sample. */
  routingBatches: number;
  /** Progress display: bar on a terminal, periodic lines otherwise. */
  progress: 'auto' | 'bar' | 'lines' | 'none';
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  name: 'run',
  outDir: 'runs',
  backend: 'auto',
  seed: 0,
  resume: true,
  corpus: 'brown',
  vocabSize: 8000,
  splitSeed: 0,
  batchSize: 16,
  ...DEFAULT_MODEL_CONFIG,
  seqLen: 64,
  steps: 1000,
  lr: 1e-3,
  minLr: 1e-4,
  warmupSteps: 100,
  decay: 'cosine',
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.98,
  epsilon: 1e-8,
  gradClip: 1.0,
  logEvery: 10,
  evalEvery: 200,
  evalBatches: 8,
  finalEvalBatches: 0,
  checkpointEvery: 200,
  routingEvery: 0,
  routingBatches: 8,
  progress: 'auto',
};

/** Keys whose value may also be null. */
const NULLABLE = new Set<keyof TrainConfig>(['capacityFactor', 'evalCapacityFactor', 'expertDff']);
/** Keys with a fixed set of string values. */
const CHOICES: Partial<Record<keyof TrainConfig, readonly string[]>> = {
  backend: BACKEND_NAMES,
  router: ROUTER_NAMES,
  ffn: FFN_KINDS,
  activation: ACTIVATIONS,
  routerDtype: ROUTER_DTYPES,
  decay: DECAYS,
  progress: ['auto', 'bar', 'lines', 'none'],
};
const INTEGER = new Set<keyof TrainConfig>([
  'seed', 'vocabSize', 'splitSeed', 'seqLen', 'batchSize', 'dModel', 'numHeads', 'numLayers', 'dFf', 'sparseEvery',
  'numExperts', 'k', 'expertDff', 'steps', 'warmupSteps', 'logEvery', 'evalEvery', 'evalBatches', 'finalEvalBatches', 'checkpointEvery', 'routingEvery', 'routingBatches',
]);

/** The most steps a run may take: more is a typo (1e30) that would train for ever. */
export const MAX_STEPS = 1_000_000_000;

/** Checks one value against the key's type; throws naming the key and value. */
export function checkValue(key: string, value: unknown, source: string): void {
  checkKnown(key, source);
  const k = key as keyof TrainConfig;
  const want = valueType(k);
  if (value === null && NULLABLE.has(k)) return;
  if (typeof value !== want) {
    throw new Error(`${source}: '${key}' must be a ${want}${NULLABLE.has(k) ? ' or null' : ''}, got ${JSON.stringify(value)}`);
  }
  if (want === 'number' && !Number.isFinite(value as number)) throw new Error(`${source}: '${key}' must be finite, got ${value}`);
  if (INTEGER.has(k) && !Number.isInteger(value)) throw new Error(`${source}: '${key}' must be an integer, got ${value}`);
  if (INTEGER.has(k) && !Number.isSafeInteger(value)) throw new Error(`${source}: '${key}' is too large to count exactly, got ${value}`);
  const choices = CHOICES[k];
  if (choices && !choices.includes(value as string)) throw new Error(`${source}: '${key}' must be one of ${choices.join(', ')}, got '${value}'`);
}

/** Parses a `--key=value` string value into the key's type. */
export function parseOverride(key: string, raw: string): unknown {
  checkKnown(key, '--' + key);
  const k = key as keyof TrainConfig;
  if (raw === 'null' && NULLABLE.has(k)) return null;
  switch (valueType(k)) {
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || Number.isNaN(v)) throw new Error(`--${key}: expected a number${NULLABLE.has(k) ? " or 'null'" : ''}, got '${raw}'`);
      return v;
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new Error(`--${key}: expected true or false, got '${raw}'`);
    default:
      return raw;
  }
}

/** The JS type of a key's values (nullable keys hold numbers when not null). */
function valueType(k: keyof TrainConfig): string {
  return NULLABLE.has(k) ? 'number' : typeof DEFAULT_TRAIN_CONFIG[k];
}

function checkKnown(key: string, source: string): void {
  // Own keys only: `in` would accept '__proto__', 'constructor', 'toString', …
  if (!Object.hasOwn(DEFAULT_TRAIN_CONFIG, key)) {
    throw new Error(`${source}: unknown config key '${key}' (known: ${Object.keys(DEFAULT_TRAIN_CONFIG).join(', ')})`);
  }
}

/** Merges layers of overrides over the defaults, checking every key and value. */
export function resolveTrainConfig(...layers: { source: string; values: Partial<TrainConfig> | Record<string, unknown> }[]): TrainConfig {
  const cfg: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG };
  for (const { source, values } of layers) {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new Error(`${source}: config must be an object`);
    for (const [k, v] of Object.entries(values)) {
      checkValue(k, v, source);
      cfg[k] = v;
    }
  }
  const c = cfg as unknown as TrainConfig;
  const positive: (keyof TrainConfig)[] = ['vocabSize', 'seqLen', 'batchSize', 'dModel', 'numHeads', 'numLayers', 'dFf', 'numExperts', 'k', 'steps', 'logEvery', 'evalBatches', 'routingBatches'];
  for (const key of positive) if ((c[key] as number) < 1) throw new Error(`config: '${key}' must be ≥ 1, got ${c[key]}`);
  if (c.steps > MAX_STEPS) throw new Error(`config: 'steps' must be ≤ ${MAX_STEPS.toLocaleString('en-US')} (years of training at 10 steps/s), got ${c.steps}`);
  for (const key of ['sparseEvery', 'warmupSteps', 'evalEvery', 'checkpointEvery', 'routingEvery', 'weightDecay', 'gradClip', 'jitterEps', 'expertDropout', 'dropout', 'balanceCoef', 'zCoef'] as const) {
    if ((c[key] as number) < 0) throw new Error(`config: '${key}' must be ≥ 0, got ${c[key]}`);
  }
  if (!(c.lr > 0)) throw new Error(`config: 'lr' must be > 0, got ${c.lr}`);
  if (c.minLr < 0 || c.minLr > c.lr) throw new Error(`config: 'minLr' must be in [0, lr=${c.lr}], got ${c.minLr}`);
  for (const key of ['beta1', 'beta2'] as const) if (!(c[key] >= 0 && c[key] < 1)) throw new Error(`config: '${key}' must be in [0, 1), got ${c[key]}`);
  checkRunName(c.name);
  validateVocabSize(c.vocabSize);
  const model = resolveModelConfig(modelConfigOf(c, c.vocabSize)); // the model's own checks (heads divide D, k ≤ E, expert choice flag, …)
  if (c.routingEvery > 0 && moeLayerIndices(model).length === 0) throw new Error(`config: 'routingEvery' = ${c.routingEvery} needs an MoE layer to snapshot, and this model is dense`);
  return c;
}
