/**
 * Language-model configuration: the model's part of the one schema (config/fields.ts, the
 * fields of `level: 'model'` and `'layer'`), its checks across fields, and which blocks are sparse.
 *
 * Which FFNs are sparse: with `ffn: 'moe'`, block i's FFN is an MoE layer when
 * `i % sparseEvery === sparseEvery - 1` (every other FFN for the default 2, as in Switch §2 and
 * GShard), and a dense FFN otherwise. The all-dense baseline is `ffn: 'dense'`; `sparseEvery: 0`
 * means the same (so a sweep over sparseEvery can include the dense end). In an all-dense model
 * the MoE fields are still validated but unused.
 *
 * The model's config holds its layers' fields too, so each MoE layer takes the model's config
 * itself (a `MoeConfig` by key): slot priority 'token' and the k it routes with included.
 */
import { CONFIG_FIELDS, type ModelValues, type RunConfig } from '../config/fields.ts';
import { defaultsAt, keysAt, markResolved, resolveAlone, resolvedLevel, type Rule } from '../config/schema.ts';
import { kGivenInVain, LAYER_RULES, routedK, type MoeConfig } from '../moe/config.ts';

export { FFN_KINDS } from '../config/fields.ts';
export type FfnKind = ModelValues['ffn'];

export type ModelConfig = ModelValues;

/** What callers pass: any subset of the fields, vocabSize required. */
export type ModelConfigInput = Partial<ModelConfig> & Pick<ModelConfig, 'vocabSize'>;

/** The model's settings in a run's config (all but the fixed layer ones). */
export type ModelSettings = Pick<RunConfig, Exclude<keyof ModelConfig, 'priority'>>;

/** Defaults of a model built alone (vocabSize has none). */
export const DEFAULT_MODEL_CONFIG = Object.fromEntries(
  Object.entries(defaultsAt(CONFIG_FIELDS, 'model', true)).filter(([k]) => !('fixed' in CONFIG_FIELDS[k as keyof typeof CONFIG_FIELDS])),
) as Omit<ModelConfig, 'vocabSize' | 'priority'>;

/** The model's checks across fields (its layers' come first), at every level. */
export const MODEL_RULES: Rule<ModelConfig>[] = [
  ...(LAYER_RULES as Rule<ModelConfig>[]),
  (c) => (c.dModel % c.numHeads !== 0 ? `numHeads = ${c.numHeads} must divide dModel = ${c.dModel}` : null),
  (c) => (c.ffn === 'moe' && c.sparseEvery > c.numLayers ? `sparseEvery = ${c.sparseEvery} with numLayers = ${c.numLayers} leaves no MoE layer (use ffn: 'dense' for a dense model)` : null),
  (c) =>
    c.router === 'expert-choice' && !c.allowExpertChoice && moeLayerIndices(c).length > 0
      ? "router 'expert-choice' is refused in a causal LM: each expert takes its top-C tokens from the whole routing group, " +
        'so whether a token is processed depends on later tokens (the future leaks into the past). ' +
        'Set allowExpertChoice: true to use it anyway.'
      : null,
];

/**
 * Fills defaults and validates. Unknown keys are rejected; fields set to undefined take their
 * defaults; the result holds the k its layers route with (1 for top1 and expert-choice) and
 * slot priority 'token'. A resolved config (this function's, or `modelConfigOf`'s) is returned
 * as it is. Throws an Error naming the bad key and value.
 */
export function resolveModelConfig(partial: ModelConfigInput): ModelConfig {
  if (resolvedLevel(partial) === 'model') return partial as ModelConfig;
  const c = resolveAlone(CONFIG_FIELDS, 'model', partial, [...MODEL_RULES, kGivenInVain] as Rule<Record<string, unknown>>[], 'model config') as ModelConfig;
  c.k = routedK(c);
  return markResolved(c, 'model');
}

/** Validates a full config; throws an Error naming the bad key and value. */
export function validateModelConfig(cfg: ModelConfig): void {
  resolveModelConfig({ ...cfg });
}

/**
 * The model's part of a run's config, by key (V is the vocabulary actually built), with the
 * k its layers route with and the fixed layer settings. Of a resolved run config, it is taken as
 * resolved; of any other, resolved here.
 */
export function modelConfigOf(cfg: ModelSettings, vocabSize: number): ModelConfig {
  const view: Record<string, unknown> = {};
  for (const key of keysAt(CONFIG_FIELDS, 'model')) {
    const f = CONFIG_FIELDS[key as keyof typeof CONFIG_FIELDS];
    view[key] = 'fixed' in f ? f.default : cfg[key as keyof ModelSettings];
  }
  const model = { ...view, vocabSize, k: routedK(cfg) } as ModelConfig;
  return resolvedLevel(cfg) === 'run' ? markResolved(model, 'model') : resolveModelConfig(model);
}

/** The MoE layers' config: the model's own (see above). */
export function moeConfigFor(cfg: ModelConfig): MoeConfig {
  return resolveModelConfig(cfg);
}

/** Whether block `layer`'s FFN is an MoE layer. */
export function isMoeLayer(cfg: Pick<ModelConfig, 'ffn' | 'sparseEvery'>, layer: number): boolean {
  return cfg.ffn === 'moe' && cfg.sparseEvery > 0 && layer % cfg.sparseEvery === cfg.sparseEvery - 1;
}

/** Indices of the blocks with MoE FFNs, ascending. */
export function moeLayerIndices(cfg: Pick<ModelConfig, 'ffn' | 'sparseEvery' | 'numLayers'>): number[] {
  return Array.from({ length: cfg.numLayers }, (_, i) => i).filter((i) => isMoeLayer(cfg, i));
}
