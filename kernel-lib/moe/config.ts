/**
 * MoE layer configuration: the layer's part of the one schema (config/fields.ts, `level:
 * 'layer'`), its checks across fields, and the rule for k.
 * Letters (see docs/glossary.md): T tokens in a routing group, D model width, F expert hidden
 * width, E experts, C expert capacity, k experts per token.
 */
import { CONFIG_FIELDS, type LayerValues } from '../config/fields.ts';
import { defaultsAt, markResolved, resolveAlone, resolvedLevel, type Rule } from '../config/schema.ts';

export { ACTIVATIONS, PRIORITIES, ROUTER_NAMES } from '../config/fields.ts';
export type RouterName = LayerValues['router'];
export type Activation = LayerValues['activation'];
export type Priority = LayerValues['priority'];

/**
 * An MoE layer's config. Inside a model it is the model's own config (which holds every layer
 * field), taken by key; a layer of your own resolves it from a partial one (`resolveMoeConfig`).
 * The experts' hidden width is `expertWidth(cfg)`: expertDff, else dFf.
 */
export type MoeConfig = LayerValues;
/** What a layer of your own is given: any subset of the fields, dModel and dFf required. */
export type MoeConfigInput = Partial<MoeConfig> & Pick<MoeConfig, 'dModel' | 'dFf'>;

/** Defaults of a layer built alone (dModel and dFf have none). */
export const DEFAULT_MOE_CONFIG = defaultsAt(CONFIG_FIELDS, 'layer', true) as Omit<MoeConfig, 'dModel' | 'dFf'>;

/** F: the hidden width of each expert. */
export const expertWidth = (cfg: Pick<MoeConfig, 'dFf' | 'expertDff'>): number => cfg.expertDff ?? cfg.dFf;

/** Fs: the hidden width of each shared expert. */
export const sharedWidth = (cfg: Pick<MoeConfig, 'dFf' | 'sharedDff'>): number => cfg.sharedDff ?? cfg.dFf;

/** Routers that take a router bias (token choice: the bias moves which experts a token chooses). */
export const BIASED_ROUTERS: readonly RouterName[] = ['top1', 'topk'];

/** Why a router takes no router bias, or null when it takes one. */
export function biasRefusedBecause(router: RouterName): string | null {
  return BIASED_ROUTERS.includes(router)
    ? null
    : `router '${router}' takes no router bias: each expert picks its tokens, balanced by construction; the bias is for token-choice routers (${BIASED_ROUTERS.join(', ')})`;
}

/** Why a router reads no k. */
const NO_K: Partial<Record<RouterName, string>> = { top1: 'it sends each token to 1 expert', 'expert-choice': 'each expert picks its tokens' };

/** The k a layer routes with: topk's k; 1 for top1 and expert-choice, which read none. */
export const routedK = (cfg: Pick<MoeConfig, 'router' | 'k'>): number => (cfg.router === 'topk' ? cfg.k : 1);

/** Why a k other than 1 means nothing with this router, or null when it does (topk, or k = 1). */
export function kIgnoredBecause(cfg: Pick<MoeConfig, 'router' | 'k'>): string | null {
  return cfg.k !== 1 ? (NO_K[cfg.router] ?? null) : null;
}

/** The layer's checks across fields, at every level. */
export const LAYER_RULES: Rule<MoeConfig>[] = [
  (c) => (routedK(c) > c.numExperts ? `k = ${routedK(c)} exceeds numExperts = ${c.numExperts}` : null),
  (c) => (c.biasUpdateRate > 0 && biasRefusedBecause(c.router) ? `biasUpdateRate = ${c.biasUpdateRate} with ${biasRefusedBecause(c.router)}` : null),
  (c) => (c.sharedDff !== null && c.numSharedExperts === 0 ? `sharedDff = ${c.sharedDff} sizes shared experts, but numSharedExperts = 0 (set numSharedExperts ≥ 1, or leave sharedDff null)` : null),
];

/**
 * A layer or model built alone refuses a k other than 1 given to router top1 (expert-choice's is
 * ignored: a benchmark may pass one k to every router). A run's config keeps k as asked;
 * train/load-config.ts refuses one given on the command line or in a file to either router.
 */
export const kGivenInVain: Rule<MoeConfig> = (c, given) => {
  const why = given.has('k') && c.router === 'top1' ? kIgnoredBecause(c) : null;
  return why ? `router '${c.router}' reads no k (${why}), got k = ${c.k} (use router 'topk')` : null;
};

/**
 * Fills defaults and validates a layer's config, which then holds the k it routes with; a
 * resolved one (a model's, or this function's) is returned as it is. Throws an Error naming the
 * bad field and value.
 */
export function resolveMoeConfig(partial: MoeConfigInput): MoeConfig {
  const at = resolvedLevel(partial);
  if (at === 'layer' || at === 'model') return partial as MoeConfig;
  const c = resolveAlone(CONFIG_FIELDS, 'layer', partial, [...LAYER_RULES, kGivenInVain] as Rule<Record<string, unknown>>[], 'MoE config') as MoeConfig;
  c.k = routedK(c);
  return markResolved(c, 'layer');
}

/** Validates a full layer config; throws an Error naming the bad field and value. */
export function validateMoeConfig(cfg: MoeConfig): void {
  resolveMoeConfig({ ...cfg });
}
