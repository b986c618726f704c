/** The scaling analysis: quality against steps, time and parameters; speed-ups to dense quality; the claims. */
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { barFigure, lineFigure } from '../../kernel-lib/exp/plots.ts';
import { compare, fmtSummary, GREATER_RULE, slopeOf, summarize, verdictGreater } from '../../kernel-lib/exp/stats.ts';
import type { Claim, Table } from '../../kernel-lib/report/types.ts';
import { TIME_MEANING, byGroup, done, epochs, finalNlp, lateTrainLoss, meanEvalCurve, num, over, pm, secondsToReach, seriesOf, sizeOf, stepsToReach, tokensPerSec } from '../common.ts';

const label = (r: LoadedRun) => (r.labels.model === 'dense' ? 'dense' : r.labels.model === 'dense-2f' ? 'dense, 2×F (top-2 FLOPs)' : `${r.labels.model === 'switch' ? 'Switch' : 'top-2'} E=${r.labels.experts}`);

export function analyze(runs: LoadedRun[]): Analysis {
  const groups = byGroup(runs);
  const dense = groups.get('dense') ?? [];
  const denseFinal = over(dense, finalNlp);
  const sparse = [...groups.entries()].filter(([, rs]) => rs[0].labels.model === 'switch' || rs[0].labels.model === 'top2');
  const switches = sparse.filter(([, rs]) => rs[0].labels.model === 'switch').sort((a, b) => Number(a[1][0].labels.experts) - Number(b[1][0].labels.experts));
  const top2s = sparse.filter(([, rs]) => rs[0].labels.model === 'top2').sort((a, b) => Number(a[1][0].labels.experts) - Number(b[1][0].labels.experts));

  // ---- figures
  const curves = (axis: 'steps' | 'seconds') =>
    [...groups.values()].map((rs) => seriesOf(label(rs[0]), meanEvalCurve(done(rs), axis), rs[0].labels.model !== 'switch' && rs[0].labels.model !== 'top2'));
  const bySteps = lineFigure({ id: 'quality-vs-steps', title: 'Validation quality vs training steps', x: 'training step', y: 'neg. log perplexity (higher is better)', series: curves('steps'), caption: 'Mean over seeds; bars are standard errors. Switch at every E costs the dense model\'s FLOPs per token (Switch Fig. 4 right).' });
  const byTime = lineFigure({ id: 'quality-vs-time', title: 'Validation quality vs training time', x: 'training seconds', y: 'neg. log perplexity', series: curves('seconds'), caption: `Time axis: ${TIME_MEANING} (Switch Fig. 5).` });
  const paramSeries = (entries: [string, LoadedRun[]][], name: string) => ({
    name,
    x: entries.map(([, rs]) => sizeOf(rs[0]).total),
    y: entries.map(([, rs]) => over(rs, finalNlp).mean),
    error: entries.map(([, rs]) => over(rs, finalNlp).se || 0),
  });
  const byParams = lineFigure({
    id: 'quality-vs-parameters', title: 'Final quality vs total parameters', x: 'total parameters', y: 'final neg. log perplexity', logX: true,
    series: [paramSeries(switches, 'Switch (top-1)'), paramSeries(top2s, 'top-2'), { ...paramSeries([['dense', dense], ...(groups.has('dense-2f') ? [['dense-2f', groups.get('dense-2f')!] as [string, LoadedRun[]]] : [])], 'dense'), markers: true }],
    caption: 'More experts add parameters at constant FLOPs per token (Switch Fig. 4 left).',
  });
  // Speed-up to the dense model's final quality: per sparse run, against the dense seeds' mean.
  const speedups = sparse.map(([g, rs]) => {
    const denseSteps = summarize(done(dense).map((r) => r.config.steps)).mean;
    const denseSecs = summarize(done(dense).map((r) => secondsToReach(r, denseFinal.mean))).mean;
    const steps = over(rs, (r) => denseSteps / stepsToReach(r, denseFinal.mean));
    const time = over(rs, (r) => denseSecs / secondsToReach(r, denseFinal.mean));
    const reached = done(rs).filter((r) => Number.isFinite(stepsToReach(r, denseFinal.mean))).length;
    return { g, label: label(rs[0]), steps, time, reached, n: done(rs).length };
  });
  const speedFig = barFigure({
    id: 'speedup-to-dense', title: "Speed-up to reach the dense model's final quality", x: 'model', y: 'speed-up (×, dense = 1)', categories: speedups.map((s) => s.label),
    series: [{ name: 'in steps', values: speedups.map((s) => s.steps.mean), error: speedups.map((s) => s.steps.se || 0) }, { name: 'in time', values: speedups.map((s) => s.time.mean), error: speedups.map((s) => s.time.se || 0) }],
    caption: 'A missing bar: that model never reached the dense final quality within the run (Switch Fig. 5, Table 7).',
  });

  // ---- table
  const table: Table = {
    id: 'scaling',
    title: 'Per configuration (mean ± standard error over seeds)',
    columns: ['configuration', 'experts', 'total params', 'active params/token', 'training FLOPs/token', 'final neg. log ppl', 'final accuracy', 'tokens/s', 'epochs', 'train − val loss', 'steps speed-up vs dense', 'time speed-up vs dense', 'seeds'],
    rows: [...groups.entries()].map(([g, rs]) => {
      const s = sizeOf(rs[0]);
      const sp = speedups.find((x) => x.g === g);
      return [label(rs[0]), (rs[0].labels.experts as number | null) ?? null, s.total, s.active, s.flops, pm(over(rs, finalNlp)), num(over(rs, (r) => r.final!.accuracy).mean), num(over(rs, tokensPerSec).mean, 0), num(epochs(rs[0]), 2), num(over(rs, (r) => lateTrainLoss(r) - r.final!.loss).mean), sp ? num(sp.steps.mean, 2) : null, sp ? num(sp.time.mean, 2) : null, done(rs).length];
    }),
    caption: 'train − val loss: the last quarter\'s training cross-entropy minus the final validation loss; strongly negative values mean memorisation (training loss far below validation).',
  };

  // ---- claims
  const claims: Claim[] = [];
  const big = switches.at(-1);
  if (big) {
    const c = compare(done(big[1]).map(finalNlp), done(dense).map(finalNlp));
    claims.push({
      claim: 'Switch beats the FLOP-matched dense model at equal steps (Switch §3.1, Fig. 4 right)',
      measured: `Switch E=${big[1][0].labels.experts}: ${fmtSummary(c.a)} vs dense ${fmtSummary(c.b)} final neg. log perplexity (Δ ${c.diff.toFixed(3)})`,
      verdict: verdictGreater(c),
      rule: GREATER_RULE,
    });
  }
  if (switches.length >= 2) {
    // Least-squares slope of final quality on log2 E over every completed Switch run.
    const pts = switches.flatMap(([, rs]) => done(rs).map((r) => [Math.log2(Number(r.labels.experts)), finalNlp(r)] as const));
    const { slope, se } = slopeOf(pts);
    claims.push({
      claim: 'More experts improve quality at fixed FLOPs per token (Switch Fig. 4 left)',
      measured: `slope of final neg. log perplexity per doubling of E: ${slope.toFixed(4)} ± ${se.toFixed(4)} over E = ${switches.map(([, rs]) => rs[0].labels.experts).join(', ')}`,
      verdict: !Number.isFinite(se) ? 'inconclusive' : slope > 2 * se ? 'yes' : slope < -2 * se ? 'no' : 'inconclusive',
      rule: 'yes if the least-squares slope exceeds 2 standard errors, no if below −2, inconclusive otherwise',
    });
  }
  const bigSpeed = big && speedups.find((s) => s.g === big[0]);
  if (bigSpeed) {
    claims.push({
      claim: "Switch reaches the dense model's final quality in fewer steps (Switch Fig. 5, Table 7: a speed-up)",
      measured: `Switch E=${big![1][0].labels.experts}: ${bigSpeed.reached} of ${bigSpeed.n} seeds reached it; speed-up ${pm(bigSpeed.steps, 2)}× in steps, ${pm(bigSpeed.time, 2)}× in time`,
      verdict: bigSpeed.n >= 2 && bigSpeed.reached === bigSpeed.n && bigSpeed.steps.min > 1 ? 'yes' : bigSpeed.reached === 0 && bigSpeed.n >= 2 ? 'no' : 'inconclusive',
      rule: 'yes if every seed (≥ 2) reaches the dense mean final quality, each faster than dense; no if none reaches it; inconclusive otherwise',
    });
  }
  for (const [t2g, t2] of top2s) {
    const E = t2[0].labels.experts;
    const sw = groups.get(`switch-e${E}`);
    if (!sw || t2g !== top2s.at(-1)![0]) continue;
    const q = compare(done(t2).map(finalNlp), done(sw).map(finalNlp));
    claims.push({
      claim: 'Top-2 routing gives better quality per step than top-1 at the same expert size (Switch §2.1, Table 1: MoE vs Switch)',
      measured: `E=${E}: top-2 ${fmtSummary(q.a)} vs Switch ${fmtSummary(q.b)}`,
      verdict: verdictGreater(q),
      rule: GREATER_RULE,
    });
    const s = compare(done(sw).map(tokensPerSec), done(t2).map(tokensPerSec));
    claims.push({
      claim: 'Switch (top-1) trains faster than top-2 (Switch §2.1, Table 1)',
      measured: `E=${E}: Switch ${fmtSummary(s.a, 0)} vs top-2 ${fmtSummary(s.b, 0)} tokens/s`,
      verdict: verdictGreater(s),
      rule: GREATER_RULE,
    });
  }
  const ep = runs.length ? epochs(runs[0]) : NaN;
  return {
    claims,
    sections: [
      {
        heading: 'Quality against steps, time and parameters',
        paragraphs: [
          `Each run saw ${Number.isFinite(ep) ? ep.toFixed(2) : '?'} epochs of the training split. Past one epoch a model with more parameters can win by memorising; the table's train − val column shows how far each model got.`,
        ],
        figures: [bySteps, byTime, byParams, speedFig],
        tables: [table],
      },
    ],
    summary: table,
  };
}

