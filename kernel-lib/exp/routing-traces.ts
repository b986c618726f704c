/**
 * Routing traces: how a run's routing develops, read from its records alone (no tensors).
 *
 * - Expert load per MoE layer and logged step, from the training rows' per-expert counts
 *   (`LoadedRun.train[i].moe[j]`, every `logEvery` steps), and its imbalance max/mean.
 * - Cross-layer predictability from a routing snapshot (train/routing-dump.ts: each sample
 *   token's argmax expert per MoE layer): for each pair of consecutive MoE layers, how well a
 *   token's expert in the layer below tells its expert in the layer above.
 * - Figures of both: load heatmaps over training, imbalance lines, P(e_l | e_prev) heatmaps.
 *
 * Notation: E experts; for a snapshot of N tokens and consecutive MoE layers (l_prev, l),
 * n_ij = tokens with expert i in l_prev and expert j in l, n_i· = Σ_j n_ij, n_·j = Σ_i n_ij.
 * Entropies are in nats.
 */
import type { Figure } from '../report/types.ts';
import { readRoutingSnapshot, routingSteps, type RoutingSnapshot } from '../train/routing-dump.ts';
import { heatmapFigure, lineFigure } from './plots.ts';
import { entropy, normalizedMutualInformation } from './stats.ts';
import type { LoadedRun } from './types.ts';

/**
 * One MoE layer's expert loads over training: each logged step's per-expert share of the
 * layer's assignments.
 */
export interface ExpertLoad {
  /** The MoE layer's block index (`moe[j].layer`, as in routing snapshots' `layers`). */
  layer: number;
  /** E: the number of experts (the longest count vector of the layer's rows). */
  numExperts: number;
  /** Logged steps at which the layer has a record, ascending as in the run's rows. */
  steps: number[];
  /**
   * steps × E, before capacity: `countsBefore_e / Σ_e' countsBefore_e'`, the share of the
   * step's assignments (k per token for top-k) that chose expert e, kept or dropped: the
   * router's preference. For Expert Choice: each token's argmax expert.
   */
  before: number[][];
  /**
   * steps × E, after capacity: `countsKept_e / Σ_e' countsKept_e'`, the share of the kept
   * assignments that expert e processed. For Expert Choice equal (1/E) by construction.
   */
  kept: number[][];
}

/** Which counts a load is read from: before capacity (`countsBefore`) or kept (`countsKept`). */
export type LoadKind = 'before' | 'kept';

/**
 * Shares `c_e / Σ c`; a row of NaN when the counts are not E long (not recorded) or sum to 0
 * (nothing routed or everything dropped: 0/0), so a figure leaves a gap instead of inventing a load.
 */
function shares(counts: readonly number[], E: number): number[] {
  if (counts.length !== E) return new Array<number>(E).fill(NaN);
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / total);
}

/** The MoE layers (block indices) that the run's training rows record, ascending. */
export function moeLayers(run: LoadedRun): number[] {
  return [...new Set(run.train.flatMap((t) => t.moe.map((m) => m.layer)))].sort((a, b) => a - b);
}

/**
 * Each expert's share of MoE layer `layer`'s assignments at every logged step: steps × E,
 * before capacity and kept (see {@link ExpertLoad}). Rows without the layer are skipped; a
 * layer the run never recorded gives no steps and E = 0.
 * @param layer the MoE layer's block index (`moe[j].layer`), not its position among MoE layers.
 */
export function expertLoad(run: LoadedRun, layer: number): ExpertLoad {
  const rows = run.train.flatMap((t) => t.moe.filter((m) => m.layer === layer).map((m) => ({ step: t.step, m })));
  const E = Math.max(0, ...rows.map(({ m }) => m.countsBefore.length));
  return {
    layer,
    numExperts: E,
    steps: rows.map(({ step }) => step),
    before: rows.map(({ m }) => shares(m.countsBefore, E)),
    kept: rows.map(({ m }) => shares(m.countsKept, E)),
  };
}

/**
 * Load imbalance of one step: `max_e load_e / mean_e load_e` (equivalently E · the busiest
 * expert's share). 1 = perfectly balanced; E = every assignment on one expert. Scale-free: counts
 * or shares give the same value. NaN for no experts, a total of 0, or a missing (NaN) load.
 * @param row the step's per-expert loads (counts or shares).
 */
export function loadImbalance(row: readonly number[]): number {
  const mean = row.reduce((a, b) => a + b, 0) / row.length; // NaN for no experts
  return Math.max(...row) / mean; // 0/0 = NaN when nothing was routed
}

/** A layer's load imbalance at every logged step. */
export interface ImbalanceSeries {
  layer: number;
  steps: number[];
  /** {@link loadImbalance} of each step's loads. */
  imbalance: number[];
}

/**
 * {@link loadImbalance} of MoE layer `layer` over training.
 * @param kind `before` (default): the loads the router asked for; `kept`: after capacity.
 */
export function loadImbalanceSeries(run: LoadedRun, layer: number, kind: LoadKind = 'before'): ImbalanceSeries {
  const load = expertLoad(run, layer);
  return { layer, steps: load.steps, imbalance: load[kind].map(loadImbalance) };
}

/** How well a token's expert in one MoE layer predicts its expert in the next (one snapshot). */
export interface LayerTransition {
  /** Block index of the lower MoE layer (l_prev). */
  from: number;
  /** Block index of the upper MoE layer (l). */
  to: number;
  /** N: sample tokens counted. */
  tokens: number;
  /** E_prev × E contingency table: `counts[i][j]` = n_ij. A row of zeros: expert i never chosen in l_prev. */
  counts: number[][];
  /** `H(e_l) = −Σ_j (n_·j/N) ln(n_·j/N)`: the uncertainty about e_l with nothing known. */
  entropy: number;
  /**
   * `H(e_l | e_prev) = −Σ_ij (n_ij/N) ln(n_ij / n_i·)` (terms with n_ij = 0 are 0): what is left
   * of it once e_prev is known. 0 when e_prev determines e_l; H(e_l) when they are independent.
   */
  conditionalEntropy: number;
  /** `I(e_prev; e_l) = H(e_l) − H(e_l | e_prev)`. */
  mutualInformation: number;
  /**
   * `I / sqrt(H(e_prev) · H(e_l))`, the project's normalisation (stats.ts
   * `normalizedMutualInformation`): 0 independent, 1 each determines the other; 0 when either
   * layer sends every token to one expert.
   */
  nmi: number;
  /**
   * `Σ_i max_j n_ij / N`: accuracy of predicting e_l by the most frequent e_l among tokens with
   * the same e_prev (ties: any of them, the count is the same).
   */
  accuracy: number;
  /** `max_j n_·j / N`: accuracy of always predicting the most frequent e_l (ignoring e_prev). */
  baselineAccuracy: number;
}

/**
 * The {@link LayerTransition} of two layers' expert choices of the same tokens.
 * @param prev expert of each token in l_prev, integers in [0, ePrev).
 * @param next expert of each token in l, integers in [0, eNext).
 * @param layers the block indices `[from, to]` to record.
 * All measures NaN (and the table zero) for N = 0.
 */
export function layerTransition(
  prev: ArrayLike<number>, next: ArrayLike<number>, ePrev: number, eNext: number, layers: [number, number] = [0, 1],
): LayerTransition {
  if (prev.length !== next.length) throw new Error(`layerTransition: ${prev.length} tokens in one layer, ${next.length} in the other`);
  const counts = Array.from({ length: ePrev }, () => new Array<number>(eNext).fill(0));
  for (let t = 0; t < prev.length; t++) {
    const i = prev[t];
    const j = next[t];
    if (!(i >= 0 && i < ePrev && j >= 0 && j < eNext && Number.isInteger(i) && Number.isInteger(j))) {
      throw new Error(`layerTransition: token ${t} has experts ${i} → ${j}, outside [0, ${ePrev}) × [0, ${eNext})`);
    }
    counts[i][j]++;
  }
  const N = prev.length;
  const rowTotals = counts.map((r) => r.reduce((a, b) => a + b, 0));
  const columnTotals = Array.from({ length: eNext }, (_, j) => counts.reduce((a, r) => a + r[j], 0));
  let conditional = 0;
  counts.forEach((r, i) => r.forEach((n) => {
    if (n > 0) conditional -= (n / N) * Math.log(n / rowTotals[i]);
  }));
  const hNext = entropy(columnTotals);
  const none = N === 0;
  return {
    from: layers[0],
    to: layers[1],
    tokens: N,
    counts,
    entropy: none ? NaN : hNext,
    conditionalEntropy: none ? NaN : conditional,
    mutualInformation: none ? NaN : Math.max(0, hNext - conditional),
    nmi: none ? NaN : normalizedMutualInformation(prev, next, ePrev, eNext),
    accuracy: none ? NaN : counts.reduce((a, r) => a + Math.max(...r), 0) / N,
    baselineAccuracy: none ? NaN : Math.max(...columnTotals) / N,
  };
}

/**
 * {@link layerTransition} for each pair of consecutive MoE layers of a snapshot, over all its
 * sample tokens (dropped ones too: their argmax expert is what the router chose). A snapshot of
 * one MoE layer has no pair: an empty list.
 */
export function crossLayerPredictability(snapshot: RoutingSnapshot): LayerTransition[] {
  const E = snapshot.numExperts;
  return snapshot.layers.slice(1).map((layer, i) =>
    layerTransition(snapshot.expert[i], snapshot.expert[i + 1], E, E, [snapshot.layers[i], layer]));
}

/**
 * `P(e_l = j | e_prev = i) = n_ij / n_i·`: the contingency table with each row divided by its
 * total; a row of NaN for an expert never chosen in l_prev (no tokens to condition on).
 */
export function conditionalShares(counts: readonly (readonly number[])[]): number[][] {
  return counts.map((r) => {
    const total = r.reduce((a, b) => a + b, 0);
    return r.map((n) => n / total); // 0/0 = NaN for a row of zeros
  });
}

/** The last routing snapshot of a run directory, or null when it has none (a damaged file throws, naming it). */
export function finalRoutingSnapshot(runDir: string): RoutingSnapshot | null {
  const steps = routingSteps(runDir);
  return steps.length ? readRoutingSnapshot(runDir, steps[steps.length - 1]) : null;
}

const expertNames = (E: number) => Array.from({ length: E }, (_, e) => `expert ${e}`);

/**
 * Heatmap of one layer's expert load over training: rows experts, columns logged steps, colour
 * each expert's share of the step's assignments (1/E everywhere is perfectly balanced).
 * @param kind `before` (default) or `kept` loads.
 */
export function expertLoadHeatmap(load: ExpertLoad, o: { id: string; title?: string; kind?: LoadKind; caption?: string }): Figure {
  const kind = o.kind ?? 'before';
  const matrix = load[kind];
  return heatmapFigure({
    id: o.id,
    title: o.title ?? `Layer ${load.layer}: expert load over training`,
    rows: expertNames(load.numExperts),
    columns: load.steps.map(String),
    z: expertNames(load.numExperts).map((_, e) => matrix.map((r) => r[e])),
    x: 'training step',
    y: 'expert',
    scale: kind === 'before' ? 'share before capacity' : 'share kept',
    caption: o.caption,
  });
}

/**
 * Load imbalance (max/mean) over training, one line per series, with a dashed line at 1
 * (perfectly balanced) across the steps shown.
 */
export function loadImbalanceFigure(o: {
  id: string; title: string; series: { name: string; steps: number[]; imbalance: number[]; dashed?: boolean }[]; caption?: string;
}): Figure {
  const steps = o.series.flatMap((s) => s.steps);
  const balanced = steps.length
    ? [{ name: 'balanced: 1', x: [Math.min(...steps), Math.max(...steps)], y: [1, 1], dashed: true }]
    : [];
  return lineFigure({
    id: o.id, title: o.title, x: 'training step', y: 'load imbalance (max / mean)',
    series: [...o.series.map((s) => ({ name: s.name, x: s.steps, y: s.imbalance, dashed: s.dashed })), ...balanced],
    caption: o.caption,
  });
}

/**
 * Heatmap of `P(e_l | e_prev)` ({@link conditionalShares}): rows the token's expert in l_prev,
 * columns its expert in l. One bright cell per row: the lower layer's expert predicts the upper
 * one's; rows like the column shares: it tells nothing. Experts never chosen below are empty rows.
 */
export function transitionHeatmap(t: LayerTransition, o: { id: string; title?: string; caption?: string }): Figure {
  const z = conditionalShares(t.counts);
  return heatmapFigure({
    id: o.id,
    title: o.title ?? `P(expert in layer ${t.to} | expert in layer ${t.from})`,
    rows: t.counts.map((_, i) => `expert ${i}`),
    columns: expertNames(t.counts[0]?.length ?? 0),
    z,
    x: `expert in layer ${t.to}`,
    y: `expert in layer ${t.from}`,
    scale: 'P(column | row)',
    caption: o.caption,
  });
}
