/**
 * The routing analysis: token choice vs Expert Choice (quality, load balance, dropped tokens and
 * the causality check), the balance coefficient's effect on load, drops, entropy and quality,
 * and routing traces (expert load and its imbalance over training, cross-layer predictability).
 */
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { lineFigure, barFigure } from '../../kernel-lib/exp/plots.ts';
import { summarize } from '../../kernel-lib/exp/stats.ts';
import type { Evidence } from '../../kernel-lib/exp/claims.ts';
import type { Figure, Table } from '../../kernel-lib/report/types.ts';
import {
  crossLayerPredictability, expertLoad, expertLoadHeatmap, finalRoutingSnapshot, loadImbalanceFigure,
  loadImbalanceSeries, moeLayers, transitionHeatmap,
} from '../../kernel-lib/exp/routing-traces.ts';
import {
  byGroup, done, finalNegLogPerplexity, lateMoe, meanPlusMinus, pairBySeed, pairedEvidence, qualityOrUniform,
  summaryOverRuns, tableNumber, tokensPerSec,
} from '../common.ts';

/**
 * Coefficient of variation of the expert loads before capacity (0 = perfectly balanced), averaged
 * over the last quarter of training and the MoE layers.
 */
export function loadCv(r: LoadedRun): number {
  const rows = r.train.slice(Math.floor(r.train.length * 0.75));
  return summarize(rows.flatMap((t) => t.moe.map((m) => {
    const loads = summarize(m.countsKept.length && r.labels.router === 'expert-choice' ? m.countsKept : m.countsBefore);
    return loads.sd / loads.mean;
  }))).mean;
}
/** Mean dropped fraction over the last quarter of training and the MoE layers. */
const dropped = (r: LoadedRun) => lateMoe(r, (m) => m.droppedFraction);
/** Mean router entropy over the last quarter of training and the MoE layers. */
const entropy = (r: LoadedRun) => lateMoe(r, (m) => m.entropy);
/** The final evaluation's future leak: how much later tokens change earlier logits (0 for a causal model). */
const futureLeak = (r: LoadedRun) => r.final?.futureLeak ?? NaN;

/** A router and α as the figures name them: `top-1, α = 0.01`, `Expert Choice`. */
const label = (armRuns: LoadedRun[]) => (armRuns[0].labels.router === 'expert-choice'
  ? 'Expert Choice'
  : `${armRuns[0].labels.router === 'top1' ? 'top-1' : 'top-2'}, α = ${armRuns[0].labels.balanceCoef}`);

/**
 * Routing traces of each group's lowest completed seed: per MoE layer a heatmap of the expert
 * loads (before capacity) over training; per layer the load imbalance (max/mean) of every group;
 * from the run's last routing snapshot, per pair of consecutive MoE layers, P(expert | expert in
 * the MoE layer below) and a table of how predictable it is. Without snapshots, or with one MoE
 * layer, a paragraph says why that part is missing.
 */
export function routingTraces(groups: LoadedRun[][]): { figures: Figure[]; tables: Table[]; paragraphs: string[] } {
  const shown = groups.map((g) => done(g).sort((a, b) => a.seed - b.seed)[0]).filter((r) => r !== undefined);
  const name = (r: LoadedRun) => `${label([r])}, seed ${r.seed}`;
  const figures: Figure[] = shown.flatMap((r) => moeLayers(r).map((layer) => expertLoadHeatmap(expertLoad(r, layer), {
    id: `expert-load-${r.group}-layer${layer}`, title: `${name(r)}: expert load over training, layer ${layer}`,
    caption: 'Each expert\'s share of the layer\'s assignments at every logged step, before capacity (1/E = '
      + `1/${r.config.numExperts} everywhere is balanced).`
      + (r.labels.router === 'expert-choice'
        ? ' For Expert Choice: each token\'s most probable expert; the loads it keeps are equal by construction.'
        : ''),
  })));
  for (const layer of [...new Set(shown.flatMap(moeLayers))].sort((a, b) => a - b)) {
    figures.push(loadImbalanceFigure({
      id: `load-imbalance-layer${layer}`, title: `Layer ${layer}: load imbalance over training`,
      series: shown.filter((r) => moeLayers(r).includes(layer))
        .map((r) => ({ name: name(r), ...loadImbalanceSeries(r, layer) })),
      caption: 'Largest over mean per-expert load before capacity: 1 is balanced, E puts every assignment on one '
        + 'expert.',
    }));
  }
  const rows: Table['rows'] = [];
  let anySnapshot = false;
  for (const r of shown) {
    const snapshot = finalRoutingSnapshot(r.runDir);
    if (!snapshot) continue;
    anySnapshot = true;
    for (const t of crossLayerPredictability(snapshot)) {
      figures.push(transitionHeatmap(t, {
        id: `expert-transition-${r.group}-layer${t.from}-${t.to}`,
        title: `${name(r)}: P(expert in layer ${t.to} | expert in layer ${t.from}), step ${snapshot.step}`,
        caption: `${t.tokens} sample tokens of the last routing snapshot. Accuracy of predicting the upper expert `
          + `from the lower: ${t.accuracy.toFixed(3)}, against ${t.baselineAccuracy.toFixed(3)} for always the `
          + 'most frequent one. Empty rows: experts no token chose in the lower layer.',
      }));
      rows.push([label([r]), r.seed, snapshot.step, `${t.from} → ${t.to}`, t.tokens, tableNumber(t.entropy),
        tableNumber(t.conditionalEntropy), tableNumber(t.nmi), tableNumber(t.accuracy),
        tableNumber(t.baselineAccuracy)]);
    }
  }
  const paragraphs = ['Routing traces, for each router and α its lowest completed seed: each expert\'s share of the '
    + 'assignments over training per MoE layer, the load imbalance (largest over mean load: 1 balanced, E all on one '
    + 'expert), and from the last routing snapshot how predictable a token\'s expert is from its expert in the MoE '
    + 'layer below.'];
  if (!anySnapshot) {
    paragraphs.push('Cross-layer predictability is not shown: these runs have no routing snapshots (the sweep\'s '
      + '`snapshots` setting records them).');
  } else if (rows.length === 0) {
    paragraphs.push('Cross-layer predictability is not shown: the models have one MoE layer, so no pair of layers '
      + 'to compare.');
  }
  const tables: Table[] = rows.length === 0 ? [] : [{
    id: 'routing-predictability', title: 'How predictable a token\'s expert is from its expert in the layer below',
    columns: ['router', 'seed', 'step', 'layers', 'tokens', 'H(e_l) (nats)', 'H(e_l | e_prev) (nats)', 'NMI',
      'accuracy', 'baseline accuracy'],
    rows,
    caption: 'Sample tokens of the last routing snapshot. H: entropy of the upper layer\'s expert, alone and given '
      + 'the lower one\'s; NMI: mutual information over the geometric mean of the two entropies; accuracy: predicting '
      + 'the upper expert by the most frequent one among tokens with the same lower expert; baseline: always the '
      + 'most frequent upper expert. In-sample (the predictor is read off the tokens it is scored on): an upper '
      + 'bound on what it would reach on new tokens.',
  }];
  return { figures, tables, paragraphs };
}

/** The routing experiment's report sections, summary table and the evidence for its claims. */
export function analyze(runs: LoadedRun[]): Analysis {
  const groups = byGroup(runs);
  const routerGroups = [groups.get('top1-a0.01'), groups.get('top2-a0.01'), groups.get('expert-choice')]
    .filter((g): g is LoadedRun[] => !!g);
  const alphaGroups = [...groups.values()]
    .filter((armRuns) => armRuns[0].labels.router === 'top1')
    .sort((a, b) => Number(b[0].labels.balanceCoef) - Number(a[0].labels.balanceCoef));
  const alphas = alphaGroups.map((armRuns) => Number(armRuns[0].labels.balanceCoef));
  const perAlpha = (statistic: (r: LoadedRun) => number) => ({
    x: alphas,
    y: alphaGroups.map((armRuns) => summaryOverRuns(armRuns, statistic).mean),
    error: alphaGroups.map((armRuns) => summaryOverRuns(armRuns, statistic).se || 0),
  });
  const meanPerRouter = (statistic: (r: LoadedRun) => number) =>
    routerGroups.map((armRuns) => summaryOverRuns(armRuns, statistic).mean);
  const figures = [
    lineFigure({
      id: 'balance-load', title: 'Load imbalance and dropped tokens vs balance coefficient α (top-1)',
      x: 'α (log scale)', y: 'value', logX: true,
      series: [
        { name: 'load coefficient of variation', ...perAlpha(loadCv) },
        { name: 'dropped fraction', ...perAlpha(dropped) },
      ],
      caption: 'Last quarter of training. Switch eq. 4 with α = 1e-2 is the paper\'s choice.',
    }),
    lineFigure({
      id: 'balance-quality', title: 'Final quality vs balance coefficient α (top-1)', x: 'α (log scale)',
      y: 'neg. log perplexity', logX: true, series: [{ name: 'top-1', ...perAlpha(finalNegLogPerplexity) }],
    }),
    lineFigure({
      id: 'balance-entropy', title: 'Router entropy vs α (top-1)', x: 'α (log scale)',
      y: 'mean router entropy (nats)', logX: true, series: [{ name: 'top-1', ...perAlpha(entropy) }],
    }),
    barFigure({
      id: 'routers', title: 'Token choice vs Expert Choice', x: 'router', y: 'value',
      categories: routerGroups.map(label),
      series: [
        { name: 'load CV', values: meanPerRouter(loadCv) },
        { name: 'dropped fraction', values: meanPerRouter(dropped) },
        { name: 'future leak (max |Δ logit|)', values: meanPerRouter(futureLeak) },
      ],
      caption: 'Expert Choice: each expert takes its top-C tokens, so loads are equal by construction, some tokens get '
        + 'no expert (dropped), and a token\'s routing depends on later tokens (future leak > 0).',
    }),
  ];
  const table: Table = {
    id: 'routing',
    title: 'Per router and α (mean ± standard error over seeds)',
    columns: ['router', 'α', 'final neg. log ppl', 'load CV', 'dropped fraction', 'router entropy', 'future leak',
      'tokens/s', 'seeds'],
    rows: [...groups.values()].map((armRuns) => [
      String(armRuns[0].labels.router), armRuns[0].labels.balanceCoef as number | null,
      meanPlusMinus(summaryOverRuns(armRuns, finalNegLogPerplexity)),
      tableNumber(summaryOverRuns(armRuns, loadCv).mean), tableNumber(summaryOverRuns(armRuns, dropped).mean),
      tableNumber(summaryOverRuns(armRuns, entropy).mean), tableNumber(summaryOverRuns(armRuns, futureLeak).mean, 6),
      tableNumber(summaryOverRuns(armRuns, tokensPerSec).mean, 0), done(armRuns).length,
    ]),
    caption: "Expert Choice's validation loss is not comparable: its routing uses later tokens of the batch, which "
      + 'a causal language model must not see (future leak > 0).',
  };
  const evidence: Record<string, Evidence> = {};
  const expertChoice = groups.get('expert-choice');
  const tokenChoiceRuns = [...groups.values()]
    .filter((armRuns) => armRuns[0].labels.router !== 'expert-choice')
    .flatMap((g) => done(g));
  if (expertChoice && done(expertChoice).length) {
    const cv = summarize(done(expertChoice).map(loadCv));
    evidence['ec-balanced'] = {
      kind: 'check', pass: cv.max < 1e-6,
      measured: `load CV of the kept loads: mean ${cv.mean.toExponential(2)}, `
        + `max over seeds ${cv.max.toExponential(2)} (pass: every seed below 1e-6)`,
    };
    const ecLeak = summarize(done(expertChoice).map(futureLeak));
    const tcLeak = summarize(tokenChoiceRuns.map(futureLeak));
    evidence['ec-not-causal'] = {
      kind: 'check', pass: ecLeak.n > 0 && ecLeak.min > 0 && tcLeak.n > 0 && tcLeak.max === 0,
      measured: 'max |Δ logit| on the first sequence\'s first half when every later token of the group changes: '
        + `Expert Choice ${ecLeak.min.toExponential(2)}–${ecLeak.max.toExponential(2)}, `
        + `token choice ${tcLeak.n ? tcLeak.max.toExponential(2) : '–'} `
        + '(pass: every Expert Choice run > 0, every token-choice run exactly 0)',
    };
  }
  const alpha1e2 = groups.get('top1-a0.01');
  const alpha1e5 = groups.get('top1-a0.00001');
  if (alpha1e2 && alpha1e5) {
    evidence['alpha-no-harm'] = pairedEvidence(alpha1e2, alpha1e5, qualityOrUniform, (m) =>
      `α = 1e-2 ${m.a.mean.toFixed(4)} vs α = 1e-5 ${m.b.mean.toFixed(4)}`);
    const paired = pairBySeed(alpha1e2, alpha1e5, loadCv);
    evidence['alpha-balances'] = {
      kind: 'check', pass: paired.a.length > 0 && paired.a.every((v, i) => v < paired.b[i]),
      measured: `load CV per seed, α = 1e-2: ${paired.a.map((v) => v.toFixed(3)).join(', ')}; `
        + `α = 1e-5: ${paired.b.map((v) => v.toFixed(3)).join(', ')}`,
    };
  }
  const traces = routingTraces([...groups.values()]);
  return {
    evidence,
    sections: [{
      heading: 'Routing: token choice, Expert Choice and the balance coefficient',
      paragraphs: ['Load CV: standard deviation over mean of the per-expert loads (before capacity for token choice, '
        + 'kept for Expert Choice). The future leak is the largest change of the logits on the first half of a '
        + 'batch\'s first sequence when every later token of the routing group is replaced, at the final '
        + 'evaluation: exactly 0 for a causal model.', ...traces.paragraphs],
      figures: [...figures, ...traces.figures],
      tables: [table, ...traces.tables],
    }],
    summary: table,
  };
}
