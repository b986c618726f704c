/**
 * The capacity analysis: quality at the final step, time to a quality threshold, tokens/s and
 * the dropped fraction per layer over training, per router and capacity factor; the claims of
 * Switch Table 1.
 */
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { lineFigure, type Series } from '../../kernel-lib/exp/plots.ts';
import { compare, fmtSummary, GREATER_RULE, summarize, verdictGreater } from '../../kernel-lib/exp/stats.ts';
import type { Claim, Table } from '../../kernel-lib/report/types.ts';
import { TIME_MEANING, byGroup, done, finalNlp, num, over, pm, secondsToReach, tokensPerSec } from '../common.ts';

const cfOf = (r: LoadedRun) => r.labels.capacityFactor as number | null;
const cfLabel = (cf: number | null) => (cf === null ? 'dropless' : String(cf));

/** Mean dropped fraction over training (every MoE layer, every step). */
const meanDropped = (r: LoadedRun) => summarize(r.train.flatMap((t) => t.moe.map((m) => m.droppedFraction))).mean;

export function analyze(runs: LoadedRun[]): Analysis {
  const groups = [...byGroup(runs).values()];
  const routers = ['top1', 'top2'] as const;
  const of = (router: string) => groups.filter((rs) => rs[0].labels.router === router).sort((a, b) => (cfOf(a[0]) ?? Infinity) - (cfOf(b[0]) ?? Infinity));
  // The quality every completed run reaches: the lowest final quality of any run.
  const threshold = Math.min(...done(runs).map(finalNlp));

  const perCf = (router: string, f: (r: LoadedRun) => number, name: string): Series => {
    const gs = of(router).filter((rs) => cfOf(rs[0]) !== null);
    return { name, x: gs.map((rs) => cfOf(rs[0])!), y: gs.map((rs) => over(rs, f).mean), error: gs.map((rs) => over(rs, f).se || 0) };
  };
  const dropless = (router: string, f: (r: LoadedRun) => number, name: string): Series | null => {
    const rs = of(router).find((g) => cfOf(g[0]) === null);
    const xs = of(router).map((g) => cfOf(g[0])).filter((c): c is number => c !== null);
    if (!rs || xs.length === 0) return null;
    const v = over(rs, f).mean;
    return { name, x: [Math.min(...xs), Math.max(...xs)], y: [v, v], dashed: true };
  };
  const withDropless = (f: (r: LoadedRun) => number) =>
    routers.flatMap((rt) => [perCf(rt, f, rt === 'top1' ? 'Switch (top-1)' : 'top-2'), dropless(rt, f, `${rt === 'top1' ? 'Switch' : 'top-2'} dropless`)]).filter((s): s is Series => s !== null && s.x.length > 0);
  const quality = lineFigure({ id: 'quality-vs-capacity', title: 'Final validation quality vs training capacity factor', x: 'capacity factor (training)', y: 'neg. log perplexity', series: withDropless(finalNlp), caption: 'Dashed: the dropless run of the same router. Evaluation at capacity factor 2.0 for every run (Switch Table 1).' });
  const speed = lineFigure({ id: 'speed-vs-capacity', title: 'Training throughput vs capacity factor', x: 'capacity factor (training)', y: 'tokens/s', series: withDropless(tokensPerSec), caption: `Tokens per second of ${TIME_MEANING}. On wasm empty capacity slots are skipped, so padding costs little there.` });
  const timeTo = lineFigure({ id: 'time-to-threshold', title: `Training time to reach neg. log perplexity ${threshold.toFixed(3)}`, x: 'capacity factor (training)', y: 'seconds', series: withDropless((r) => secondsToReach(r, threshold)), caption: `The threshold is the lowest final quality of any run, so every run reaches it (Switch Table 1, "time to quality threshold"). Time: ${TIME_MEANING}.` });
  // Dropped fraction over training, per layer, for top-1 at each capacity factor.
  const droppedSeries: Series[] = of('top1').flatMap((rs) => {
    const r = done(rs)[0] ?? rs[0];
    const layers = r.train[0]?.moe.map((m) => m.layer) ?? [];
    return layers.map((layer, j) => {
      const every = Math.max(1, Math.floor(r.train.length / 50));
      const rows = r.train.filter((_, i) => i % every === 0);
      return { name: `cf ${cfLabel(cfOf(r))}, layer ${layer}`, x: rows.map((t) => t.step), y: rows.map((t) => t.moe[j].droppedFraction) };
    });
  });
  const droppedFig = lineFigure({ id: 'dropped-over-training', title: 'Switch: dropped fraction per MoE layer over training', x: 'training step', y: 'dropped fraction of assignments', series: droppedSeries, caption: 'Seed 0 of each capacity factor. Dropped tokens skip the layer (the residual carries them on).' });

  const table: Table = {
    id: 'capacity',
    title: 'Per router and capacity factor (mean ± standard error over seeds)',
    columns: ['router', 'capacity factor', 'final neg. log ppl', 'seconds to threshold', 'tokens/s', 'dropped fraction (training mean)', 'dropped fraction (final eval, cf 2.0)', 'seeds'],
    rows: groups.map((rs) => [
      String(rs[0].labels.router), cfLabel(cfOf(rs[0])), pm(over(rs, finalNlp)), num(over(rs, (r) => secondsToReach(r, threshold)).mean, 1), num(over(rs, tokensPerSec).mean, 0),
      num(over(rs, meanDropped).mean), num(over(rs, (r) => summarize(r.final!.droppedFraction).mean).mean), done(rs).length,
    ]),
  };

  const claims: Claim[] = [];
  const find = (router: string, cf: number | null) => of(router).find((rs) => cfOf(rs[0]) === cf);
  const lo = find('top1', 0.5);
  const hi = find('top1', 2.0);
  if (lo && hi) {
    const d = compare(done(lo).map(meanDropped), done(hi).map(meanDropped));
    claims.push({ claim: 'A lower capacity factor drops more tokens (Switch §2.2, eq. 3)', measured: `top-1 mean dropped fraction: cf 0.5 ${fmtSummary(d.a)} vs cf 2.0 ${fmtSummary(d.b)}`, verdict: verdictGreater(d), rule: GREATER_RULE });
    const q = compare(done(hi).map(finalNlp), done(lo).map(finalNlp));
    claims.push({ claim: 'A larger capacity factor improves quality per step: fewer tokens skip the layer (Switch Table 1)', measured: `top-1 final neg. log perplexity: cf 2.0 ${fmtSummary(q.a)} vs cf 0.5 ${fmtSummary(q.b)}`, verdict: verdictGreater(q), rule: GREATER_RULE });
  }
  const one = find('top1', 1.0);
  if (one && hi) {
    const s = compare(done(one).map(tokensPerSec), done(hi).map(tokensPerSec));
    claims.push({ claim: 'A smaller capacity factor trains faster: less padding is computed (Switch §2.2, Table 1)', measured: `top-1 tokens/s: cf 1.0 ${fmtSummary(s.a, 0)} vs cf 2.0 ${fmtSummary(s.b, 0)}`, verdict: verdictGreater(s), rule: `${GREATER_RULE}. On wasm empty slots are skipped, so little difference is expected there` });
  }
  const t1 = find('top1', 1.0);
  const t2 = find('top2', 1.0);
  if (t1 && t2) {
    const t = compare(done(t2).map((r) => secondsToReach(r, threshold)), done(t1).map((r) => secondsToReach(r, threshold)));
    claims.push({ claim: 'Switch (top-1) reaches a quality threshold sooner than top-2 at the same capacity factor (Switch Table 1)', measured: `seconds to ${threshold.toFixed(3)} at cf 1.0: top-2 ${fmtSummary(t.a, 1)} vs top-1 ${fmtSummary(t.b, 1)}`, verdict: verdictGreater(t), rule: `${GREATER_RULE} (here: top-2 slower than top-1)` });
  }
  return { claims, sections: [{ heading: 'Capacity factor: quality, speed and dropped tokens', paragraphs: ['Capacity C = ceil(capacity factor · k · T / E) slots per expert per routing group; assignments past C are dropped and the token passes the layer through its residual connection. Dropless sizes each group\'s buffers to its largest expert load.'], figures: [quality, timeTo, speed, droppedFig], tables: [table] }], summary: table };
}
