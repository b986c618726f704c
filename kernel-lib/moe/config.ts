/**
 * MoE layer configuration: a flat object with commented defaults (nanoGPT style).
 * Letters (see docs/glossary.md): T tokens in a routing group, D model width, F expert hidden
 * width, E experts, C expert capacity, k experts per token.
 */

/** Router names: `top1` Switch (Fedus et al. 2021), `topk` GShard-style (Lepikhin et al. 2020), `expert-choice` (Zhou et al. 2022). */
export const ROUTER_NAMES = ['top1', 'topk', 'expert-choice'] as const;
export type RouterName = (typeof ROUTER_NAMES)[number];
export const ACTIVATIONS = ['relu', 'gelu'] as const;
/**
 * Order in which token-choice assignments claim expert slots.
 * `choice`: every token's 1st choice in token order, then every 2nd choice, … (GShard §2.2;
 * the conformance rule). `token`: token 0's choices, then token 1's, … With k > 1, `choice`
 * lets a later token's 1st choice push out an earlier token's 2nd choice, so in a causal LM the
 * future changes the past; `token` keeps every token's routing a function of earlier tokens only.
 * With k = 1 the two are the same.
 */
export const PRIORITIES = ['choice', 'token'] as const;
export type Priority = (typeof PRIORITIES)[number];
export type Activation = (typeof ACTIVATIONS)[number];
import { ROUTER_DTYPES, type RouterDtype } from './bfloat16.ts';

export interface MoeConfig {
  /** D: model width (input and output of the layer). */
  dModel: number;
  /** F: hidden width of each expert FFN. */
  dFf: number;
  /** E: number of experts. */
  numExperts: number;
  /** Router. */
  router: RouterName;
  /** k: experts per token for `topk` (top1 forces 1; ignored by expert-choice). */
  k: number;
  /** Slot priority for token choice (see PRIORITIES). */
  priority: Priority;
  /** Training capacity factor; null = dropless (no capacity limit). Switch paper default 1.25 (Table 1). */
  capacityFactor: number | null;
  /** Capacity factor at evaluation; Switch evaluates at 2.0 (§2.2). */
  evalCapacityFactor: number | null;
  /** FFN activation inside each expert. */
  activation: Activation;
  /** Load-balancing loss coefficient α (Switch §2.2: 1e-2). */
  balanceCoef: number;
  /** Router z-loss coefficient (ST-MoE §3.3: 1e-3). */
  zCoef: number;
  /** Multiplicative jitter ε on the router input only: x·U(1−ε, 1+ε) when training; 0 = off (Switch §2.4 used 1e-2 in experiments). */
  jitterEps: number;
  /** Dropout rate on the experts' hidden activations when training ("expert dropout", Switch §3: 0.4 when fine-tuning). */
  expertDropout: number;
  /** Init scale s: truncated normal with σ = sqrt(s / fan_in) (Switch §2.4: 0.1, ten times below the usual 1.0). */
  initScale: number;
  /**
   * Precision of the router logits: 'float32' (Switch's selective precision, §2.4) or
   * 'bfloat16', emulated by rounding the logits to bfloat16 before the softmax (Table 2's unstable case).
   */
  routerDtype: RouterDtype;
}

export const DEFAULT_MOE_CONFIG: Omit<MoeConfig, 'dModel' | 'dFf'> = {
  numExperts: 8,
  router: 'top1',
  k: 1,
  priority: 'choice',
  capacityFactor: 1.25,
  evalCapacityFactor: 2.0,
  activation: 'relu',
  balanceCoef: 1e-2,
  zCoef: 1e-3,
  jitterEps: 0,
  expertDropout: 0,
  initScale: 0.1,
  routerDtype: 'float32',
};

/** Fills defaults and validates; `top1` forces k = 1. Throws an Error naming the bad field and value. */
export function resolveMoeConfig(partial: Partial<MoeConfig> & Pick<MoeConfig, 'dModel' | 'dFf'>): MoeConfig {
  const known = new Set<string>(['dModel', 'dFf', ...Object.keys(DEFAULT_MOE_CONFIG)]);
  for (const key of Object.keys(partial)) {
    if (!known.has(key)) throw new Error(`MoE config: unknown key '${key}' (known: ${[...known].join(', ')})`);
  }
  const cfg: MoeConfig = { ...DEFAULT_MOE_CONFIG, ...partial };
  if (cfg.router === 'top1' && partial.k === undefined) cfg.k = 1;
  validateMoeConfig(cfg);
  return cfg;
}

function positiveInt(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`MoE config: ${name} must be an integer ≥ 1, got ${String(v)}`);
}

function capacity(name: string, v: unknown): void {
  if (v === null) return;
  if (typeof v !== 'number' || Number.isNaN(v) || !(v > 0) || !Number.isFinite(v)) {
    throw new Error(`MoE config: ${name} must be a finite number > 0 or null (dropless), got ${String(v)}`);
  }
}

function nonNegative(name: string, v: unknown, max = Infinity): void {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || v > max) {
    throw new Error(`MoE config: ${name} must be a number in [0, ${max}], got ${String(v)}`);
  }
}

/** Validates a full config; throws an Error naming the bad field and value. */
export function validateMoeConfig(cfg: MoeConfig): void {
  positiveInt('dModel', cfg.dModel);
  positiveInt('dFf', cfg.dFf);
  positiveInt('numExperts', cfg.numExperts);
  if (!(ROUTER_NAMES as readonly string[]).includes(cfg.router)) {
    throw new Error(`MoE config: unknown router '${String(cfg.router)}' (choose ${ROUTER_NAMES.join(', ')})`);
  }
  positiveInt('k', cfg.k);
  if (cfg.k > cfg.numExperts) throw new Error(`MoE config: k = ${cfg.k} exceeds numExperts = ${cfg.numExperts}`);
  if (cfg.router === 'top1' && cfg.k !== 1) throw new Error(`MoE config: router 'top1' routes each token to 1 expert, got k = ${cfg.k} (use router 'topk')`);
  if (!(PRIORITIES as readonly string[]).includes(cfg.priority)) {
    throw new Error(`MoE config: unknown priority '${String(cfg.priority)}' (choose ${PRIORITIES.join(', ')})`);
  }
  capacity('capacityFactor', cfg.capacityFactor);
  capacity('evalCapacityFactor', cfg.evalCapacityFactor);
  if (!(ACTIVATIONS as readonly string[]).includes(cfg.activation)) {
    throw new Error(`MoE config: unknown activation '${String(cfg.activation)}' (choose ${ACTIVATIONS.join(', ')})`);
  }
  nonNegative('balanceCoef', cfg.balanceCoef);
  nonNegative('zCoef', cfg.zCoef);
  nonNegative('jitterEps', cfg.jitterEps, 1);
  nonNegative('expertDropout', cfg.expertDropout, 0.999);
  if (typeof cfg.initScale !== 'number' || !(cfg.initScale > 0)) throw new Error(`MoE config: initScale must be > 0, got ${String(cfg.initScale)}`);
  if (!(ROUTER_DTYPES as readonly string[]).includes(cfg.routerDtype)) {
    throw new Error(`MoE config: unknown routerDtype '${String(cfg.routerDtype)}' (choose ${ROUTER_DTYPES.join(', ')})`);
  }
}
