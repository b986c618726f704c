/**
 * The capacity analysis: quality, throughput and the dropped fraction per layer over training,
 * per router and capacity factor, and the evidence for the claims of Switch Table 1 (the rules
 * are in sweep.ts).
 */
import type { Evidence } from '../../kernel-lib/exp/claims.ts';
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { lineFigure, type Series } from '../../kernel-lib/exp/plots.ts';
import { summarize } from '../../kernel-lib/exp/stats.ts';
import type { Table } from '../../kernel-lib/report/types.ts';
import {
  TIME_MEANING, byGroup, done, finalNegLogPerplexity, meanPlusMinus, pairBySeed, pairedEvidence, qualityOrUniform,
  summaryOverRuns, tableNumber, tokensPerSec,
} from '../common.ts';

/** A run's training capacity factor (null: dropless). */
const cfOf = (r: LoadedRun) => r.labels.capacityFactor as number | null;
/** A capacity factor in words: the number, or 'dropless'. */
const cfLabel = (cf: number | null) => (cf === null ? 'dropless' : String(cf));
/** A router in words, for legends. */
const routerName = (router: string) => (router === 'top1' ? 'Switch (top-1)' : 'MoE (top-2)');

/** Mean tokens/s over an arm's completed runs, for the page; 'no completed run' if none. */
const meanSpeed = (armRuns: LoadedRun[]) =>
  (done(armRuns).length ? summarize(done(armRuns).map(tokensPerSec)).mean.toFixed(0) : 'no completed run');

/** Mean dropped fraction over training (every MoE layer, every step). */
export const meanDropped = (r: LoadedRun) =>
  summarize(r.train.flatMap((t) => t.moe.map((m) => m.droppedFraction))).mean;

/** Whether the run's backend computes empty capacity slots (so padding costs time): plain JS cpu and tfjs-node. */
export const computesPadding = (r: LoadedRun) => r.device?.backend === 'cpu' || r.device?.backend === 'tensorflow';

/** The capacity experiment's report sections, summary table and the evidence for its claims. */
export function analyze(runs: LoadedRun[]): Analysis {
  const groups = [...byGroup(runs).values()];
  /** A router's arms, by capacity factor (dropless last). */
  const armsOf = (router: string) => groups
    .filter((armRuns) => armRuns[0].labels.router === router)
    .sort((a, b) => (cfOf(a[0]) ?? Infinity) - (cfOf(b[0]) ?? Infinity));
  /** The arm of one router and capacity factor (null: dropless), if the sweep has it. */
  const armOf = (router: string, cf: number | null) => armsOf(router).find((armRuns) => cfOf(armRuns[0]) === cf);

  const perCf = (router: string, statistic: (r: LoadedRun) => number): Series => {
    const arms = armsOf(router).filter((armRuns) => cfOf(armRuns[0]) !== null);
    return {
      name: routerName(router), x: arms.map((armRuns) => cfOf(armRuns[0])!),
      y: arms.map((armRuns) => summaryOverRuns(armRuns, statistic).mean),
      error: arms.map((armRuns) => summaryOverRuns(armRuns, statistic).se || 0), markers: true,
    };
  };
  const dropless = (router: string, statistic: (r: LoadedRun) => number): Series | null => {
    const armRuns = armOf(router, null);
    const capacityFactors = armsOf('top1').map((arm) => cfOf(arm[0])).filter((c): c is number => c !== null);
    if (!armRuns || capacityFactors.length === 0) return null;
    const value = summaryOverRuns(armRuns, statistic).mean;
    return {
      name: `${routerName(router)} dropless`, x: [Math.min(...capacityFactors), Math.max(...capacityFactors)],
      y: [value, value], dashed: true,
    };
  };
  const withDropless = (statistic: (r: LoadedRun) => number) => (['top1', 'top2'] as const)
    .flatMap((router) => [perCf(router, statistic), dropless(router, statistic)])
    .filter((s): s is Series => s !== null && s.x.length > 0);
  const quality = lineFigure({
    id: 'quality-vs-capacity', title: 'Final validation quality vs training capacity factor',
    x: 'capacity factor (training)', y: 'neg. log perplexity', series: withDropless(finalNegLogPerplexity),
    caption: 'Dashed: the dropless run. Evaluation at capacity factor 2.0 for every run, on the whole validation split '
      + '(Switch Table 1).',
  });
  const speed = lineFigure({
    id: 'speed-vs-capacity', title: 'Training throughput vs capacity factor', x: 'capacity factor (training)',
    y: 'tokens/s', series: withDropless(tokensPerSec),
    caption: `Tokens per second of ${TIME_MEANING}. wasm and Switchyard's WebGPU kernels skip empty capacity slots, `
      + 'so padding costs little there.',
  });
  const droppedSeries: Series[] = armsOf('top1').flatMap((armRuns) => {
    const r = done(armRuns)[0] ?? armRuns[0];
    const every = Math.max(1, Math.floor(r.train.length / 50));
    const rows = r.train.filter((_, i) => i % every === 0);
    return (r.train[0]?.moe ?? []).map((layer, j) => ({
      name: `cf ${cfLabel(cfOf(r))}, layer ${layer.layer}`, x: rows.map((t) => t.step),
      y: rows.map((t) => t.moe[j].droppedFraction),
    }));
  });
  const droppedFigure = lineFigure({
    id: 'dropped-over-training', title: 'Switch: dropped fraction per MoE layer over training', x: 'training step',
    y: 'dropped fraction of assignments', series: droppedSeries,
    caption: 'The first seed of each capacity factor. Dropped tokens skip the layer (the residual carries them on).',
  });

  const table: Table = {
    id: 'capacity',
    title: 'Per router and capacity factor (mean ± standard error over seeds)',
    columns: ['router', 'capacity factor', 'final neg. log ppl', 'tokens/s', 'dropped fraction (training mean)',
      'dropped fraction (final eval, cf 2.0)', 'seeds'],
    rows: groups.map((armRuns) => [
      String(armRuns[0].labels.router), cfLabel(cfOf(armRuns[0])),
      meanPlusMinus(summaryOverRuns(armRuns, finalNegLogPerplexity)),
      tableNumber(summaryOverRuns(armRuns, tokensPerSec).mean, 0),
      tableNumber(summaryOverRuns(armRuns, meanDropped).mean),
      tableNumber(summaryOverRuns(armRuns, (r) => summarize(r.final!.droppedFraction).mean).mean),
      done(armRuns).length,
    ]),
  };

  const evidence: Record<string, Evidence> = {};
  const [top1Cf1, top1Cf125, top1Cf2, top2Cf2] = [
    armOf('top1', 1.0), armOf('top1', 1.25), armOf('top1', 2.0), armOf('top2', 2.0),
  ];
  if (top1Cf2 && top1Cf1) {
    evidence['cf-quality'] = pairedEvidence(top1Cf2, top1Cf1, qualityOrUniform, (m) =>
      `top-1 cf 2.0 ${m.a.mean.toFixed(4)} vs cf 1.0 ${m.b.mean.toFixed(4)}`);
    const dropped = pairBySeed(top1Cf1, top1Cf2, meanDropped);
    evidence['lower-cf-drops-more'] = {
      kind: 'check', pass: dropped.a.length > 0 && dropped.a.every((v, i) => v > dropped.b[i]),
      measured: `mean dropped fraction per seed, cf 1.0: ${dropped.a.map((v) => v.toFixed(4)).join(', ')}; `
        + `cf 2.0: ${dropped.b.map((v) => v.toFixed(4)).join(', ')}`,
    };
    const padded = done([...top1Cf1, ...top1Cf2]).every(computesPadding);
    evidence['cf-speed'] = padded
      ? pairedEvidence(top1Cf1, top1Cf2, tokensPerSec, (m) =>
        `top-1 tokens/s: cf 1.0 ${m.a.mean.toFixed(0)} vs cf 2.0 ${m.b.mean.toFixed(0)}`)
      : {
        kind: 'not-applicable',
        measured: `top-1 tokens/s (mean over seeds): cf 1.0 ${meanSpeed(top1Cf1)}, cf 2.0 ${meanSpeed(top1Cf2)}; `
          + `the runs' backend (${done(top1Cf1)[0]?.device?.backend ?? '?'}) skips empty capacity slots, `
          + 'so a larger capacity factor costs no padding compute; time it with --backend cpu',
      };
  }
  if (top2Cf2 && top1Cf125) {
    evidence['top2-quality'] = pairedEvidence(top2Cf2, top1Cf125, qualityOrUniform, (m) =>
      `top-2 cf 2.0 ${m.a.mean.toFixed(4)} vs top-1 cf 1.25 ${m.b.mean.toFixed(4)}`);
    evidence['switch-faster'] = pairedEvidence(top1Cf125, top2Cf2, tokensPerSec, (m) =>
      `tokens/s: top-1 cf 1.25 ${m.a.mean.toFixed(0)} vs top-2 cf 2.0 ${m.b.mean.toFixed(0)}`);
  }
  const top1Dropless = armOf('top1', null);
  if (top1Dropless) {
    const droppedPerSeed = done(top1Dropless).map(meanDropped);
    evidence['dropless-drops-none'] = {
      kind: 'check', pass: droppedPerSeed.length > 0 && droppedPerSeed.every((v) => v === 0),
      measured: `mean dropped fraction per seed: ${droppedPerSeed.join(', ')}`,
    };
  }
  return {
    evidence,
    sections: [{
      heading: 'Capacity factor: quality, speed and dropped tokens',
      paragraphs: ['Capacity C = ceil(capacity factor · k · T / E) slots per expert per routing group; assignments '
        + 'past C are dropped and the token passes the layer through its residual connection. Dropless sizes each '
        + 'group\'s buffers to its largest expert load.'],
      figures: [quality, speed, droppedFigure],
      tables: [table],
    }],
    summary: table,
  };
}
