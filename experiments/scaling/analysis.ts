/**
 * The scaling analysis: quality against steps and time, the paired Switch − dense difference
 * at every evaluation (with its 95% interval and the step where it turns and stays positive),
 * the routers' state beside it, speed-ups to the dense quality, and the claims' evidence.
 */
import type { Evidence } from '../../kernel-lib/exp/claims.ts';
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { barFigure, lineFigure, type Series } from '../../kernel-lib/exp/plots.ts';
import { bootstrapCi, pairedTest, slopeOf, summarize } from '../../kernel-lib/exp/stats.ts';
import type { Figure, Table } from '../../kernel-lib/report/types.ts';
import {
  TIME_MEANING, byGroup, done, epochs, finalNegLogPerplexity, hasOutcome, lateMoe, lateTrainLoss, meanEvalCurve,
  meanPlusMinus, pairBySeed, pairedEvidence, qualityOrUniform, seriesOf, sizeOf, stepsToReach, summaryOverRuns,
  tableNumber, tokensPerSec,
} from '../common.ts';

/** One MoE layer's metrics in one training row. */
type MoeMetrics = LoadedRun['train'][number]['moe'][number];

/** The configuration of a run in words, for legends, bar categories and the table. */
const labelOf = (r: LoadedRun): string => {
  const model = r.labels.model;
  if (model === 'dense') return 'dense';
  if (model === 'dense-2f') return 'dense, 2×F where top-2 is sparse (top-2 FLOPs)';
  const where = r.labels.sparseEvery === 1 ? 'every block' : 'every other block';
  return `${model === 'switch' ? 'Switch' : 'top-2'} E=${r.labels.experts}, ${where}`;
};
/** Whether an arm's model has sparse (MoE) layers: Switch or top-2. */
const isSparse = (armRuns: LoadedRun[]) => armRuns[0].labels.model === 'switch' || armRuns[0].labels.model === 'top2';

/** Quality of a run at one evaluation step (NaN when it has none there). */
const qualityAt = (r: LoadedRun, step: number) => r.eval.find((e) => e.step === step)?.negLogPerplexity ?? NaN;

/** The number of sparse (MoE) layers of a configuration: every `sparseEvery`-th block. */
const sparseLayerCount = (c: LoadedRun['config']) =>
  Array.from({ length: c.numLayers }, (_, i) => i).filter((i) => i % c.sparseEvery === c.sparseEvery - 1).length;

/** The paired difference arm − dense per evaluation step: its mean, 95% interval and seeds. */
export interface DifferenceCurve {
  steps: number[];
  effect: number[];
  lo: number[];
  hi: number[];
  n: number[];
  /** First evaluation step from which the interval's lower bound stays above 0 to the end; null if none. */
  crossing: number | null;
}

/** Paired difference (arm − dense) of validation quality at every evaluation both arms have, per seed. */
export function differenceCurve(arm: LoadedRun[], dense: LoadedRun[]): DifferenceCurve {
  const armDone = done(arm);
  const steps = (armDone[0]?.eval ?? []).map((e) => e.step);
  const out: DifferenceCurve = { steps: [], effect: [], lo: [], hi: [], n: [], crossing: null };
  for (const step of steps) {
    const paired = pairBySeed(armDone, done(dense), (r) => qualityAt(r, step));
    const keep = paired.a.map((v, i) => Number.isFinite(v) && Number.isFinite(paired.b[i]));
    const armValues = paired.a.filter((_, i) => keep[i]);
    const denseValues = paired.b.filter((_, i) => keep[i]);
    if (armValues.length === 0) continue;
    const test = pairedTest(armValues, denseValues, { alternative: 'two-sided' });
    out.steps.push(step);
    out.effect.push(test.effect);
    out.lo.push(test.ci95[0]);
    out.hi.push(test.ci95[1]);
    out.n.push(test.n);
  }
  for (let i = out.steps.length - 1; i >= 0 && out.lo[i] > 0; i--) out.crossing = out.steps[i];
  return out;
}

/** Per seed: dense steps over the steps this run needs to reach its own seed's dense final quality. */
function speedups(arm: LoadedRun[], dense: LoadedRun[]): { seed: number; speedup: number }[] {
  return done(arm).flatMap((r) => {
    const denseRun = done(dense).find((x) => x.seed === r.seed);
    if (!denseRun) return [];
    const reachedAt = stepsToReach(r, finalNegLogPerplexity(denseRun));
    return [{
      seed: r.seed,
      speedup: Number.isFinite(reachedAt) ? denseRun.config.steps / Math.max(reachedAt, 1) : NaN,
    }];
  });
}

/** The routers' entropy, largest gate and dropped fraction per MoE layer over training. */
function routerFigures(sparse: [string, LoadedRun[]][]): Figure[] {
  const seriesPerLayer = (metric: (layer: MoeMetrics) => number) => sparse.flatMap(([, armRuns]) => {
    const r = done(armRuns)[0] ?? armRuns[0];
    const every = Math.max(1, Math.floor(r.train.length / 60));
    const rows = r.train.filter((_, i) => i % every === 0);
    return (r.train[0]?.moe ?? []).map((layer, j): Series => ({
      name: `${labelOf(r)}, layer ${layer.layer}`, x: rows.map((t) => t.step), y: rows.map((t) => metric(t.moe[j])),
    }));
  });
  return [
    lineFigure({
      id: 'router-entropy', title: 'Router entropy per MoE layer over training (seed of the first run)',
      x: 'training step', y: 'mean router entropy (nats)', series: seriesPerLayer((layer) => layer.entropy),
      caption: 'ln E is a uniform router (2.08 nats at E = 8): a router near it scales every expert output '
        + 'by about 1/E.',
    }),
    lineFigure({
      id: 'router-top-gate', title: 'Largest gate per MoE layer over training (mean over tokens)', x: 'training step',
      y: 'mean largest router probability', series: seriesPerLayer((layer) => layer.meanTopProb ?? NaN),
      caption: 'The top-1 gate scales the chosen expert\'s output: 1/E for a uniform router (0.125 at E = 8), '
        + '1 for a decided one.',
    }),
    lineFigure({
      id: 'router-dropped', title: 'Dropped fraction per MoE layer over training', x: 'training step',
      y: 'dropped fraction of assignments', series: seriesPerLayer((layer) => layer.droppedFraction),
      caption: 'Tokens over an expert\'s capacity skip the layer through the residual connection.',
    }),
  ];
}

/** A number with two decimals for the speed-up interval, '–' when not finite. */
const twoDecimals = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');

/** The scaling experiment's report sections, summary table and the evidence for its claims. */
export function analyze(runs: LoadedRun[]): Analysis {
  const groups = byGroup(runs);
  const dense = groups.get('dense') ?? [];
  const sparse = [...groups.entries()].filter(([, armRuns]) => isSparse(armRuns));
  const switchesEveryOther = sparse
    .filter(([, armRuns]) => armRuns[0].labels.model === 'switch' && armRuns[0].labels.sparseEvery === 2)
    .sort((a, b) => Number(a[1][0].labels.experts) - Number(b[1][0].labels.experts));

  // ---- quality curves and the paired difference against steps
  const curves = (axis: 'steps' | 'seconds') => [...groups.values()]
    .map((armRuns) => seriesOf(labelOf(armRuns[0]), meanEvalCurve(done(armRuns), axis), !isSparse(armRuns)));
  const bySteps = lineFigure({
    id: 'quality-vs-steps', title: 'Validation quality vs training steps', x: 'training step',
    y: 'neg. log perplexity (higher is better)', series: curves('steps'),
    caption: 'Mean over seeds; bars are standard errors. Constant learning rate after warm-up, so each point '
      + 'is a valid quality-at-this-many-steps (Switch Fig. 4 right).',
  });
  const byTime = lineFigure({
    id: 'quality-vs-time', title: 'Validation quality vs training time', x: 'training seconds',
    y: 'neg. log perplexity', series: curves('seconds'), caption: `Time axis: ${TIME_MEANING} (Switch Fig. 5).`,
  });
  const differences = sparse.map(([group, armRuns]) => ({
    group, label: labelOf(armRuns[0]), curve: differenceCurve(armRuns, dense),
  }));
  const differenceFigure = lineFigure({
    id: 'difference-vs-steps', title: 'Paired difference in validation quality, sparse − dense, vs steps',
    x: 'training step', y: 'Δ neg. log perplexity (> 0: sparse ahead)',
    series: differences.map((d) => ({
      name: d.label, x: d.curve.steps, y: d.curve.effect, interval: { lo: d.curve.lo, hi: d.curve.hi },
    })),
    zeroLine: true,
    caption: 'Mean over seeds of each seed\'s difference at the same step (paired: the same data order, evaluation '
      + 'batches and initial weights of shared layers); bars: the paired t 95% interval. Above 0, the sparse model '
      + 'is ahead.',
  });

  // ---- speed-up to the dense quality (per seed, bootstrap interval over seeds)
  const speed = sparse.map(([group, armRuns]) => {
    const perSeed = speedups(armRuns, dense);
    const reached = perSeed.filter((x) => Number.isFinite(x.speedup));
    const mean = (xs: { speedup: number }[]) => summarize(xs.map((x) => x.speedup)).mean;
    return {
      group, label: labelOf(armRuns[0]), n: perSeed.length, reached: reached.length,
      mean: mean(reached), ci: bootstrapCi(reached, mean),
    };
  });
  const speedFigure = barFigure({
    id: 'speedup-to-dense', title: "Speed-up in steps to reach the same seed's dense final quality", x: 'model',
    y: 'speed-up (×, dense = 1)', categories: speed.map((s) => s.label),
    series: [{ name: 'mean over seeds that reached it', values: speed.map((s) => s.mean) }],
    caption: 'A missing bar: no seed reached the dense quality within the run, a speed-up below 1. Valid at every step '
      + 'because the learning rate is constant after warm-up (Switch Fig. 5, Table 7).',
  });

  // ---- table
  const table: Table = {
    id: 'scaling',
    title: 'Per configuration (mean ± standard error over seeds)',
    columns: ['configuration', 'experts', 'sparse blocks', 'total params', 'active params/token',
      'training FLOPs/token', 'final neg. log ppl', 'paired Δ vs dense [95% CI]', 'crossing step',
      'speed-up vs dense [95% bootstrap]', 'router entropy (last quarter)', 'largest gate (last quarter)',
      'dropped (last quarter)', 'tokens/s', 'epochs', 'train − val loss', 'seeds'],
    rows: [...groups.entries()].map(([group, armRuns]) => {
      const size = sizeOf(armRuns[0]);
      const difference = differences.find((x) => x.group === group)?.curve;
      const last = difference && difference.steps.length ? difference.steps.length - 1 : -1;
      const speedup = speed.find((x) => x.group === group);
      const sparseBlocks = isSparse(armRuns) || armRuns[0].labels.model === 'dense-2f'
        ? (armRuns[0].labels.sparseEvery === 1 ? 'all' : 'every other')
        : 'none';
      const lateMoeMean = (metric: (layer: MoeMetrics) => number) =>
        tableNumber(summaryOverRuns(armRuns, (r) => lateMoe(r, metric)).mean);
      return [
        labelOf(armRuns[0]), (armRuns[0].labels.experts as number | null) ?? null, sparseBlocks,
        size.total, size.active, size.flops,
        meanPlusMinus(summaryOverRuns(armRuns, finalNegLogPerplexity)),
        last >= 0
          ? `${difference!.effect[last].toFixed(4)} `
            + `[${difference!.lo[last].toFixed(4)}, ${difference!.hi[last].toFixed(4)}]`
          : null,
        difference ? (difference.crossing ?? 'none') : null,
        speedup
          ? (speedup.reached
            ? `${speedup.mean.toFixed(2)} [${speedup.ci.map(twoDecimals).join(', ')}] `
              + `(${speedup.reached} of ${speedup.n})`
            : `< 1 (0 of ${speedup.n})`)
          : null,
        isSparse(armRuns) ? lateMoeMean((layer) => layer.entropy) : null,
        isSparse(armRuns) ? lateMoeMean((layer) => layer.meanTopProb ?? NaN) : null,
        isSparse(armRuns) ? lateMoeMean((layer) => layer.droppedFraction) : null,
        tableNumber(summaryOverRuns(armRuns, tokensPerSec).mean, 0), tableNumber(epochs(armRuns[0]), 2),
        tableNumber(summaryOverRuns(armRuns, (r) => lateTrainLoss(r) - r.final!.loss).mean),
        done(armRuns).length,
      ];
    }),
    caption: 'Crossing step: the first evaluation from which the paired difference\'s 95% interval stays above 0 '
      + 'to the end ("none": no crossing within the run, which is a result too). train − val loss: last quarter\'s '
      + 'training cross-entropy minus the final validation loss.',
  };

  // ---- evidence for the claim rules (the rules themselves are in sweep.ts, fixed before the runs)
  const evidence: Record<string, Evidence> = {};
  const mostExperts = switchesEveryOther.at(-1);
  if (mostExperts && dense.length) {
    evidence['switch-beats-dense'] = pairedEvidence(mostExperts[1], dense, qualityOrUniform, (m) =>
      `Switch E=${mostExperts[1][0].labels.experts}: ${m.a.mean.toFixed(4)}, dense ${m.b.mean.toFixed(4)} `
        + 'final neg. log perplexity');
  }
  if (switchesEveryOther.length >= 2) {
    // Per seed: least-squares slope of final quality on log2 E across the Switch arms (paired by seed).
    // A seed counts when every arm has an outcome for it: a seed whose every Switch run diverged has
    // slope 0 (−ln V throughout), kept.
    const seeds = [...new Set(switchesEveryOther.flatMap(([, armRuns]) => armRuns.map((r) => r.seed)))];
    const slopes = seeds.flatMap((seed) => {
      const points = switchesEveryOther.flatMap(([, armRuns]) => armRuns
        .filter((r) => r.seed === seed && hasOutcome(r))
        .map((r) => [Math.log2(Number(r.labels.experts)), qualityOrUniform(r)] as const));
      return points.length === switchesEveryOther.length
        ? [{ seed, slope: slopeOf(points.length >= 3 ? points : [...points, ...points]).slope }]
        : [];
    });
    evidence['more-experts-better'] = {
      kind: 'paired', a: slopes.map((s) => s.slope), b: slopes.map(() => 0), seeds: slopes.map((s) => s.seed),
      measured: `slope per doubling of E, per seed: ${slopes.map((s) => s.slope.toFixed(4)).join(', ')}`,
    };
  }
  const denseFlops = dense[0] ? sizeOf(dense[0]).flops : NaN;
  if (dense[0]) {
    const rows = sparse.filter(([, armRuns]) => armRuns[0].labels.model === 'switch').map(([, armRuns]) => {
      const c = armRuns[0].config;
      const router = 3 * 2 * c.dModel * c.numExperts * sparseLayerCount(c);
      return { label: labelOf(armRuns[0]), extra: sizeOf(armRuns[0]).flops - denseFlops, router };
    });
    evidence['flops-matched'] = {
      kind: 'check', pass: rows.length > 0 && rows.every((r) => r.extra === r.router),
      measured: rows.map((r) => `${r.label}: +${r.extra} FLOPs/token over dense (routers: ${r.router})`).join('; '),
    };
  }
  const top2 = sparse.find(([, armRuns]) => armRuns[0].labels.model === 'top2');
  const dense2f = groups.get('dense-2f');
  if (top2 && dense2f) {
    const c = top2[1][0].config;
    const flopsDifference = sizeOf(top2[1][0]).flops - sizeOf(dense2f[0]).flops;
    const router = 3 * 2 * c.dModel * (c.numExperts - 1) * sparseLayerCount(c);
    evidence['dense2f-flops'] = {
      kind: 'check', pass: flopsDifference === router,
      measured: `top-2 − dense-2f: ${flopsDifference} training FLOPs/token; `
        + `the routers' difference 3·2·D·(E − 1) per sparse layer: ${router}`,
    };
  }
  const epochsSeen = runs.length ? epochs(runs[0]) : NaN;
  const crossings = differences.map((d) =>
    `${d.label}: ${d.curve.crossing === null ? 'no crossing' : `ahead from step ${d.curve.crossing}`}`);
  return {
    evidence,
    sections: [
      {
        heading: 'Does Switch overtake dense at equal FLOPs, and when?',
        paragraphs: [
          `Each run saw ${Number.isFinite(epochsSeen) ? epochsSeen.toFixed(2) : '?'} epochs of the training split. `
            + `${crossings.join('; ')}.`,
          'Read the difference against steps together with the routers\' state: a router near uniform entropy '
            + 'scales each expert\'s output by about 1/E, so the sparse layer contributes little until its router '
            + 'has learned to choose.',
        ],
        figures: [differenceFigure, bySteps, ...routerFigures(sparse), byTime, speedFigure],
        tables: [table],
      },
    ],
    summary: table,
  };
}
