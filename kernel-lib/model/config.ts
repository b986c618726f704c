/**
 * Language-model configuration: a flat object with commented defaults (nanoGPT style).
 * Letters (see docs/glossary.md): V vocabulary, S sequence length, D model width, H heads,
 * F FFN hidden width, E experts, k experts per token.
 *
 * Which FFNs are sparse: with `ffn: 'moe'`, block i's FFN is an MoE layer when
 * `i % sparseEvery === sparseEvery - 1` (every other FFN for the default 2, as in Switch §2 and
 * GShard), and a dense FFN otherwise. The all-dense baseline is `ffn: 'dense'`; `sparseEvery: 0`
 * means the same (so a sweep over sparseEvery can include the dense end). In an all-dense model
 * the MoE fields are still validated but unused.
 */
import {
  ACTIVATIONS,
  ROUTER_NAMES,
  resolveMoeConfig,
  type Activation,
  type MoeConfig,
  type RouterName,
} from '../moe/config.ts';
import { ROUTER_DTYPES, type RouterDtype } from '../moe/bfloat16.ts';

export const FFN_KINDS = ['dense', 'moe'] as const;
export type FfnKind = (typeof FFN_KINDS)[number];

export interface ModelConfig {
  /** V: vocabulary size (token ids are 0..V−1). Required. */
  vocabSize: number;
  /** Maximum sequence length: rows of the learned position embedding. Inputs may be shorter. */
  seqLen: number;
  /** D: model (residual stream) width. */
  dModel: number;
  /** H: attention heads; must divide dModel (head width D/H). */
  numHeads: number;
  /** Transformer blocks. */
  numLayers: number;
  /** F: hidden width of the dense FFN and of each expert (Switch keeps them equal: same FLOPs per token for top-1). */
  dFf: number;
  /**
   * Hidden width of each expert; null = dFf. Top-2 with expertDff = dFf/2 costs the same FLOPs
   * per token as a dense FFN of width dFf (the FLOP-matched comparison of Switch §2.3 / Fig. 6).
   */
  expertDff: number | null;
  /** 'moe': the blocks picked by sparseEvery have MoE FFNs; 'dense': every FFN is dense (the baseline). */
  ffn: FfnKind;
  /** With ffn 'moe', block i is sparse when i % sparseEvery === sparseEvery − 1; 1 = every FFN, 0 = none (all dense). */
  sparseEvery: number;
  /** MoE router: 'top1' Switch, 'topk' GShard-style, 'expert-choice' (refused unless allowExpertChoice). */
  router: RouterName;
  /** E: experts per MoE layer. */
  numExperts: number;
  /** k: experts per token for 'topk' ('top1' and 'expert-choice' resolve to 1 when k is not given; expert-choice ignores it). */
  k: number;
  /** Training capacity factor; null = dropless (on cpu and wasm the MoE layer then reads its largest load back once per call; Switchyard's webgpu kernels need no read). */
  capacityFactor: number | null;
  /** Capacity factor in evaluation (Switch §2.2 evaluates at 2.0). */
  evalCapacityFactor: number | null;
  /** Load-balancing loss coefficient α (Switch §2.2: 1e-2). */
  balanceCoef: number;
  /** Router z-loss coefficient (ST-MoE §3.3: 1e-3). */
  zCoef: number;
  /** Multiplicative router-input jitter ε when training; 0 = off. */
  jitterEps: number;
  /** Dropout on the experts' hidden activations when training. */
  expertDropout: number;
  /** FFN and expert activation. */
  activation: Activation;
  /** Dropout rate when training: embeddings, attention probabilities, and each sublayer's output before its residual add. */
  dropout: number;
  /** Init scale s for every matrix: truncated normal σ = sqrt(s / fan_in) (Switch §2.4: 0.1). */
  initScale: number;
  /** Router logits in 'float32' (Switch's selective precision) or rounded to 'bfloat16' (emulated; Switch Table 2). */
  routerDtype: RouterDtype;
  /** Output projection = token embeddingᵀ (no separate [D,V] matrix). */
  tiedEmbeddings: boolean;
  /**
   * Permit router 'expert-choice'. Expert Choice lets each expert pick its top tokens from the
   * whole routing group, so in a causal LM whether a token is processed depends on later tokens.
   */
  allowExpertChoice: boolean;
}

/** What callers pass: any subset of the fields, vocabSize required. */
export type ModelConfigInput = Partial<ModelConfig> & Pick<ModelConfig, 'vocabSize'>;

export const DEFAULT_MODEL_CONFIG: Omit<ModelConfig, 'vocabSize'> = {
  seqLen: 128,
  dModel: 128,
  numHeads: 4,
  numLayers: 4,
  dFf: 512,
  expertDff: null,
  ffn: 'moe',
  sparseEvery: 2,
  router: 'top1',
  numExperts: 8,
  k: 2, // used by 'topk'; 'top1' and 'expert-choice' resolve to 1 when k is not given
  capacityFactor: 1.25,
  evalCapacityFactor: 2.0,
  balanceCoef: 1e-2,
  zCoef: 1e-3,
  jitterEps: 0,
  expertDropout: 0,
  activation: 'relu',
  dropout: 0,
  initScale: 0.1,
  routerDtype: 'float32',
  tiedEmbeddings: true,
  allowExpertChoice: false,
};

const KNOWN_KEYS: ReadonlySet<string> = new Set(['vocabSize', ...Object.keys(DEFAULT_MODEL_CONFIG)]);

/**
 * Fills defaults and validates. Unknown keys are rejected; fields set to undefined take their
 * defaults; `router: 'top1'` or `'expert-choice'` without `k` gives k = 1. Throws an Error
 * naming the bad key and value.
 */
export function resolveModelConfig(partial: ModelConfigInput): ModelConfig {
  if (partial === null || typeof partial !== 'object') throw new Error(`model config: expected an object, got ${String(partial)}`);
  for (const key of Object.keys(partial)) {
    if (!KNOWN_KEYS.has(key)) throw new Error(`model config: unknown key '${key}' (known: ${[...KNOWN_KEYS].join(', ')})`);
  }
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as ModelConfigInput;
  const cfg: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ...defined };
  if ((cfg.router === 'top1' || cfg.router === 'expert-choice') && defined.k === undefined) cfg.k = 1;
  validateModelConfig(cfg);
  return cfg;
}

const fail = (msg: string): never => {
  throw new Error(`model config: ${msg}`);
};

function int(name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`${name} must be an integer ≥ ${min}, got ${String(v)}`);
}

function capacity(name: string, v: unknown): void {
  if (v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) fail(`${name} must be a finite number > 0 or null (dropless), got ${String(v)}`);
}

function inRange(name: string, v: unknown, lo: number, hi: number, hiOpen = false): void {
  if (typeof v !== 'number' || Number.isNaN(v) || v < lo || (hiOpen ? v >= hi : v > hi)) {
    fail(`${name} must be a number in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${String(v)}`);
  }
}

function oneOf(name: string, v: unknown, choices: readonly string[]): void {
  if (!choices.includes(v as string)) fail(`unknown ${name} '${String(v)}' (choose ${choices.join(', ')})`);
}

function bool(name: string, v: unknown): void {
  if (typeof v !== 'boolean') fail(`${name} must be true or false, got ${String(v)}`);
}

/** Validates a full config; throws an Error naming the bad key and value. */
export function validateModelConfig(cfg: ModelConfig): void {
  int('vocabSize', cfg.vocabSize, 1);
  int('seqLen', cfg.seqLen, 1);
  int('dModel', cfg.dModel, 1);
  int('numHeads', cfg.numHeads, 1);
  if (cfg.dModel % cfg.numHeads !== 0) fail(`numHeads = ${cfg.numHeads} must divide dModel = ${cfg.dModel}`);
  int('numLayers', cfg.numLayers, 1);
  int('dFf', cfg.dFf, 1);
  if (cfg.expertDff !== null) int('expertDff', cfg.expertDff, 1);
  oneOf('ffn', cfg.ffn, FFN_KINDS);
  int('sparseEvery', cfg.sparseEvery, 0);
  oneOf('router', cfg.router, ROUTER_NAMES);
  int('numExperts', cfg.numExperts, 1);
  int('k', cfg.k, 1);
  if (cfg.k > cfg.numExperts) fail(`k = ${cfg.k} exceeds numExperts = ${cfg.numExperts}`);
  if (cfg.router === 'top1' && cfg.k !== 1) fail(`router 'top1' routes each token to 1 expert, got k = ${cfg.k} (use router 'topk')`);
  capacity('capacityFactor', cfg.capacityFactor);
  capacity('evalCapacityFactor', cfg.evalCapacityFactor);
  inRange('balanceCoef', cfg.balanceCoef, 0, Infinity);
  inRange('zCoef', cfg.zCoef, 0, Infinity);
  inRange('jitterEps', cfg.jitterEps, 0, 1);
  inRange('expertDropout', cfg.expertDropout, 0, 1, true);
  oneOf('activation', cfg.activation, ACTIVATIONS);
  inRange('dropout', cfg.dropout, 0, 1, true);
  if (typeof cfg.initScale !== 'number' || !Number.isFinite(cfg.initScale) || !(cfg.initScale > 0)) {
    fail(`initScale must be a finite number > 0, got ${String(cfg.initScale)}`);
  }
  oneOf('routerDtype', cfg.routerDtype, ROUTER_DTYPES);
  bool('tiedEmbeddings', cfg.tiedEmbeddings);
  bool('allowExpertChoice', cfg.allowExpertChoice);
  if (cfg.ffn === 'moe' && cfg.sparseEvery > cfg.numLayers) {
    fail(`sparseEvery = ${cfg.sparseEvery} with numLayers = ${cfg.numLayers} leaves no MoE layer (use ffn: 'dense' for a dense model)`);
  }
  if (cfg.router === 'expert-choice' && !cfg.allowExpertChoice && moeLayerIndices(cfg).length > 0) {
    fail(
      "router 'expert-choice' is refused in a causal LM: each expert takes its top-C tokens from the whole routing group, " +
        "so whether a token is processed depends on later tokens (the future leaks into the past). " +
        'Set allowExpertChoice: true to use it anyway.',
    );
  }
}

/** Whether block `layer`'s FFN is an MoE layer. */
export function isMoeLayer(cfg: Pick<ModelConfig, 'ffn' | 'sparseEvery'>, layer: number): boolean {
  return cfg.ffn === 'moe' && cfg.sparseEvery > 0 && layer % cfg.sparseEvery === cfg.sparseEvery - 1;
}

/** Indices of the blocks with MoE FFNs, ascending. */
export function moeLayerIndices(cfg: Pick<ModelConfig, 'ffn' | 'sparseEvery' | 'numLayers'>): number[] {
  return Array.from({ length: cfg.numLayers }, (_, i) => i).filter((i) => isMoeLayer(cfg, i));
}

/**
 * The MoE layer config for the sparse blocks. Slot priority is always 'token': with k > 1 the
 * default 'choice' priority fills every token's 1st choice before any 2nd choice, so a later
 * token's 1st choice can evict an earlier token's 2nd choice — the future would change the
 * past. With 'token', token t's slots depend only on tokens ≤ t of the routing group. (For
 * k = 1 the two priorities are identical.)
 */
export function moeConfigFor(cfg: ModelConfig): MoeConfig {
  return resolveMoeConfig({
    dModel: cfg.dModel,
    dFf: cfg.expertDff ?? cfg.dFf,
    numExperts: cfg.numExperts,
    router: cfg.router,
    k: cfg.router === 'top1' ? 1 : cfg.k,
    priority: 'token',
    capacityFactor: cfg.capacityFactor,
    evalCapacityFactor: cfg.evalCapacityFactor,
    activation: cfg.activation,
    balanceCoef: cfg.balanceCoef,
    zCoef: cfg.zCoef,
    jitterEps: cfg.jitterEps,
    expertDropout: cfg.expertDropout,
    initScale: cfg.initScale,
    routerDtype: cfg.routerDtype,
  });
}
