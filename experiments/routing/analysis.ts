/**
 * The routing analysis: token choice vs Expert Choice (quality, load balance, dropped tokens and
 * the causality check), and the balance coefficient's effect on load, drops, entropy and quality.
 */
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { lineFigure, barFigure } from '../../kernel-lib/exp/plots.ts';
import { summarize } from '../../kernel-lib/exp/stats.ts';
import type { Evidence } from '../../kernel-lib/exp/claims.ts';
import type { Table } from '../../kernel-lib/report/types.ts';
import {
  byGroup, done, finalNegLogPerplexity, meanPlusMinus, pairBySeed, pairedEvidence, qualityOrUniform, summaryOverRuns,
  tableNumber, tokensPerSec,
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
const dropped = (r: LoadedRun) => summarize(r.train.slice(Math.floor(r.train.length * 0.75))
  .flatMap((t) => t.moe.map((m) => m.droppedFraction))).mean;
/** Mean router entropy over the last quarter of training and the MoE layers. */
const entropy = (r: LoadedRun) => summarize(r.train.slice(Math.floor(r.train.length * 0.75))
  .flatMap((t) => t.moe.map((m) => m.entropy))).mean;
/** The final evaluation's future leak: how much later tokens change earlier logits (0 for a causal model). */
const futureLeak = (r: LoadedRun) => r.final?.futureLeak ?? NaN;

/** The routing experiment's report sections, summary table and the evidence for its claims. */
export function analyze(runs: LoadedRun[]): Analysis {
  const groups = byGroup(runs);
  const label = (armRuns: LoadedRun[]) => (armRuns[0].labels.router === 'expert-choice'
    ? 'Expert Choice'
    : `${armRuns[0].labels.router === 'top1' ? 'top-1' : 'top-2'}, α = ${armRuns[0].labels.balanceCoef}`);
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
  return {
    evidence,
    sections: [{
      heading: 'Routing: token choice, Expert Choice and the balance coefficient',
      paragraphs: ['Load CV: standard deviation over mean of the per-expert loads (before capacity for token choice, '
        + 'kept for Expert Choice). The future leak is the largest change of the logits on the first half of a '
        + 'batch\'s first sequence when every later token of the routing group is replaced, at the final '
        + 'evaluation: exactly 0 for a causal model.'],
      figures,
      tables: [table],
    }],
    summary: table,
  };
}
