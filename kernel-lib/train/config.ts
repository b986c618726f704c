/**
 * Training configuration: a run's part of the one schema (config/fields.ts: every field, each
 * declared once with its default and help line). Experiment files export a `Partial<TrainConfig>`;
 * `--key=value` overrides are parsed and checked by the fields' types; unknown keys are rejected.
 * The resolved config is saved with every run, and reads back to the same object.
 */
import { resolve } from 'node:path';
import { CONFIG_FIELDS, type RunConfig } from '../config/fields.ts';
import { checkKnown, defaultsAt, inputProblem, keysAt, markResolved, parseValue, resolvedLevel, resolveRun, type Rule } from '../config/schema.ts';
import { validateVocabSize } from '../data/vocab.ts';
import { moeLayerIndices, MODEL_RULES } from '../model/config.ts';

export { MAX_STEPS } from '../config/fields.ts';

/** A training run's config: every setting of the run, its model and the model's MoE layers. */
export type TrainConfig = RunConfig;

/** A run's keys, in the order of its saved config.json. */
const RUN_KEYS = keysAt(CONFIG_FIELDS, 'run');

export const DEFAULT_TRAIN_CONFIG = defaultsAt(CONFIG_FIELDS, 'run', false) as TrainConfig;

/** A run's checks across fields (the model's and its layers' come first). */
const RUN_RULES: Rule<TrainConfig>[] = [
  ...(MODEL_RULES as unknown as Rule<TrainConfig>[]),
  (c) => (c.minLr < 0 || c.minLr > c.lr ? `'minLr' must be in [0, lr=${c.lr}], got ${c.minLr}` : null),
  (c) => (validateVocabSize(c.vocabSize), null),
  (c) => (c.routingEvery > 0 && moeLayerIndices(c).length === 0 ? `'routingEvery' = ${c.routingEvery} needs an MoE layer to snapshot, and this model is dense` : null),
  (c) => (c.initFrom !== undefined && c.initFrom.trim() === '' ? `'initFrom' must name a finished run directory, got ''` : null),
  (c) => (c.initFrom !== undefined && resolve(c.initFrom) === resolve(c.outDir, c.name) ? `'initFrom' = '${c.initFrom}' is this run's own directory (${resolve(c.outDir, c.name)}): name another run's` : null),
];

/** Merges layers of overrides over the defaults, checking every key and value. */
export function resolveTrainConfig(...layers: { source: string; values: Partial<TrainConfig> | Record<string, unknown> }[]): TrainConfig {
  return resolveRun(CONFIG_FIELDS, layers, RUN_RULES as Rule<Record<string, unknown>>[]) as TrainConfig;
}

/**
 * `cfg` as resolved: itself when it is (resolveTrainConfig made it), else resolved from it (a
 * copy, a sweep's record, a saved config.json): keys it lacks, added since it was written, take
 * their defaults; `source` names it in errors.
 */
export function asTrainConfig(cfg: Partial<TrainConfig>, source: string): TrainConfig {
  return resolvedLevel(cfg) === 'run' ? (cfg as TrainConfig) : resolveTrainConfig({ source, values: cfg });
}

/** `cfg` with the vocabulary actually built (≤ the size asked for), still resolved. */
export function withVocabSize(cfg: TrainConfig, vocabSize: number): TrainConfig {
  validateVocabSize(vocabSize);
  return markResolved({ ...cfg, vocabSize }, 'run');
}

/** Checks one value against the key's type; throws naming the key and value. */
export function checkValue(key: string, value: unknown, source: string): void {
  checkKnown(RUN_KEYS, key, source);
  const problem = inputProblem(CONFIG_FIELDS[key as keyof typeof CONFIG_FIELDS], key, value);
  if (problem) throw new Error(`${source}: ${problem}`);
}

/** Parses a `--key=value` string value into the key's type. */
export function parseOverride(key: string, raw: string): unknown {
  checkKnown(RUN_KEYS, key, '--' + key);
  return parseValue(CONFIG_FIELDS[key as keyof typeof CONFIG_FIELDS], key, raw);
}
