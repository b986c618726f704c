/**
 * The granularity analysis (experiments/granularity/analysis.ts) on synthetic run records with
 * values chosen by hand: the paired quality evidence of finer-<m> (each granularity against
 * m = 1) and shared-helps (m = 4 with one shared expert against m = 4), pairing by seed, a
 * diverged run as the uniform predictor −ln V and a missing run taking its seed out; the
 * equal-cost check on the quick sweep's configs (sizes worked by hand from the formulas in
 * kernel-lib/model/counts.ts's header) and failing when one arm changes; the table with its
 * 'paired Δ vs m = 1' cells, the figures, and verdicts. Expected intervals and p-values come from
 * scipy (t₀.₉₇₅ with 2 df = 4.3026527297; on 2 df the t CDF is ½ + t / (2·√(t² + 2))).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, sizeWithoutRouters } from '../experiments/granularity/analysis.ts';
import { claimRules } from '../experiments/granularity/sweep.ts';
import { sizeOf } from '../experiments/common.ts';
import { decideClaims } from '../kernel-lib/exp/claims.ts';
import type { LoadedRun } from '../kernel-lib/exp/types.ts';
import { makeRun, matchesSnapshot, paired, rows, UNIFORM, type RunSpec } from './fixtures/analysis/runs.ts';

const close = (got: number, want: number, what: string, tol = 1e-9) => assert.ok(Math.abs(got - want) <= tol, `${what}: ${got}, expected ${want}`);

/**
 * Per arm, seeds 0, 1, 2: final quality (an evaluation at 60 half a nat lower) and the CPU
 * milliseconds per step after the start-up window (tokens/s = 256 000 / ms). Quality − m = 1's:
 * m = 4 0.125, 0.25, 0.375; m = 4 + shared 0.25, 0.375, 0.5 (0.125 over m = 4 in every seed);
 * m = 2 0, 0.125, 0.25.
 */
const ARMS: Record<string, { final: number[]; ms: number }> = {
  m1: { final: [-4.5, -4.25, -4.75], ms: 100 },
  m4: { final: [-4.375, -4, -4.375], ms: 200 },
  'm4-shared': { final: [-4.25, -3.875, -4.25], ms: 160 },
  m2: { final: [-4.5, -4.125, -4.5], ms: 125 },
};
const SEEDS = [0, 1, 2];

/** 120 rows: the first 10 (start-up, left out of tokens/s) at 1000 ms of CPU time, the rest at `ms`. */
const train = (ms: number) => rows(120, (i) => ({ cpuMs: i < 10 ? 1000 : ms }));
/** m = 2 is not in the quick sweep: the m = 4 arm's config with 8 experts of width 32, k = 2. */
const M2: Partial<RunSpec> = { like: 'm4', labels: { granularity: 2, shared: false }, config: { numExperts: 8, expertDff: 32, k: 2 } };

const run = (group: string, seed: number, o: Partial<RunSpec> = {}): LoadedRun => {
  const a = ARMS[group];
  return makeRun('granularity', {
    group, seed, evals: [[60, a.final[seed] - 0.5], [120, a.final[seed]]], train: train(a.ms), ...(group === 'm2' ? M2 : {}), ...o,
  });
};
const arms = (groups: string[]) => groups.flatMap((g) => SEEDS.map((s) => run(g, s)));
const all = () => arms(['m1', 'm4', 'm4-shared']);

test('sizeWithoutRouters: the library\'s counts less D·E weights and 3·2·D·E training FLOPs per MoE layer (worked by hand)', () => {
  // Quick: V = 1000, seqLen 32, D = 32, F = 64, 2 blocks (block 1 MoE), tied embeddings.
  // Embeddings V·D + seqLen·D = 33024; LayerNorms 2·2·2D + 2D = 320; the dense block 4D² + 2DF = 8192.
  // m = 1: the MoE block 4D² + D·E + E·2·D·F = 4096 + 128 + 16384; total 62144, routers 128.
  // Training FLOPs 3·(2·(8192 + 4096 + 128 + 4096) + 2·2·2·seqLen·D + 2·D·V) = 3·(33024 + 8192 + 64000) = 315648, routers 3·2·128.
  const m1 = run('m1', 0);
  assert.deepEqual(sizeOf(m1), { total: 62144, active: 49856, flops: 315648 });
  assert.deepEqual(sizeWithoutRouters(m1), { total: 62016, flops: 314880 });
  // m = 4: 16 experts of width 16, k = 4: 16·2·32·16 = 16384 expert weights, 4·1024 active, router 512.
  assert.deepEqual(sizeWithoutRouters(run('m4', 0)), { total: 62016, flops: 314880 });
  // A MoE FFN in both blocks: two routers (256 weights, 1536 FLOPs). Top-1 of width F costs a dense FFN's FLOPs.
  const both = { config: { ...m1.config, sparseEvery: 1 } };
  assert.deepEqual(sizeOf(both), { total: 33024 + 320 + 2 * 20608, active: 33024 + 320 + 2 * 8320, flops: 316416 });
  assert.deepEqual(sizeWithoutRouters(both), { total: 74304, flops: 314880 });
  // A dense model has no routers: its sizes as they are (49728 parameters, 314880 FLOPs).
  const dense = { config: { ...m1.config, ffn: 'dense' as const } };
  assert.deepEqual(sizeWithoutRouters(dense), { total: 49728, flops: 314880 });
});

test('finer-4 and shared-helps: final qualities paired by seed, m = 4 − m = 1 and m = 4 + shared − m = 4', () => {
  const a = analyze(all());
  assert.deepEqual(Object.keys(a.evidence), ['finer-4', 'shared-helps', 'equal-cost']);
  const f = paired(a.evidence['finer-4']);
  assert.deepEqual([f.a, f.b, f.seeds], [[-4.375, -4, -4.375], [-4.5, -4.25, -4.75], [0, 1, 2]]);
  assert.equal(f.measured, 'm = 4 -4.2500 vs m = 1 -4.5000');
  const s = paired(a.evidence['shared-helps']);
  assert.deepEqual([s.a, s.b, s.seeds], [[-4.25, -3.875, -4.25], [-4.375, -4, -4.375], [0, 1, 2]]);
  assert.equal(s.measured, 'm = 4 + shared -4.1250 vs m = 4 -4.2500');

  // m = 4 seed 0 diverged: −ln V, kept. m = 1 seed 1 missing: seed 1 out. Other orders pair by seed.
  const runs = [
    run('m1', 2), run('m1', 1, { status: 'missing', evals: [] }), run('m1', 0),
    run('m4', 1), run('m4', 0, { status: 'diverged', evals: [[60, -5]] }), run('m4', 2),
    run('m4-shared', 2), run('m4-shared', 0),
  ];
  const m = analyze(runs);
  const mf = paired(m.evidence['finer-4']);
  assert.deepEqual([mf.a, mf.b, mf.seeds], [[UNIFORM, -4.375], [-4.5, -4.75], [0, 2]]);
  // The shared arm lacks seed 1; m = 4 seed 0 counts as −ln V there too.
  const ms = paired(m.evidence['shared-helps']);
  assert.deepEqual([ms.a, ms.b, ms.seeds], [[-4.25, -4.25], [-4.375, UNIFORM], [2, 0]]);
  // A failed run is no outcome: its seed goes.
  const failed = paired(analyze([...arms(['m1']), run('m4', 0), run('m4', 1, { status: 'failed' }), run('m4', 2)]).evidence['finer-4']);
  assert.deepEqual(failed.seeds, [0, 2]);
});

test('finer-<m> for every routed-only granularity above 1 against m = 1; none without m = 1; shared-helps needs both m = 4 arms', () => {
  const a = analyze(arms(['m1', 'm2', 'm4', 'm4-shared']));
  assert.deepEqual(Object.keys(a.evidence), ['finer-2', 'finer-4', 'shared-helps', 'equal-cost']);
  const f2 = paired(a.evidence['finer-2']);
  assert.deepEqual([f2.a, f2.b, f2.seeds], [[-4.5, -4.125, -4.5], [-4.5, -4.25, -4.75], [0, 1, 2]]);
  assert.equal(f2.measured, 'm = 2 -4.3750 vs m = 1 -4.5000');
  // Without m = 1: no finer claims; shared-helps and the check stay.
  assert.deepEqual(Object.keys(analyze(arms(['m2', 'm4', 'm4-shared'])).evidence), ['shared-helps', 'equal-cost']);
  // Without the shared arm, or without routed-only m = 4: no shared-helps.
  assert.deepEqual(Object.keys(analyze(arms(['m1', 'm4'])).evidence), ['finer-4', 'equal-cost']);
  assert.deepEqual(Object.keys(analyze(arms(['m1', 'm4-shared'])).evidence), ['equal-cost']);
  // A shared arm at m = 2 (not in the sweep) is no finer claim either.
  const shared2 = SEEDS.map((s) => run('m4-shared', s, { group: 'm2-shared', like: 'm4-shared', labels: { granularity: 2, shared: true } }));
  assert.deepEqual(Object.keys(analyze([...arms(['m1']), ...shared2]).evidence), ['equal-cost']);
});

test('equal-cost: the quick sweep\'s arms have the same FLOPs and parameters without routers; one arm changed fails', () => {
  const a = analyze(arms(['m1', 'm2', 'm4', 'm4-shared']));
  // m = 4 + shared: 15 routed of width 16 (router 480), one shared of 16 (1024 weights), k = 3:
  // 4096 + 480 + 1024 + 15·1024 = 20960 in the MoE block (total 62496, less 480); active 4096 + 480 + 1024 + 3·1024.
  assert.deepEqual(a.evidence['equal-cost'], {
    kind: 'check', pass: true,
    measured: 'without routers: m = 1: 314880 training FLOPs/token, 62016 params; m = 2: 314880 training FLOPs/token, 62016 params; '
      + 'm = 4: 314880 training FLOPs/token, 62016 params; m = 4 + shared: 314880 training FLOPs/token, 62016 params',
  });
  const change = (o: Partial<LoadedRun['config']>) => analyze(all().map((r) => (r.group === 'm4' ? { ...r, config: { ...r.config, ...o } } : r))).evidence['equal-cost'];
  // m = 4 experts of width 32: +16·2·32·16 = 16384 parameters, +4·2·32·16 = 4096 active weights (+24576 training FLOPs).
  assert.deepEqual(change({ expertDff: 32 }), {
    kind: 'check', pass: false,
    measured: 'without routers: m = 1: 314880 training FLOPs/token, 62016 params; m = 4: 339456 training FLOPs/token, 78400 params; '
      + 'm = 4 + shared: 314880 training FLOPs/token, 62016 params',
  });
  // k = 2: the same parameters, 2·1024 fewer active weights (−12288 training FLOPs): FLOPs alone differ.
  assert.deepEqual(change({ k: 2 }), {
    kind: 'check', pass: false,
    measured: 'without routers: m = 1: 314880 training FLOPs/token, 62016 params; m = 4: 302592 training FLOPs/token, 62016 params; '
      + 'm = 4 + shared: 314880 training FLOPs/token, 62016 params',
  });
  // 20 experts, k = 4: +4·1024 parameters, the same FLOPs once the router is set aside: parameters alone differ.
  assert.deepEqual(change({ numExperts: 20 }), {
    kind: 'check', pass: false,
    measured: 'without routers: m = 1: 314880 training FLOPs/token, 62016 params; m = 4: 314880 training FLOPs/token, 66112 params; '
      + 'm = 4 + shared: 314880 training FLOPs/token, 62016 params',
  });
  // The first arm changed: the others differ from it.
  const first = analyze(all().map((r) => (r.group === 'm1' ? { ...r, config: { ...r.config, expertDff: 32 } } : r))).evidence['equal-cost'];
  assert.equal(first?.kind === 'check' && first.pass, false);
  // One arm alone is equal to itself; no runs at all is nothing shown: fail.
  assert.equal((analyze(arms(['m4'])).evidence['equal-cost'] as { pass: boolean }).pass, true);
  assert.deepEqual(analyze([]).evidence['equal-cost'], { kind: 'check', pass: false, measured: 'without routers: ' });
});

test('the table: per arm its experts, width, k, shared, sizes, quality, the paired Δ vs m = 1, tokens/s and seeds', () => {
  const a = analyze(arms(['m1', 'm2', 'm4', 'm4-shared']));
  const t = a.summary;
  assert.equal(t.id, 'granularity');
  assert.deepEqual(t.columns, ['arm', 'routed experts', 'width', 'k', 'shared', 'total params', 'active params/token',
    'training FLOPs/token', 'final neg. log ppl', 'paired Δ vs m = 1 [95% CI]', 'tokens/s', 'seeds']);
  assert.deepEqual(t.rows, [
    // m = 1 is the baseline: no difference with itself.
    ['m = 1', 4, 64, 1, 0, 62144, 49856, 315648, '-4.500 ± 0.144', '–', 2560, 3],
    // Δ 0, 0.125, 0.25: mean 0.125, se 0.125/√3, half-width 4.3026527 · 0.0721688 = 0.3105172.
    // Sizes: MoE block 4096 + 256 + 8·2048 (total), 4096 + 256 + 2·2048 (active); FLOPs 3·(2·(8192 + 8448) + 8192 + 64000).
    ['m = 2', 8, 32, 2, 0, 62272, 49984, 316416, '-4.375 ± 0.125', '0.1250 [-0.1855, 0.4355]', 2048, 3],
    ['m = 4', 16, 16, 4, 0, 62528, 50240, 317952, '-4.250 ± 0.125', '0.2500 [-0.0605, 0.5605]', 1280, 3],
    ['m = 4 + shared', 15, 16, 3, 1, 62496, 50208, 317760, '-4.125 ± 0.125', '0.3750 [0.0645, 0.6855]', 1600, 3],
  ]);
  // k of a top-1 arm is 1 whatever its config's k says (top-1 reads none; a run's config keeps the default k = 2).
  const k2 = analyze([run('m1', 0, { config: { k: 2 } })]);
  assert.deepEqual(k2.summary.rows[0].slice(0, 5), ['m = 1', 4, 64, 1, 0]);
  // The Δ cell needs two paired seeds: one gives '–'. A diverged m = 1 run pairs as −ln V.
  const few = analyze([run('m1', 0), run('m1', 1, { status: 'diverged', evals: [] }), run('m4', 0), run('m4', 1), run('m4-shared', 0), run('m4-shared', 2)]);
  // m = 4: Δ 0.125 and −4 + 6.9077553 = 2.9077553: mean 1.5163776, se 1.3913776, half-width 12.7062047 · se (1 df).
  assert.deepEqual(few.summary.rows.map((r) => r[9]), ['–', '1.5164 [-16.1628, 19.1955]', '–']);
  // Seeds and the quality column count completed runs only (m = 4: −4.375 and −4, se 0.1875 computed as
  // √0.0703125 / √2 = 0.18749999…, shown 0.187).
  assert.deepEqual(few.summary.rows.map((r) => [r[8], r[11]]), [['-4.500', 1], ['-4.188 ± 0.187', 2], ['-4.250 ± 0.000', 2]]);
  // Without m = 1 every Δ cell is '–'.
  assert.deepEqual(analyze(arms(['m4', 'm4-shared'])).summary.rows.map((r) => r[9]), ['–', '–']);
});

test('figures: final quality against granularity (routed only; dashed with a shared expert) and quality over training', () => {
  // Arms listed out of order: the granularity axis is sorted, the curves keep the order of appearance.
  const a = analyze(arms(['m4-shared', 'm4', 'm1', 'm2']));
  const figs = a.sections[0].figures;
  assert.deepEqual(figs.map((f) => f.id), ['quality-vs-granularity', 'quality-vs-steps']);
  type Line = { name: string; mode: string; x: number[]; y: number[]; line?: unknown; error_y?: { array: number[] } };
  const g = figs[0].data as Line[];
  // Lines through the granularities (solid routed only, dashed with a shared expert) on a log axis: 1, 2, 4 evenly spaced.
  assert.deepEqual(g.map((s) => [s.name, s.mode, s.line]), [['routed only', 'lines+markers', undefined], ['with one shared expert', 'lines+markers', { dash: 'dash' }]]);
  assert.equal((figs[0].layout as { xaxis: { type?: string } }).xaxis.type, 'log');
  assert.deepEqual([g[0].x, g[0].y], [[1, 2, 4], [-4.5, -4.375, -4.25]]);
  // se: 0.25/√3 for m = 1, 0.125 for the others.
  close(g[0].error_y!.array[0], 0.25 / Math.sqrt(3), 'se m = 1');
  assert.deepEqual(g[0].error_y!.array.slice(1), [0.125, 0.125]);
  assert.deepEqual([g[1].x, g[1].y, g[1].error_y!.array], [[4], [-4.125], [0.125]]);
  const q = figs[1].data as Line[];
  assert.deepEqual(q.map((s) => [s.name, s.line]), [['m = 4', undefined], ['m = 1', undefined], ['m = 2', undefined], ['m = 4 + shared', { dash: 'dash' }]]);
  assert.deepEqual([q[1].x, q[1].y], [[60, 120], [-5, -4.5]]);
  assert.deepEqual(q[3].y, [-4.625, -4.125]);

  // One seed per arm: no standard error, bars at 0. Without shared arms: one line in each figure.
  const one = analyze([run('m1', 0), run('m4', 0)]);
  const g1 = one.sections[0].figures[0].data as Line[];
  assert.deepEqual(g1.map((s) => [s.name, s.x, s.y, s.error_y!.array]), [['routed only', [1, 4], [-4.5, -4.375], [0, 0]]]);
  assert.deepEqual((one.sections[0].figures[1].data as Line[]).map((s) => s.name), ['m = 1', 'm = 4']);
  // Only shared arms: the routed-only line has no point and is left out.
  const sharedOnly = analyze(arms(['m4-shared']));
  assert.deepEqual((sharedOnly.sections[0].figures[0].data as Line[]).map((s) => s.name), ['with one shared expert']);
  assert.deepEqual((sharedOnly.sections[0].figures[1].data as Line[]).map((s) => s.name), ['m = 4 + shared']);
  const none = analyze([]);
  assert.deepEqual(none.sections[0].figures.map((f) => f.data), [[], []]);

  matchesSnapshot('granularity', { sections: analyze(all()).sections, summary: analyze(all()).summary });
});

test('verdicts: finer and shared experts clearly better are reproduced, clearly worse not reproduced; equal-cost passes', () => {
  const rules = claimRules('quick');
  const by = (cs: ReturnType<typeof decideClaims>, id: string) => cs.find((c) => c.id === id)!;
  const win = decideClaims(rules, analyze(all()).evidence, { assess: true });
  // finer-4: Δ 0.125, 0.25, 0.375: t = 2√3 on 2 df, p = ½ − √(3/14) = 0.0370900; shared-helps: Δ 0.125 in
  // every seed, p = 0. Holm over the two: 2 · 0, then 0.0370900.
  assert.equal(by(win, 'finer-4').verdict, 'reproduced');
  close(by(win, 'finer-4').pRaw!, 0.037089950113724277, 'p finer-4', 1e-8);
  close(by(win, 'finer-4').pValue!, 0.037089950113724277, 'Holm p finer-4', 1e-8);
  assert.equal(by(win, 'finer-4').effect, 0.25);
  assert.equal(by(win, 'shared-helps').verdict, 'reproduced');
  assert.equal(by(win, 'shared-helps').pValue, 0);
  assert.equal(by(win, 'equal-cost').verdict, 'pass');

  // m = 4 behind m = 1 by 0.25, the shared arm behind m = 4 by 0.125, in every seed.
  const worse = [
    ...arms(['m1']),
    ...SEEDS.map((s) => run('m4', s, { evals: [[120, ARMS.m1.final[s] - 0.25]] })),
    ...SEEDS.map((s) => run('m4-shared', s, { evals: [[120, ARMS.m1.final[s] - 0.375]] })),
  ];
  const lost = decideClaims(rules, analyze(worse).evidence, { assess: true });
  assert.equal(by(lost, 'finer-4').verdict, 'not reproduced');
  assert.deepEqual(by(lost, 'finer-4').ci95, [-0.25, -0.25]);
  assert.equal(by(lost, 'shared-helps').verdict, 'not reproduced');
  assert.deepEqual(by(lost, 'shared-helps').ci95, [-0.125, -0.125]);
  // One arm's experts twice as wide: the check fails.
  const wide = all().map((r) => (r.group === 'm4-shared' ? { ...r, config: { ...r.config, expertDff: 32 } } : r));
  assert.equal(by(decideClaims(rules, analyze(wide).evidence, { assess: true }), 'equal-cost').verdict, 'fail');
  // cpu: finer-2 too. Its Δ 0, 0.125, 0.25: t = √3, p = ½ − √(3/20) = 0.1127017; Holm over three: finer-4 2 · 0.0370900.
  const cpu = decideClaims(claimRules('cpu'), analyze(arms(['m1', 'm2', 'm4', 'm4-shared'])).evidence, { assess: true });
  assert.equal(by(cpu, 'finer-2').verdict, 'inconclusive');
  close(by(cpu, 'finer-2').pRaw!, 0.11270166537925833, 'p finer-2', 1e-8);
  assert.equal(by(cpu, 'finer-4').verdict, 'inconclusive');
  close(by(cpu, 'finer-4').pValue!, 2 * 0.037089950113724277, 'Holm p finer-4 over three', 1e-8);
  // At quick the paper's claims are not assessed; the check is.
  const quick = decideClaims(rules, analyze(all()).evidence, { assess: false });
  assert.deepEqual(['finer-4', 'shared-helps', 'equal-cost'].map((id) => by(quick, id).verdict), ['not assessed', 'not assessed', 'pass']);
});
