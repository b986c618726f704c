/**
 * The granularity analysis: quality over training per granularity, with and without a shared
 * expert, the cost of each arm (FLOPs, parameters, tokens/s), and the evidence for the claims
 * (the rules are in sweep.ts).
 */
import type { Evidence } from '../../kernel-lib/exp/claims.ts';
import { lineFigure, type Series } from '../../kernel-lib/exp/plots.ts';
import { moeLayerIndices } from '../../kernel-lib/model/config.ts';
import { expertWidth } from '../../kernel-lib/moe/config.ts';
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import type { Table } from '../../kernel-lib/report/types.ts';
import {
  PAIRED_DELTA_CAPTION, TIME_MEANING, byGroup, done, finalNegLogPerplexity, meanEvalCurve, meanPlusMinus,
  pairedDeltaCell, pairedEvidence, qualityOrUniform, seriesOf, sizeOf, summaryOverRuns, tableNumber, tokensPerSec,
} from '../common.ts';
import { armName } from './sweep.ts';

const granularityOf = (r: LoadedRun) => Number(r.labels.granularity);
const sharedOf = (r: LoadedRun) => r.labels.shared === true;
const armLabel = (m: number, shared: boolean) => `m = ${m}${shared ? ' + shared' : ''}`;

/**
 * A run's size without its routers (D·E weights per MoE layer; 2·D·E forward FLOPs per token, ×3 in
 * training), from the library's counts (model/counts.ts): what granularity keeps equal.
 */
export function sizeWithoutRouters(r: Pick<LoadedRun, 'config'>): { total: number; flops: number } {
  const size = sizeOf(r);
  const routers = moeLayerIndices(r.config).length * r.config.dModel * r.config.numExperts;
  return { total: size.total - routers, flops: size.flops - 3 * 2 * routers };
}

/** The granularity experiment's report sections, summary table and the evidence for its claims. */
export function analyze(runs: LoadedRun[]): Analysis {
  const grouped = byGroup(runs);
  const groups = [...grouped.values()];
  // One map: versusBase tells the m = 1 arm by identity, which a second byGroup's arrays never share.
  const arm = (m: number, shared: boolean) => grouped.get(armName(m, shared)) ?? [];
  const base = arm(1, false);

  const curves = (shared: boolean): Series[] => groups
    .filter((g) => sharedOf(g[0]) === shared || granularityOf(g[0]) === 1)
    .map((g) => seriesOf(armLabel(granularityOf(g[0]), sharedOf(g[0])), meanEvalCurve(g), sharedOf(g[0])));
  const finals: Series[] = [false, true].map((shared) => {
    const arms = groups.filter((g) => sharedOf(g[0]) === shared || (!shared && granularityOf(g[0]) === 1))
      .sort((a, b) => granularityOf(a[0]) - granularityOf(b[0]));
    return {
      name: shared ? 'with one shared expert' : 'routed only', dashed: shared,
      x: arms.map((g) => granularityOf(g[0])),
      y: arms.map((g) => summaryOverRuns(g, finalNegLogPerplexity).mean),
      error: arms.map((g) => summaryOverRuns(g, finalNegLogPerplexity).se || 0),
    };
  }).filter((s) => s.x.length > 0);
  const figures = [
    lineFigure({
      id: 'quality-vs-granularity', title: 'Final validation quality vs granularity', x: 'granularity m (log scale)',
      y: 'neg. log perplexity', series: finals, logX: true,
      caption: 'm·E experts of width F/m, k = m: equal expert FLOPs per token and equal expert parameters. '
        + 'Dashed: one of the m·E experts is shared (k − 1 routed). Mean over seeds ± standard error.',
    }),
    lineFigure({
      id: 'quality-vs-steps', title: 'Validation quality over training', x: 'training step',
      y: 'neg. log perplexity', series: [...curves(false), ...curves(true).filter((s) => s.dashed)],
      caption: 'Mean over seeds on the fixed evaluation batches; dashed: with one shared expert.',
    }),
  ];

  const table: Table = {
    id: 'granularity',
    title: 'Per granularity (mean ± standard error over seeds)',
    columns: ['arm', 'routed experts', 'width', 'k', 'shared', 'total params', 'active params/token',
      'training FLOPs/token', 'final neg. log ppl',
      'paired Δ vs m = 1 [95% CI]', 'tokens/s', 'seeds'],
    caption: PAIRED_DELTA_CAPTION,
    rows: groups.map((armRuns) => {
      const r = armRuns[0];
      const size = sizeOf(r);
      return [
        armLabel(granularityOf(r), sharedOf(r)), r.config.numExperts, expertWidth(r.config),
        r.config.router === 'top1' ? 1 : r.config.k, r.config.numSharedExperts, size.total, size.active,
        size.flops, meanPlusMinus(summaryOverRuns(armRuns, finalNegLogPerplexity)), pairedDeltaCell(armRuns, base),
        tableNumber(summaryOverRuns(armRuns, tokensPerSec).mean, 0), done(armRuns).length,
      ];
    }),
  };

  const evidence: Record<string, Evidence> = {};
  for (const armRuns of groups) {
    const m = granularityOf(armRuns[0]);
    if (m === 1 || sharedOf(armRuns[0]) || base.length === 0) continue;
    evidence[`finer-${m}`] = pairedEvidence(armRuns, base, qualityOrUniform, (s) =>
      `m = ${m} ${s.a.mean.toFixed(4)} vs m = 1 ${s.b.mean.toFixed(4)}`);
  }
  if (arm(4, true).length > 0 && arm(4, false).length > 0) {
    evidence['shared-helps'] = pairedEvidence(arm(4, true), arm(4, false), qualityOrUniform, (s) =>
      `m = 4 + shared ${s.a.mean.toFixed(4)} vs m = 4 ${s.b.mean.toFixed(4)}`);
  }
  const costs = groups
    .map((g) => ({ arm: armLabel(granularityOf(g[0]), sharedOf(g[0])), ...sizeWithoutRouters(g[0]) }));
  evidence['equal-cost'] = {
    kind: 'check',
    pass: costs.length > 0 && costs.every((c) => c.flops === costs[0].flops && c.total === costs[0].total),
    measured: 'without routers: '
      + costs.map((c) => `${c.arm}: ${c.flops} training FLOPs/token, ${c.total} params`).join('; '),
  };

  return {
    evidence,
    sections: [{
      heading: 'Expert granularity at equal compute',
      paragraphs: [
        'Granularity m splits each expert into m narrower ones and lets a token use m of them: the FLOPs per token '
          + 'and the parameters stay the same, the number of ways to combine experts grows. Throughput is shown '
          + `(${TIME_MEANING}); more, smaller matrix products cost more per FLOP on every backend.`,
      ],
      figures,
      tables: [table],
    }],
    summary: table,
  };
}
