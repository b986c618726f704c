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
import { TIME_MEANING, byGroup, done, finalNlp, num, over, pairBySeed, pairedEvidence, pm, qualityOrUniform, tokensPerSec } from '../common.ts';

const cfOf = (r: LoadedRun) => r.labels.capacityFactor as number | null;
const cfLabel = (cf: number | null) => (cf === null ? 'dropless' : String(cf));
const routerName = (router: string) => (router === 'top1' ? 'Switch (top-1)' : 'MoE (top-2)');

/** Mean dropped fraction over training (every MoE layer, every step). */
/** Mean tokens/s over an arm's completed runs, for the page; 'no completed run' if none. */
const meanSpeed = (rs: LoadedRun[]) => (done(rs).length ? summarize(done(rs).map(tokensPerSec)).mean.toFixed(0) : 'no completed run');
export const meanDropped = (r: LoadedRun) => summarize(r.train.flatMap((t) => t.moe.map((m) => m.droppedFraction))).mean;

/** Whether the run's backend computes empty capacity slots (so padding costs time): plain JS cpu and tfjs-node. */
export const computesPadding = (r: LoadedRun) => r.device?.backend === 'cpu' || r.device?.backend === 'tensorflow';

export function analyze(runs: LoadedRun[]): Analysis {
  const groups = [...byGroup(runs).values()];
  const of = (router: string) => groups.filter((rs) => rs[0].labels.router === router).sort((a, b) => (cfOf(a[0]) ?? Infinity) - (cfOf(b[0]) ?? Infinity));
  const find = (router: string, cf: number | null) => of(router).find((rs) => cfOf(rs[0]) === cf);

  const perCf = (router: string, f: (r: LoadedRun) => number): Series => {
    const gs = of(router).filter((rs) => cfOf(rs[0]) !== null);
    return { name: routerName(router), x: gs.map((rs) => cfOf(rs[0])!), y: gs.map((rs) => over(rs, f).mean), error: gs.map((rs) => over(rs, f).se || 0), markers: true };
  };
  const dropless = (router: string, f: (r: LoadedRun) => number): Series | null => {
    const rs = find(router, null);
    const xs = of('top1').map((g) => cfOf(g[0])).filter((c): c is number => c !== null);
    if (!rs || xs.length === 0) return null;
    const v = over(rs, f).mean;
    return { name: `${routerName(router)} dropless`, x: [Math.min(...xs), Math.max(...xs)], y: [v, v], dashed: true };
  };
  const withDropless = (f: (r: LoadedRun) => number) =>
    (['top1', 'top2'] as const).flatMap((rt) => [perCf(rt, f), dropless(rt, f)]).filter((s): s is Series => s !== null && s.x.length > 0);
  const quality = lineFigure({
    id: 'quality-vs-capacity', title: 'Final validation quality vs training capacity factor', x: 'capacity factor (training)',
    y: 'neg. log perplexity', series: withDropless(finalNlp),
    caption: 'Dashed: the dropless run. Evaluation at capacity factor 2.0 for every run, on the whole validation split (Switch Table 1).',
  });
  const speed = lineFigure({
    id: 'speed-vs-capacity', title: 'Training throughput vs capacity factor', x: 'capacity factor (training)', y: 'tokens/s',
    series: withDropless(tokensPerSec),
    caption: `Tokens per second of ${TIME_MEANING}. wasm and Switchyard's WebGPU kernels skip empty capacity slots, so padding costs little there.`,
  });
  const droppedSeries: Series[] = of('top1').flatMap((rs) => {
    const r = done(rs)[0] ?? rs[0];
    const every = Math.max(1, Math.floor(r.train.length / 50));
    const rows = r.train.filter((_, i) => i % every === 0);
    return (r.train[0]?.moe ?? []).map((m, j) => ({ name: `cf ${cfLabel(cfOf(r))}, layer ${m.layer}`, x: rows.map((t) => t.step), y: rows.map((t) => t.moe[j].droppedFraction) }));
  });
  const droppedFig = lineFigure({
    id: 'dropped-over-training', title: 'Switch: dropped fraction per MoE layer over training', x: 'training step',
    y: 'dropped fraction of assignments', series: droppedSeries,
    caption: 'The first seed of each capacity factor. Dropped tokens skip the layer (the residual carries them on).',
  });

  const table: Table = {
    id: 'capacity',
    title: 'Per router and capacity factor (mean ± standard error over seeds)',
    columns: ['router', 'capacity factor', 'final neg. log ppl', 'tokens/s', 'dropped fraction (training mean)', 'dropped fraction (final eval, cf 2.0)', 'seeds'],
    rows: groups.map((rs) => [
      String(rs[0].labels.router), cfLabel(cfOf(rs[0])), pm(over(rs, finalNlp)), num(over(rs, tokensPerSec).mean, 0),
      num(over(rs, meanDropped).mean), num(over(rs, (r) => summarize(r.final!.droppedFraction).mean).mean), done(rs).length,
    ]),
  };

  const evidence: Record<string, Evidence> = {};
  const [t1cf1, t1cf125, t1cf2, t2] = [find('top1', 1.0), find('top1', 1.25), find('top1', 2.0), find('top2', 2.0)];
  if (t1cf2 && t1cf1) {
    evidence['cf-quality'] = pairedEvidence(t1cf2, t1cf1, qualityOrUniform, (m) => `top-1 cf 2.0 ${m.a.mean.toFixed(4)} vs cf 1.0 ${m.b.mean.toFixed(4)}`);
    const d = pairBySeed(t1cf1, t1cf2, meanDropped);
    evidence['lower-cf-drops-more'] = {
      kind: 'check', pass: d.a.length > 0 && d.a.every((v, i) => v > d.b[i]),
      measured: `mean dropped fraction per seed, cf 1.0: ${d.a.map((v) => v.toFixed(4)).join(', ')}; cf 2.0: ${d.b.map((v) => v.toFixed(4)).join(', ')}`,
    };
    const padded = done([...t1cf1, ...t1cf2]).every(computesPadding);
    evidence['cf-speed'] = padded
      ? pairedEvidence(t1cf1, t1cf2, tokensPerSec, (m) => `top-1 tokens/s: cf 1.0 ${m.a.mean.toFixed(0)} vs cf 2.0 ${m.b.mean.toFixed(0)}`)
      : {
        kind: 'not-applicable',
        measured: `top-1 tokens/s (mean over seeds): cf 1.0 ${meanSpeed(t1cf1)}, cf 2.0 ${meanSpeed(t1cf2)}; `
          + `the runs' backend (${done(t1cf1)[0]?.device?.backend ?? '?'}) skips empty capacity slots, so a larger capacity factor costs no padding compute; time it with --backend cpu`,
      };
  }
  if (t2 && t1cf125) {
    evidence['top2-quality'] = pairedEvidence(t2, t1cf125, qualityOrUniform, (m) => `top-2 cf 2.0 ${m.a.mean.toFixed(4)} vs top-1 cf 1.25 ${m.b.mean.toFixed(4)}`);
    evidence['switch-faster'] = pairedEvidence(t1cf125, t2, tokensPerSec, (m) => `tokens/s: top-1 cf 1.25 ${m.a.mean.toFixed(0)} vs top-2 cf 2.0 ${m.b.mean.toFixed(0)}`);
  }
  const dl = find('top1', null);
  if (dl) {
    const d = done(dl).map(meanDropped);
    evidence['dropless-drops-none'] = { kind: 'check', pass: d.length > 0 && d.every((v) => v === 0), measured: `mean dropped fraction per seed: ${d.join(', ')}` };
  }
  return {
    evidence,
    sections: [{
      heading: 'Capacity factor: quality, speed and dropped tokens',
      paragraphs: ['Capacity C = ceil(capacity factor · k · T / E) slots per expert per routing group; assignments past C are dropped and the token passes the layer through its residual connection. Dropless sizes each group\'s buffers to its largest expert load.'],
      figures: [quality, speed, droppedFig],
      tables: [table],
    }],
    summary: table,
  };
}
