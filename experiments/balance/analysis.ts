/**
 * The balance analysis: load imbalance, dropped tokens and quality over training for the
 * auxiliary loss, the loss-free bias, both and neither (top-1 and top-2), the bias itself, and
 * the evidence for the claims of Wang et al. 2024 (the rules are in sweep.ts).
 */
import type { Evidence } from '../../kernel-lib/exp/claims.ts';
import { lineFigure, type Series } from '../../kernel-lib/exp/plots.ts';
import { expertLoad, expertLoadHeatmap, loadImbalance, moeLayers } from '../../kernel-lib/exp/routing-traces.ts';
import { summarize } from '../../kernel-lib/exp/stats.ts';
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import type { Table } from '../../kernel-lib/report/types.ts';
import {
  PAIRED_DELTA_CAPTION, byGroup, done, finalNegLogPerplexity, lateMoe, meanEvalCurve, meanPlusMinus, pairedDeltaCell,
  pairedEvidence, qualityOrUniform, seriesOf, summaryOverRuns, tableNumber,
} from '../common.ts';
import { BALANCE_CF, BALANCE_EVAL_CF, BALANCE_MODES, armName, type BalanceMode, type BalanceRouter } from './sweep.ts';

const MODE_NAMES: Record<BalanceMode, string> = {
  loss: 'auxiliary loss', bias: 'loss-free bias', both: 'loss and bias', none: 'neither',
};
const ROUTER_NAMES: Record<BalanceRouter, string> = { top1: 'top-1', top2: 'top-2' };

/** Mean over the last quarter of training and the MoE layers of each step's load imbalance (max/mean). */
export const lateImbalance = (r: LoadedRun) => lateMoe(r, (m) => loadImbalance(m.countsBefore));

/**
 * {@link lateImbalance} for a claim: a diverged run counts as the worst imbalance possible, so it
 * is never dropped from its arm: every token's k choices on the same k experts, max/mean = E/k
 * (top-1: E, every assignment on one expert).
 */
export function imbalanceOrWorst(r: LoadedRun): number {
  if (r.status === 'diverged') return r.config.numExperts / (r.config.router === 'top1' ? 1 : r.config.k);
  return lateImbalance(r);
}

/** Mean dropped fraction over the last quarter of training (every MoE layer). */
export const lateDropped = (r: LoadedRun) => lateMoe(r, (m) => m.droppedFraction);

/** Mean over seeds, at each logged step, of the load imbalance averaged over the MoE layers. */
function imbalanceCurve(runs: LoadedRun[]): { x: number[]; y: number[] } {
  const usable = done(runs);
  const steps = (usable[0]?.train ?? []).map((t) => t.step);
  const x: number[] = [];
  const y: number[] = [];
  steps.forEach((step, i) => {
    const values = usable.map((r) => r.train[i]).filter((t) => t?.step === step)
      .map((t) => summarize(t.moe.map((m) => loadImbalance(m.countsBefore))).mean);
    if (values.length !== usable.length) return;
    x.push(step);
    y.push(summarize(values).mean);
  });
  return { x, y };
}

/** The checks of the bias state: off at γ = 0, on (bounded by γ·step) at γ > 0. */
function biasStateCheck(runs: LoadedRun[]): Evidence {
  const problems: string[] = [];
  let withBias = 0;
  for (const r of done(runs)) {
    const gamma = r.config.biasUpdateRate;
    for (const t of r.train) {
      for (const m of t.moe) {
        if (gamma === 0 && m.routerBias !== undefined) problems.push(`${r.id} step ${t.step}: a bias at γ = 0`);
        if (gamma > 0 && m.routerBias === undefined) problems.push(`${r.id} step ${t.step}: no bias at γ = ${gamma}`);
        // |b| ≤ γ·step, with a relative 1e-4 for float32 sums (3,000 steps of ±γ drift by up to ~2e-5).
        if (gamma > 0 && m.routerBias?.some((b) => Math.abs(b) > gamma * t.step * (1 + 1e-4))) {
          problems.push(`${r.id} step ${t.step}: |b| above γ·step`);
        }
      }
    }
    const last = r.train.at(-1)?.moe ?? [];
    if (gamma > 0 && last.length > 0 && last.every((m) => m.routerBias?.some((b) => b !== 0))) withBias++;
    if (gamma > 0 && !last.every((m) => m.routerBias?.some((b) => b !== 0))) problems.push(`${r.id}: a zero bias`);
  }
  return {
    kind: 'check', pass: problems.length === 0 && withBias > 0,
    measured: problems.length
      ? `${problems.length} problem(s), first: ${problems.slice(0, 3).join('; ')}`
      : `${withBias} run(s) with γ > 0 end with a non-zero bias in every MoE layer, within γ·step; `
        + 'no bias in the runs with γ = 0',
  };
}

/** The balance experiment's report sections, summary table and the evidence for its claims. */
export function analyze(runs: LoadedRun[]): Analysis {
  const groups = byGroup(runs);
  const arm = (router: BalanceRouter, mode: BalanceMode) => groups.get(armName(router, mode)) ?? [];
  /** The routers the sweep has, in order. */
  const routers = (['top1', 'top2'] as const)
    .filter((router) => BALANCE_MODES.some((mode) => arm(router, mode).length));

  const figures = routers.flatMap((router) => {
    const present = BALANCE_MODES.filter((mode) => arm(router, mode).length > 0);
    const imbalance: Series[] = present
      .map((mode) => ({ name: MODE_NAMES[mode], ...imbalanceCurve(arm(router, mode)) }));
    const quality = present.map((mode) => seriesOf(MODE_NAMES[mode], meanEvalCurve(arm(router, mode))));
    return [
      lineFigure({
        id: `imbalance-${router}`, title: `${ROUTER_NAMES[router]}: load imbalance over training`,
        x: 'training step', y: 'max/mean expert load', series: imbalance,
        caption: 'Each logged step\'s assignment counts per MoE layer (before the capacity limit), max over mean '
          + '(1 = perfectly balanced; at most E/k, every token\'s k choices on the same k experts); mean over the '
          + 'MoE layers and the seeds.',
      }),
      lineFigure({
        id: `quality-${router}`, title: `${ROUTER_NAMES[router]}: validation quality over training`,
        x: 'training step', y: 'neg. log perplexity', series: quality,
        caption: 'Mean over seeds (error bars: standard error) on the fixed evaluation batches.',
      }),
    ];
  });
  for (const mode of ['loss', 'bias'] as const) {
    const first = done(arm('top1', mode))[0];
    const layer = first ? moeLayers(first)[0] : undefined;
    if (!first || layer === undefined) continue;
    figures.push(expertLoadHeatmap(expertLoad(first, layer), {
      id: `load-top1-${mode}`,
      title: `Top-1, ${MODE_NAMES[mode]}: expert load over training (${first.id}, block ${layer})`,
      caption: 'Each expert\'s share of the assignments at each logged step, before the capacity limit (1/E is even).',
    }));
  }
  const biasRun = done(arm('top1', 'bias'))[0];
  if (biasRun) {
    const every = Math.max(1, Math.floor(biasRun.train.length / 50));
    const rows = biasRun.train.filter((t, i) => i % every === 0 && t.moe[0]?.routerBias);
    const experts = rows[0]?.moe[0].routerBias?.length ?? 0;
    figures.push(lineFigure({
      id: 'router-bias', title: `Top-1: the router bias of each expert over training (${biasRun.id})`,
      x: 'training step', y: 'bias b_e',
      series: Array.from({ length: experts }, (_, e) => ({
        name: `expert ${e}`, x: rows.map((t) => t.step), y: rows.map((t) => t.moe[0].routerBias![e]),
      })),
      caption: `The first MoE layer (block ${biasRun.train[0]?.moe[0]?.layer ?? '?'}); b_e rises while expert e is `
        + 'under the mean load and falls while it is over (b_e += γ·sign(mean load − load_e)).',
    }));
  }

  const table: Table = {
    id: 'balance',
    title: 'Per router and balancing (mean ± standard error over seeds)',
    columns: ['router', 'balancing', 'α', 'γ', 'final neg. log ppl', 'paired Δ vs loss [95% CI]',
      'load imbalance (last quarter)', `dropped fraction (last quarter, cf ${BALANCE_CF.toFixed(1)})`,
      `dropped (final eval, cf ${BALANCE_EVAL_CF.toFixed(1)})`, 'seeds'],
    caption: PAIRED_DELTA_CAPTION,
    rows: routers.flatMap((router) => BALANCE_MODES.filter((mode) => arm(router, mode).length > 0)
      .map((mode) => {
        const armRuns = arm(router, mode);
        const config = armRuns[0].config;
        return [
          ROUTER_NAMES[router], MODE_NAMES[mode], config.balanceCoef, config.biasUpdateRate,
          meanPlusMinus(summaryOverRuns(armRuns, finalNegLogPerplexity)),
          pairedDeltaCell(arm(router, mode), arm(router, 'loss')),
          meanPlusMinus(summaryOverRuns(armRuns, lateImbalance)),
          tableNumber(summaryOverRuns(armRuns, lateDropped).mean),
          tableNumber(summaryOverRuns(armRuns, (r) => summarize(r.final!.droppedFraction).mean).mean),
          done(armRuns).length,
        ];
      })),
  };

  const evidence: Record<string, Evidence> = {};
  for (const router of routers) {
    const [bias, loss] = [arm(router, 'bias'), arm(router, 'loss')];
    if (bias.length === 0 || loss.length === 0) continue;
    evidence[`bias-balances-${router}`] = pairedEvidence(bias, loss, imbalanceOrWorst, (m) =>
      `${ROUTER_NAMES[router]} imbalance: bias ${m.a.mean.toFixed(3)} vs loss ${m.b.mean.toFixed(3)}`);
    evidence[`bias-quality-${router}`] = pairedEvidence(bias, loss, qualityOrUniform, (m) =>
      `${ROUTER_NAMES[router]} final quality: bias ${m.a.mean.toFixed(4)} vs loss ${m.b.mean.toFixed(4)}`);
  }
  evidence['bias-state'] = biasStateCheck(runs);

  return {
    evidence,
    sections: [{
      heading: 'Balancing expert load: auxiliary loss, loss-free bias, both, neither',
      paragraphs: [
        'The auxiliary loss (Switch eq. 4) pushes the router\'s probabilities towards equal loads through the '
          + 'gradient, at some cost to the language-model loss. Loss-free balancing (Wang et al. 2024) leaves the '
          + 'gradient alone: a per-expert bias, added to the probabilities only to choose experts, is moved after '
          + 'every step by γ towards the mean load. At capacity factor 1.0 an unbalanced step drops tokens.',
      ],
      figures,
      tables: [table],
    }],
    summary: table,
  };
}
