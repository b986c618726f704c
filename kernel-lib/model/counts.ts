/**
 * Parameter and FLOP counts computed from the config alone (no tensors).
 * Letters: V vocabulary, D model width, F FFN width, E experts, k experts per token, L layers.
 *
 * Conventions
 * - `embedding` = token table V·D + position table seqLen·D + the untied output projection D·V
 *   (when embeddings are untied); `nonEmbedding` = everything else (LayerNorms, attention,
 *   dense FFNs, experts, routers, final LayerNorm).
 * - `activePerToken` = total minus the experts a token doesn't use: a sparse layer counts
 *   `activeExperts(cfg)` experts (top1: 1, topk: k, expert-choice: capacityFactor on average,
 *   since E experts take C = capacityFactor·T/E tokens each, i.e. capacityFactor·T assignments
 *   for T tokens — capped at E, and E when dropless). Routers count as active; embeddings and
 *   LayerNorms count fully, so a dense model's active count equals its total. Nominal: tokens
 *   dropped by the capacity limit are not subtracted.
 *   Shared experts (S of width Fs, DeepSeekMoE) are dense: every token uses all of them, so they
 *   count fully in the total and the active count alike.
 * - `flopsPerToken.forward` = 2 · (active non-embedding matmul weights: attention 4D², dense FFN
 *   2DF, MoE activeExperts·2DF + S·2DFs + router DE) + attention scores and values 2·2·seqLen·D per layer
 *   + output projection 2·D·V. One multiply-add = 2 FLOPs. Attention is charged for the *full*
 *   seqLen × seqLen score matrix, as the masked dense kernel computes it (a causal-aware kernel
 *   would do about half); it assumes sequences of the full seqLen. Not counted: embedding
 *   lookups, LayerNorm, softmax, activations, routing (top-k, dispatch/combine). `training` =
 *   3 × forward (the backward pass costs about twice the forward).
 */
import { expertWidth, sharedWidth } from '../moe/config.ts';
import { isMoeLayer, moeLayerIndices, resolveModelConfig, type ModelConfig, type ModelConfigInput } from './config.ts';

export interface ParameterCounts {
  /** Every trainable scalar of the model. */
  total: number;
  /** Parameters one token uses (see the conventions above). */
  activePerToken: number;
  /** Token and position tables, plus the output projection when untied. */
  embedding: number;
  /** total − embedding. */
  nonEmbedding: number;
}

export interface FlopsPerToken {
  forward: number;
  /** 3 × forward. */
  training: number;
}

/** Experts a token uses on average in a sparse layer (see the conventions above). */
export function activeExperts(cfg: ModelConfig): number {
  switch (cfg.router) {
    case 'top1':
      return 1;
    case 'topk':
      return cfg.k;
    case 'expert-choice':
      return cfg.capacityFactor === null ? cfg.numExperts : Math.min(cfg.numExperts, cfg.capacityFactor);
  }
}

/** Matmul weights of block `i`: [all, active per token]. */
function blockMatmulWeights(cfg: ModelConfig, i: number): [number, number] {
  const { dModel: D, dFf: F, numExperts: E } = cfg;
  const attention = 4 * D * D; // wq, wk, wv, wo
  if (!isMoeLayer(cfg, i)) return [attention + 2 * D * F, attention + 2 * D * F];
  const router = D * E;
  const Fe = expertWidth(cfg);
  const shared = cfg.numSharedExperts * 2 * D * sharedWidth(cfg); // every token uses every shared expert
  return [attention + router + shared + E * 2 * D * Fe, attention + router + shared + activeExperts(cfg) * 2 * D * Fe];
}

/** Parameter counts from the config (equal to the sizes of `TransformerLM`'s variables). */
export function parameterCounts(config: ModelConfigInput): ParameterCounts {
  const cfg = resolveModelConfig(config);
  const { vocabSize: V, seqLen, dModel: D, numLayers: L } = cfg;
  const embedding = V * D + seqLen * D + (cfg.tiedEmbeddings ? 0 : D * V);
  const layerNorms = L * 2 * (2 * D) + 2 * D; // two per block + the final one, gain and bias each
  let all = 0;
  let active = 0;
  for (let i = 0; i < L; i++) {
    const [a, act] = blockMatmulWeights(cfg, i);
    all += a;
    active += act;
  }
  const nonEmbedding = layerNorms + all;
  return { total: embedding + nonEmbedding, activePerToken: embedding + layerNorms + active, embedding, nonEmbedding };
}

/** Analytic forward and training FLOPs per token (see the conventions above). */
export function flopsPerToken(config: ModelConfigInput): FlopsPerToken {
  const cfg = resolveModelConfig(config);
  const { vocabSize: V, seqLen, dModel: D, numLayers: L } = cfg;
  let matmul = 0;
  for (let i = 0; i < L; i++) matmul += blockMatmulWeights(cfg, i)[1];
  const forward = 2 * matmul + L * 2 * 2 * seqLen * D + 2 * D * V;
  return { forward, training: 3 * forward };
}

/** 1234 → "1.23K", 4.5e6 → "4.50M". */
function short(n: number): string {
  for (const [div, unit] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']] as const) {
    if (Math.abs(n) >= div) return `${(n / div).toFixed(2)}${unit}`;
  }
  return String(n);
}

/**
 * One line; the defaults with V = 8000 give
 * `4L d128 h4 ff512 V8000 ctx128 | Switch top-1 E8 in 2/4 FFNs (cf 1.25) | 3.67M params, 1.83M active/token | 3.89M FLOPs/token fwd`.
 */
export function describeModel(config: ModelConfigInput): string {
  const cfg = resolveModelConfig(config);
  const moe = moeLayerIndices(cfg);
  const shape = `${cfg.numLayers}L d${cfg.dModel} h${cfg.numHeads} ff${cfg.dFf} V${cfg.vocabSize} ctx${cfg.seqLen}${cfg.tiedEmbeddings ? '' : ' untied'}`;
  const cf = `cf ${cfg.capacityFactor ?? 'dropless'}`;
  const router = cfg.router === 'top1' ? 'Switch top-1' : cfg.router === 'topk' ? `top-${cfg.k}` : 'expert-choice';
  const shared = cfg.numSharedExperts > 0 ? ` + ${cfg.numSharedExperts} shared (ff${sharedWidth(cfg)})` : '';
  const ffn = moe.length === 0 ? 'dense FFN' : `${router} E${cfg.numExperts}${shared} in ${moe.length}/${cfg.numLayers} FFNs (${cf})`;
  const p = parameterCounts(cfg);
  return `${shape} | ${ffn} | ${short(p.total)} params, ${short(p.activePerToken)} active/token | ${short(flopsPerToken(cfg).forward)} FLOPs/token fwd`;
}
