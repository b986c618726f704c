/**
 * The capacity analysis (experiments/capacity/analysis.ts) on synthetic run records with values
 * chosen by hand: the paired quality and speed evidence of Switch Table 1's claims, the dropped
 * fraction checks (lower capacity drops more, dropless drops none), cf-speed not applicable on a
 * backend that skips empty capacity slots (wasm, webgpu) and applicable where padding is
 * computed (cpu, tensorflow), the table and figures, and verdicts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, computesPadding, meanDropped } from '../experiments/capacity/analysis.ts';
import { claimRules } from '../experiments/capacity/sweep.ts';
import { decideClaims } from '../kernel-lib/exp/claims.ts';
import type { LoadedRun } from '../kernel-lib/exp/types.ts';
import { device, makeRun, matchesSnapshot, moe, paired, row, rows, UNIFORM, type RunSpec } from './fixtures/analysis/runs.ts';

/**
 * Per group: final quality per seed (0, 1, 2), the dropped fraction of every training row per
 * seed, and the CPU milliseconds per step after the start-up window (tokens/s = 256 000 / ms).
 */
const ARMS: Record<string, { final: number[]; dropped: number[]; ms: number }> = {
  'top1-cf1': { final: [-4.5, -4.25, -4.75], dropped: [0.2, 0.25, 0.125], ms: 125 },
  'top1-cf1.25': { final: [-4.375, -4.125, -4.625], dropped: [0.125, 0.125, 0.0625], ms: 160 },
  'top1-cf2': { final: [-4.25, -4, -4.5], dropped: [0.0625, 0.125, 0.0625], ms: 200 },
  'top1-dropless': { final: [-4.125, -4, -4.375], dropped: [0, 0, 0], ms: 250 },
  'top2-cf2': { final: [-4.25, -4, -4.375], dropped: [0.03125, 0.03125, 0.03125], ms: 320 },
};

/** 120 rows, one per step: the first 10 at 1000 ms (start-up, left out of tokens/s), the rest at `ms`. */
const train = (ms: number, dropped: number, n = 120) => rows(n, (i) => ({ cpuMs: i < 10 ? 1000 : ms, moe: [moe({ layer: 1, droppedFraction: dropped })] }));

const run = (group: string, seed: number, o: Partial<RunSpec> = {}) => {
  const a = ARMS[group];
  return makeRun('capacity', {
    group, seed, final: a.final[seed], train: train(a.ms, a.dropped[seed]),
    finalExtra: { droppedFraction: [a.dropped[seed] / 2] }, ...o,
  });
};
const SEEDS = [0, 1, 2];
const GROUPS = Object.keys(ARMS);
const all = (o: Partial<RunSpec> = {}) => GROUPS.flatMap((g) => SEEDS.map((s) => run(g, s, o)));
const cpu = device({ requested: 'cpu', backend: 'cpu' });

test('meanDropped: the mean over every training row and MoE layer; computesPadding: cpu and tensorflow only', () => {
  const r = makeRun('capacity', {
    group: 'top1-cf1', seed: 0, final: -4,
    train: [row({ step: 1, moe: [moe({ droppedFraction: 0.5 }), moe({ layer: 3, droppedFraction: 0.25 })] }), row({ step: 2, moe: [moe({ droppedFraction: 0 }), moe({ layer: 3, droppedFraction: 0.25 })] })],
  });
  assert.equal(meanDropped(r), 0.25);
  assert.ok(Number.isNaN(meanDropped({ ...r, train: [] })));
  const on = (backend: string, gpu = false) => computesPadding({ ...r, device: device({ backend: backend as 'cpu', gpu }) });
  assert.equal(on('cpu'), true);
  assert.equal(on('tensorflow'), true);
  assert.equal(on('wasm'), false);
  assert.equal(on('webgpu', true), false);
  assert.equal(computesPadding({ ...r, device: undefined }), false);
});

test('cf-quality, top2-quality: final qualities paired by seed, cf 2.0 − cf 1.0 and top-2 − top-1 cf 1.25', () => {
  const a = analyze(all());
  const q = paired(a.evidence['cf-quality']);
  assert.deepEqual([q.a, q.b, q.seeds], [[-4.25, -4, -4.5], [-4.5, -4.25, -4.75], [0, 1, 2]]);
  assert.equal(q.measured, 'top-1 cf 2.0 -4.2500 vs cf 1.0 -4.5000');
  const t2 = paired(a.evidence['top2-quality']);
  assert.deepEqual([t2.a, t2.b, t2.seeds], [[-4.25, -4, -4.375], [-4.375, -4.125, -4.625], [0, 1, 2]]);
  assert.equal(t2.measured, 'top-2 cf 2.0 -4.2083 vs top-1 cf 1.25 -4.3750');

  // A diverged cf 1.0 run counts as −ln V; a missing cf 2.0 run takes its seed out; other orders pair by seed.
  const runs = [run('top1-cf2', 2), run('top1-cf2', 0), run('top1-cf2', 1, { status: 'missing', evals: [] }), run('top1-cf1', 0, { status: 'diverged', evals: [] }), run('top1-cf1', 1), run('top1-cf1', 2)];
  const m = paired(analyze(runs).evidence['cf-quality']);
  assert.deepEqual([m.a, m.b, m.seeds], [[-4.5, -4.25], [-4.75, UNIFORM], [2, 0]]);
  // Without cf 1.0 (or 2.0), without top-2 (or top-1 at 1.25): no evidence for those rules.
  const lacking = analyze(all().filter((r) => r.group !== 'top1-cf1' && r.group !== 'top2-cf2'));
  assert.deepEqual(Object.keys(lacking.evidence), ['dropless-drops-none']);
  const noCf2 = analyze(all().filter((r) => r.group !== 'top1-cf2' && r.group !== 'top1-cf1.25'));
  assert.deepEqual(Object.keys(noCf2.evidence), ['dropless-drops-none']);
});

test('lower-cf-drops-more: every seed of cf 1.0 drops strictly more than its cf 2.0 seed', () => {
  const a = analyze(all());
  assert.deepEqual(a.evidence['lower-cf-drops-more'], {
    kind: 'check', pass: true, measured: 'mean dropped fraction per seed, cf 1.0: 0.2000, 0.2500, 0.1250; cf 2.0: 0.0625, 0.1250, 0.0625',
  });
  // Seed 2 drops the same at both: fails (strictly more, in every seed).
  const tie = all().map((r) => (r.group === 'top1-cf1' && r.seed === 2 ? run('top1-cf1', 2, { train: train(125, 0.0625) }) : r));
  const t = tie.length && analyze(tie).evidence['lower-cf-drops-more'];
  assert.deepEqual(t, { kind: 'check', pass: false, measured: 'mean dropped fraction per seed, cf 1.0: 0.2000, 0.2500, 0.0625; cf 2.0: 0.0625, 0.1250, 0.0625' });
  // Only seed 0 pairs (the others failed at cf 2.0), and it drops more: pass on that seed.
  const one = analyze([...SEEDS.map((s) => run('top1-cf1', s)), run('top1-cf2', 0), run('top1-cf2', 1, { status: 'failed' }), run('top1-cf2', 2, { status: 'failed' })]);
  assert.deepEqual(one.evidence['lower-cf-drops-more'], { kind: 'check', pass: true, measured: 'mean dropped fraction per seed, cf 1.0: 0.2000; cf 2.0: 0.0625' });
  // No pair at all: nothing shown to hold, so it fails.
  const none = analyze([run('top1-cf1', 0), run('top1-cf2', 1)]);
  assert.deepEqual(none.evidence['lower-cf-drops-more'], { kind: 'check', pass: false, measured: 'mean dropped fraction per seed, cf 1.0: ; cf 2.0: ' });
});

test('cf-speed: not applicable on wasm (padding skipped), paired tokens/s on backend cpu and tensorflow', () => {
  const wasm = analyze(all()).evidence['cf-speed'];
  assert.deepEqual(wasm, {
    kind: 'not-applicable',
    // The speeds are shown all the same (256 tokens per step at 125 and 200 ms of CPU time).
    measured: "top-1 tokens/s (mean over seeds): cf 1.0 2048, cf 2.0 1280; the runs' backend (wasm) skips empty capacity slots, "
      + 'so a larger capacity factor costs no padding compute; time it with --backend cpu',
  });
  const c = paired(analyze(all({ device: cpu })).evidence['cf-speed']);
  // 256 tokens per step at 125 and 200 ms of CPU time: 2048 and 1280 tokens/s.
  assert.deepEqual([c.a, c.b, c.seeds], [[2048, 2048, 2048], [1280, 1280, 1280], [0, 1, 2]]);
  assert.equal(c.measured, 'top-1 tokens/s: cf 1.0 2048 vs cf 2.0 1280');
  const tf = analyze(all({ device: device({ backend: 'tensorflow' }) })).evidence['cf-speed'];
  assert.equal(tf?.kind, 'paired');
  // One run on wasm among cpu runs: the comparison is not on a padding backend throughout.
  const mixed = all({ device: cpu }).map((r) => (r.group === 'top1-cf2' && r.seed === 1 ? { ...r, device: device() } : r));
  assert.equal(analyze(mixed).evidence['cf-speed']?.kind, 'not-applicable');
  // Only completed runs are asked: a diverged wasm run among cpu runs does not make it not applicable.
  const div = all({ device: cpu }).map((r) => (r.group === 'top1-cf1' && r.seed === 1 ? { ...r, status: 'diverged' as const, final: undefined, device: device() } : r));
  assert.equal(analyze(div).evidence['cf-speed']?.kind, 'paired');
  // No completed cf 1.0 run (both diverged on wasm): named '?'.
  const noCf1 = analyze([...SEEDS.map((s) => run('top1-cf1', s, { status: 'diverged', evals: [] })), ...SEEDS.map((s) => run('top1-cf2', s))]);
  assert.match(noCf1.evidence['cf-speed']!.measured, /cf 1\.0 no completed run, cf 2\.0 1280; the runs' backend \(\?\) skips/);
  // Records without a device: named '?'.
  const unknown = analyze(all().map((r) => ({ ...r, device: undefined })));
  assert.match(unknown.evidence['cf-speed']!.measured, /cf 1\.0 2048, cf 2\.0 1280; the runs' backend \(\?\) skips/);
  // The named backend is the first completed cf 1.0 run's.
  const named = analyze(all().map((r) => (r.group === 'top1-cf1' ? { ...r, device: device({ backend: 'webgpu', gpu: true }) } : r)));
  assert.match(named.evidence['cf-speed']!.measured, /; the runs' backend \(webgpu\) skips/);
});

test('switch-faster: tokens/s of top-1 cf 1.25 against top-2 cf 2.0, paired by seed', () => {
  const s = paired(analyze(all()).evidence['switch-faster']);
  // 256 000 / 160 = 1600, 256 000 / 320 = 800 tokens/s
  assert.deepEqual([s.a, s.b, s.seeds], [[1600, 1600, 1600], [800, 800, 800], [0, 1, 2]]);
  assert.equal(s.measured, 'tokens/s: top-1 cf 1.25 1600 vs top-2 cf 2.0 800');
});

test('dropless-drops-none: passes only when every completed dropless run dropped nothing', () => {
  assert.deepEqual(analyze(all()).evidence['dropless-drops-none'], { kind: 'check', pass: true, measured: 'mean dropped fraction per seed: 0, 0, 0' });
  const some = all().map((r) => (r.group === 'top1-dropless' && r.seed === 1 ? run('top1-dropless', 1, { train: train(250, 2 ** -10) }) : r));
  assert.deepEqual(analyze(some).evidence['dropless-drops-none'], { kind: 'check', pass: false, measured: 'mean dropped fraction per seed: 0, 0.0009765625, 0' });
  // No completed dropless run: nothing shown, fail.
  const gone = all().map((r) => (r.group === 'top1-dropless' ? { ...r, status: 'diverged' as const, final: undefined } : r));
  assert.deepEqual(analyze(gone).evidence['dropless-drops-none'], { kind: 'check', pass: false, measured: 'mean dropped fraction per seed: ' });
  assert.equal(analyze(all().filter((r) => r.group !== 'top1-dropless')).evidence['dropless-drops-none'], undefined);
});

test('the table and figures: per router and capacity factor, capacity factors in ascending order, dropless as a dashed line', () => {
  // Groups listed out of order: the table keeps the order of appearance, the figures sort by capacity factor.
  const order = ['top1-cf2', 'top2-cf2', 'top1-dropless', 'top1-cf1', 'top1-cf1.25'];
  const a = analyze(order.flatMap((g) => SEEDS.map((s) => run(g, s))));
  assert.deepEqual(a.summary.columns, ['router', 'capacity factor', 'final neg. log ppl', 'tokens/s', 'dropped fraction (training mean)', 'dropped fraction (final eval, cf 2.0)', 'seeds']);
  assert.deepEqual(a.summary.rows, [
    ['top1', '2', '-4.250 ± 0.144', 1280, 0.0833, 0.0417, 3],
    ['top2', '2', '-4.208 ± 0.110', 800, 0.0313, 0.0156, 3],
    ['top1', 'dropless', '-4.167 ± 0.110', 1024, 0, 0, 3],
    ['top1', '1', '-4.500 ± 0.144', 2048, 0.1917, 0.0958, 3],
    ['top1', '1.25', '-4.375 ± 0.144', 1600, 0.1042, 0.0521, 3],
  ]);
  const fig = (id: string) => a.sections[0].figures.find((f) => f.id === id)!.data as { name: string; x: number[]; y: number[]; line?: unknown; error_y?: { array: number[] } }[];
  const q = fig('quality-vs-capacity');
  assert.deepEqual(q.map((s) => s.name), ['Switch (top-1)', 'Switch (top-1) dropless', 'MoE (top-2)']);
  assert.deepEqual(q[0].x, [1, 1.25, 2]);
  assert.deepEqual(q[0].y, [-4.5, -4.375, -4.25]);
  // se of (−4.5, −4.25, −4.75): 0.25/√3
  assert.ok(q[0].error_y!.array.every((v) => Math.abs(v - 0.14433756729740643) < 1e-12));
  assert.deepEqual([q[1].x, q[1].y[0], q[1].line], [[1, 2], -4.166666666666667, { dash: 'dash' }]);
  assert.deepEqual([q[2].x, q[2].y], [[2], [-4.208333333333333]]);
  const sp = fig('speed-vs-capacity');
  assert.deepEqual(sp[0].y, [2048, 1600, 1280]);
  assert.deepEqual(sp[1].y, [1024, 1024]);
  assert.deepEqual(sp[0].error_y!.array, [0, 0, 0], 'equal seeds: se 0');
  // Dropped fraction over training: the first seed of each top-1 capacity factor, every second step.
  const d = fig('dropped-over-training');
  assert.deepEqual(d.map((s) => s.name), ['cf 1, layer 1', 'cf 1.25, layer 1', 'cf 2, layer 1', 'cf dropless, layer 1']);
  assert.equal(d[0].x.length, 60);
  assert.deepEqual(d[0].x.slice(0, 3), [1, 3, 5]);
  assert.deepEqual([d[0].y[0], d[1].y[0], d[2].y[0], d[3].y[0]], [0.2, 0.125, 0.0625, 0]);
  matchesSnapshot('capacity', { sections: a.sections, summary: a.summary });
});

test('figures: a router without a dropless run has no dashed line; with no top-1 capacity factor there is none either', () => {
  const a = analyze(['top1-cf1', 'top2-cf2'].flatMap((g) => SEEDS.map((s) => run(g, s))));
  const q = a.sections[0].figures[0].data as { name: string }[];
  assert.deepEqual(q.map((s) => s.name), ['Switch (top-1)', 'MoE (top-2)']);
  const b = analyze(['top1-dropless', 'top2-cf2'].flatMap((g) => SEEDS.map((s) => run(g, s))));
  assert.deepEqual((b.sections[0].figures[0].data as { name: string }[]).map((s) => s.name), ['MoE (top-2)']);
  // A top-2 dropless run (not in the sweep, but labelled so) is drawn over the top-1 capacity range.
  const t2dl = SEEDS.map((s) => run('top2-cf2', s, { labels: { capacityFactor: null } }));
  const c = analyze([...SEEDS.map((s) => run('top1-cf1', s)), ...SEEDS.map((s) => run('top1-cf2', s)), ...t2dl]);
  const cq = c.sections[0].figures[0].data as { name: string; x: number[] }[];
  assert.deepEqual(cq.map((s) => [s.name, s.x]), [['Switch (top-1)', [1, 2]], ['MoE (top-2) dropless', [1, 2]]]);
  // A top-1 group whose first run has no training rows has no line.
  const bare = analyze([run('top1-cf1', 0, { train: [] }), run('top1-cf2', 0)]);
  assert.deepEqual((bare.sections[0].figures[2].data as { name: string }[]).map((s) => s.name), ['cf 2, layer 1']);
  // The dropped-fraction figure falls back to the first run of a group without a completed one.
  const f = analyze([run('top1-cf1', 0, { status: 'diverged', evals: [], train: train(125, 0.5, 40) })]);
  const d = f.sections[0].figures[2].data as { x: number[]; y: number[] }[];
  assert.equal(d[0].x.length, 40, '40 rows, fewer than 100: every one');
  assert.equal(d[0].y[0], 0.5);
});

test('verdicts: larger capacity better in every seed is reproduced; a clear loss is not reproduced; cf-speed on wasm is not assessed', () => {
  const rules = claimRules('quick');
  const by = (cs: ReturnType<typeof decideClaims>, id: string) => cs.find((c) => c.id === id)!;
  const win = decideClaims(rules, analyze(all()).evidence, { assess: true });
  // cf 2.0 − cf 1.0 = 0.25 in every seed: no spread, p = 0.
  assert.equal(by(win, 'cf-quality').verdict, 'reproduced');
  assert.equal(by(win, 'cf-quality').effect, 0.25);
  // top-2 − top-1 cf 1.25 = 0.125, 0.125, 0.25 (scipy: t = 4 on 2 df, p = 0.02860 one-sided; Holm over the three claims with a p, the other two 0, leaves it).
  assert.equal(by(win, 'top2-quality').verdict, 'reproduced');
  assert.ok(Math.abs(by(win, 'top2-quality').pRaw! - 0.028595479208968315) < 1e-8, String(by(win, 'top2-quality').pRaw));
  assert.equal(by(win, 'top2-quality').pValue, by(win, 'top2-quality').pRaw);
  assert.equal(by(win, 'switch-faster').verdict, 'reproduced');
  assert.equal(by(win, 'cf-speed').verdict, 'not assessed');
  assert.match(by(win, 'cf-speed').measured, /^not applicable here: top-1 tokens\/s .*; the runs' backend \(wasm\)/);
  assert.deepEqual(['lower-cf-drops-more', 'dropless-drops-none'].map((id) => by(win, id).verdict), ['pass', 'pass']);

  // cf 2.0 worse than cf 1.0 by 0.25 in every seed: the interval [−0.25, −0.25] lies below 0.
  const swapped = all().map((r): LoadedRun => (r.group === 'top1-cf2' ? run('top1-cf2', r.seed, { final: ARMS['top1-cf1'].final[r.seed] - 0.25 }) : r));
  assert.equal(by(decideClaims(rules, analyze(swapped).evidence, { assess: true }), 'cf-quality').verdict, 'not reproduced');
  // On cpu the speed claim is tested: cf 1.0 faster in every seed.
  assert.equal(by(decideClaims(rules, analyze(all({ device: cpu })).evidence, { assess: true }), 'cf-speed').verdict, 'reproduced');
});
