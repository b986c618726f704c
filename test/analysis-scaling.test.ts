/**
 * The scaling analysis (experiments/scaling/analysis.ts) on synthetic run records with values
 * chosen by hand: the paired Switch − dense difference at every evaluation and the step from
 * which its interval stays above 0, the speed-up per seed to the same seed's dense quality and
 * its bootstrap interval, the evidence of each claim rule (pairing by seed, a diverged run as
 * the uniform predictor −ln V, the slope per seed on log2 E, the FLOP checks), and verdicts.
 * Expected intervals come from scipy's t quantiles (t₀.₉₇₅ with 3 df = 3.1824463), not from the
 * code under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, differenceCurve } from '../experiments/scaling/analysis.ts';
import { claimRules } from '../experiments/scaling/sweep.ts';
import { decideClaims } from '../kernel-lib/exp/claims.ts';
import type { LoadedRun } from '../kernel-lib/exp/types.ts';
import { makeRun, matchesSnapshot, moe, paired, rows, UNIFORM, type RunSpec } from './fixtures/analysis/runs.ts';

const close = (got: number, want: number, what: string, tol = 1e-9) => assert.ok(Math.abs(got - want) <= tol, `${what}: ${got}, expected ${want}`);
const closeAll = (got: number[], want: number[], what: string, tol = 1e-9) => {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, expected ${want.length}`);
  got.forEach((g, i) => close(g, want[i], `${what}[${i}]`, tol));
};

// Evaluations at 30, 60, 90, 120 (quick: 120 steps, evalEvery 30). Every value a multiple of 1/8,
// so sums and differences are exact in float64.
const STEPS = [30, 60, 90, 120];
const DENSE = [-5, -4.5, -4.25, -4];
/** Per seed, added to the dense curve: a seed effect shared by both arms (pairing removes it). */
const OFFSET = [0, 0.25, -0.25, 0.5];
/** Switch E=8 − dense, [evaluation][seed]. */
const D8 = [[-0.125, 0.125, -0.25, 0.25], [0.125, 0.375, 0.125, 0.375], [0.125, 0.375, 0.125, 0.375], [0.25, 0.5, 0.25, 0.5]];
/** Switch E=2 − dense: level until the end, then mixed (seed 3 ends below its dense). */
const D2 = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0.125, 0.125, 0.25, -0.125]];
const curve = (seed: number, d?: number[][]): [number, number][] => STEPS.map((s, j) => [s, DENSE[j] + OFFSET[seed] + (d ? d[j][seed] : 0)]);

/**
 * 120 training rows (one per step, as the trainer writes them): the first 10 (start-up window)
 * at 1000 ms of CPU time, the rest at 100 ms; cross-entropy 5 then 4.5 over the last quarter
 * (rows 90–119); router entropy 2 then `lateEntropy`, largest gate 0.25 then 0.5, dropped 0.1
 * then 0.05 in each MoE layer.
 */
const train = (layers: number[], lateEntropy = 1.5) => rows(120, (i) => ({
  cpuMs: i < 10 ? 1000 : 100, stepMs: 7, crossEntropy: i >= 90 ? 4.5 : 5,
  moe: layers.map((layer) => moe({ layer, entropy: i >= 90 ? lateEntropy : 2, meanTopProb: i >= 90 ? 0.5 : 0.25, droppedFraction: i >= 90 ? 0.05 : 0.1 })),
}));

const run = (s: RunSpec) => makeRun('scaling', s);
const dense = (seed: number, o: Partial<RunSpec> = {}) => run({ group: 'dense', seed, evals: curve(seed), train: train([]), trainTokens: 15360, ...o });
const e8 = (seed: number, o: Partial<RunSpec> = {}) => run({ group: 'switch-e8', seed, evals: curve(seed, D8), train: train([1]), ...o });
const e2 = (seed: number, o: Partial<RunSpec> = {}) => run({ group: 'switch-e2', seed, evals: curve(seed, D2), train: train([1], 1.25), ...o });
const SEEDS = [0, 1, 2, 3];
const base = () => [...SEEDS.map((s) => dense(s)), ...SEEDS.map((s) => e2(s)), ...SEEDS.map((s) => e8(s))];

test('differenceCurve: the paired difference at every evaluation, its t interval, and the step from which it stays above 0', () => {
  const c = differenceCurve(SEEDS.map((s) => e8(s)), SEEDS.map((s) => dense(s)));
  assert.deepEqual(c.steps, [30, 60, 90, 120]);
  assert.deepEqual(c.n, [4, 4, 4, 4]);
  closeAll(c.effect, [0, 0.25, 0.25, 0.375], 'effect');
  // 30: differences ±1/8, ±1/4: se 0.1141089, half-width 3.1824463 · se = 0.3631453
  closeAll(c.lo, [-0.36314533946934563, 0.020326721120365182, 0.020326721120365182, 0.14532672112036518], 'lo');
  closeAll(c.hi, [0.36314533946934563, 0.47967327887963485, 0.47967327887963485, 0.6046732788796348], 'hi');
  assert.equal(c.crossing, 60, 'above 0 from 60 to the end');

  // Swapped arms: every difference changes sign, the interval mirrors, no crossing.
  const s = differenceCurve(SEEDS.map((x) => dense(x)), SEEDS.map((x) => e8(x)));
  closeAll(s.effect, [0, -0.25, -0.25, -0.375], 'swapped effect');
  closeAll(s.lo, [-0.36314533946934563, -0.47967327887963485, -0.47967327887963485, -0.6046732788796348], 'swapped lo');
  assert.equal(s.crossing, null);

  // Paired by seed, not by position: the same runs in another order give the same curve.
  const shuffledOrder = differenceCurve([3, 1, 0, 2].map((x) => e8(x)), [2, 0, 3, 1].map((x) => dense(x)));
  closeAll(shuffledOrder.effect, c.effect, 'arms listed in other orders');
  closeAll(shuffledOrder.lo, c.lo, 'arms listed in other orders: lo');
});

test('differenceCurve: a dip below 0 restarts the crossing; a lone seed has no interval; unpaired steps and runs drop out', () => {
  // Above 0 at 30, straddling at 60, above from 90: the crossing is 90, not 30.
  const dip = [[0.125, 0.375, 0.125, 0.375], [-0.125, 0.125, -0.25, 0.25], [0.125, 0.375, 0.125, 0.375], [0.125, 0.375, 0.125, 0.375]];
  const c = differenceCurve(SEEDS.map((s) => e8(s, { evals: curve(s, dip) })), SEEDS.map((s) => dense(s)));
  assert.ok(c.lo[0] > 0 && c.lo[1] < 0 && c.lo[2] > 0 && c.lo[3] > 0, String(c.lo));
  assert.equal(c.crossing, 90);
  // Above 0 at the last evaluation only.
  const late = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0.125, 0.375, 0.125, 0.375]];
  assert.equal(differenceCurve(SEEDS.map((s) => e8(s, { evals: curve(s, late) })), SEEDS.map((s) => dense(s))).crossing, 120);
  // Above 0 from the first evaluation: the crossing is the first step.
  const always = [[0.125, 0.375, 0.125, 0.375], [0.125, 0.375, 0.125, 0.375], [0.125, 0.375, 0.125, 0.375], [0.125, 0.375, 0.125, 0.375]];
  assert.equal(differenceCurve(SEEDS.map((s) => e8(s, { evals: curve(s, always) })), SEEDS.map((s) => dense(s))).crossing, 30);
  // Every difference exactly 0 (no spread): the interval is [0, 0], not above 0.
  const level = differenceCurve(SEEDS.map((s) => e2(s)), SEEDS.map((s) => dense(s)));
  assert.deepEqual(level.lo.slice(0, 3), [0, 0, 0]);
  assert.equal(level.crossing, null);

  // One seed: the effect is its difference, no interval and so no crossing.
  const one = differenceCurve([e8(1)], SEEDS.map((s) => dense(s)));
  assert.deepEqual(one.n, [1, 1, 1, 1]);
  closeAll(one.effect, [0.125, 0.375, 0.375, 0.5], 'one seed');
  assert.ok(one.lo.every(Number.isNaN) && one.hi.every(Number.isNaN));
  assert.equal(one.crossing, null);

  // Dense seed 1 lacks the evaluation at 60: that step pairs 3 seeds. The arm's extra
  // evaluation at 45 pairs with nothing: no point. A failed Switch run and a diverged dense
  // run take their seeds out (completed runs only).
  const d1 = dense(1, { evals: curve(1).filter(([s]) => s !== 60) });
  const arm = SEEDS.map((s) => e8(s, { evals: [...curve(s, D8).slice(0, 1), [45, -4], ...curve(s, D8).slice(1)] }));
  const gaps = differenceCurve(arm, [dense(0), d1, dense(2), dense(3)]);
  assert.deepEqual(gaps.steps, [30, 60, 90, 120]);
  assert.deepEqual(gaps.n, [4, 3, 4, 4]);
  close(gaps.effect[1], (0.125 + 0.125 + 0.375) / 3, 'step 60 without seed 1');
  const some = differenceCurve([e8(0), e8(1, { status: 'failed' }), e8(2), e8(3)], [dense(0), dense(1), dense(2, { status: 'diverged' }), dense(3)]);
  assert.deepEqual(some.n, [2, 2, 2, 2]);
  closeAll(some.effect, [(-0.125 + 0.25) / 2, 0.25, 0.25, 0.375], 'seeds 0 and 3');
  // No completed arm run, or no shared step: an empty curve.
  assert.deepEqual(differenceCurve([e8(0, { status: 'diverged' })], [dense(0)]), { steps: [], effect: [], lo: [], hi: [], n: [], crossing: null });
  assert.deepEqual(differenceCurve([e8(0, { evals: [[45, -4]] })], [dense(0)]).steps, []);
});

test('switch-beats-dense: final qualities of the largest every-other-block Switch arm and dense, paired by seed', () => {
  const a = analyze(base());
  const e = paired(a.evidence['switch-beats-dense']);
  assert.deepEqual(e.seeds, [0, 1, 2, 3]);
  assert.deepEqual(e.a, [-3.75, -3.25, -4, -3]);
  assert.deepEqual(e.b, [-4, -3.75, -4.25, -3.5]);
  assert.equal(e.measured, 'Switch E=8: -3.5000, dense -3.8750 final neg. log perplexity');

  // Seed 2's Switch run is missing, seed 1's dense run failed: those pairs go; the Switch runs
  // listed in another order pair with their own seed's dense run. Seed 3 diverged: −ln V, kept.
  const runs = [
    dense(0), dense(1, { status: 'failed', evals: [] }), dense(2), dense(3),
    e8(3, { status: 'diverged', evals: [[30, -4.25]] }), e8(2, { status: 'missing', evals: [] }), e8(1), e8(0),
    ...SEEDS.map((s) => e2(s)),
  ];
  const m = paired(analyze(runs).evidence['switch-beats-dense']);
  assert.deepEqual(m.seeds, [3, 0]);
  assert.deepEqual(m.a, [UNIFORM, -3.75]);
  assert.deepEqual(m.b, [-3.5, -4]);
});

test('switch-beats-dense: the head arm is the largest E with a Switch FFN in every other block, whatever the order', () => {
  // An every-block arm with more experts (E = 16) is not the head; the groups listed largest first.
  const all16 = SEEDS.map((s) => run({ group: 'switch-e16-all', like: 'switch-e8-all', seed: s, labels: { experts: 16 }, config: { numExperts: 16 }, final: 0 }));
  const runs = [...SEEDS.map((s) => e8(s)), ...SEEDS.map((s) => e2(s)), ...all16, ...SEEDS.map((s) => dense(s))];
  const a = analyze(runs);
  assert.deepEqual(paired(a.evidence['switch-beats-dense']).a, [-3.75, -3.25, -4, -3]);
  assert.match(paired(a.evidence['switch-beats-dense']).measured, /^Switch E=8: /);
  // Only E = 2 in the paper's layout: it is the head, and one arm has no slope.
  const only2 = analyze([...SEEDS.map((s) => dense(s)), ...SEEDS.map((s) => e2(s)), ...all16]);
  assert.deepEqual(paired(only2.evidence['switch-beats-dense']).a, [-4 + 0.125, -3.75 + 0.125, -4.25 + 0.25, -3.5 - 0.125]);
  assert.equal(only2.evidence['more-experts-better'], undefined);
  // Without dense runs: no Switch-vs-dense evidence, and no FLOP check.
  const noDense = analyze([...SEEDS.map((s) => e2(s)), ...SEEDS.map((s) => e8(s))]);
  assert.equal(noDense.evidence['switch-beats-dense'], undefined);
  assert.equal(noDense.evidence['flops-matched'], undefined);
  assert.ok(noDense.evidence['more-experts-better']);
});

test('more-experts-better: per seed, the least-squares slope of final quality on log2 E; a diverged run counts as −ln V', () => {
  const e = paired(analyze(base()).evidence['more-experts-better']);
  // log2 E = 1 and 3: slope = (q(E=8) − q(E=2)) / 2 per seed.
  assert.deepEqual(e.seeds, [0, 1, 2, 3]);
  assert.deepEqual(e.a, [0.0625, 0.1875, 0, 0.3125]);
  assert.deepEqual(e.b, [0, 0, 0, 0]);
  assert.equal(e.measured, 'slope per doubling of E, per seed: 0.0625, 0.1875, 0.0000, 0.3125');

  // Three arms, E = 2, 4, 8 (log2 E = 1, 2, 3): E = 4 lies 1/8 above the line through the other
  // two, which moves the intercept only: slope (q8 − q2)/2 again. Seed 3's E=8 run diverged
  // (−ln V): its slope is (−6.9077553 − (−3.625))/2. Seed 1 lacks its E=4 run: no slope.
  const e4 = (s: number) => run({ group: 'switch-e4', like: 'switch-e2', seed: s, labels: { experts: 4 }, config: { numExperts: 4 }, final: (curve(s, D2)[3][1] + curve(s, D8)[3][1]) / 2 + 0.125 });
  const three = analyze([...SEEDS.map((s) => dense(s)), ...SEEDS.map((s) => e2(s)), e4(0), e4(2), e4(3), e8(0), e8(1), e8(2), e8(3, { status: 'diverged', evals: [] })]);
  const t = paired(three.evidence['more-experts-better']);
  assert.deepEqual(t.seeds, [0, 2, 3]);
  closeAll(t.a, [0.0625, 0, (UNIFORM + 3.625) / 2], 'three arms');
  assert.equal(t.a.length, t.b.length);
});

test('more-experts-better and switch-beats-dense read Switch arms only: a top-2 arm in the paper\'s layout is neither head nor slope point', () => {
  const top2 = SEEDS.map((s) => run({ group: 'top2-e2', seed: s, final: -10 }));
  const top2e16 = SEEDS.map((s) => run({ group: 'top2-e16', like: 'top2-e2', seed: s, labels: { experts: 16 }, config: { numExperts: 16 }, final: -10 }));
  const a = analyze([...base(), ...top2, ...top2e16]);
  assert.deepEqual(paired(a.evidence['more-experts-better']).a, [0.0625, 0.1875, 0, 0.3125]);
  assert.deepEqual(paired(a.evidence['switch-beats-dense']).a, [-3.75, -3.25, -4, -3]);
});

test('the table: a difference curve of one evaluation still shows its difference and crossing', () => {
  const finalsOnly = [...SEEDS.map((s) => dense(s, { evals: curve(s).slice(3) })), ...SEEDS.map((s) => e8(s, { evals: curve(s, D8).slice(3) }))];
  const row = analyze(finalsOnly).summary.rows[1];
  assert.deepEqual([row[7], row[8]], ['0.3750 [0.1453, 0.6047]', 120]);
});

test('router figures: a sparse arm whose first run has no training rows draws no line', () => {
  const a = analyze([...SEEDS.map((s) => dense(s)), e2(0, { train: [] }), ...SEEDS.map((s) => e8(s))]);
  const ent = a.sections[0].figures.find((f) => f.id === 'router-entropy')!.data as { name: string }[];
  assert.deepEqual(ent.map((s) => s.name), ['Switch E=8, every other block, layer 1']);
});

test('more-experts-better: a seed whose every Switch run diverged is kept (slope 0 between two uniform predictors), not dropped', () => {
  const runs = [
    ...SEEDS.map((s) => dense(s)),
    e2(0), e2(1), e2(2), e2(3, { status: 'diverged', evals: [] }),
    e8(0), e8(1), e8(2), e8(3, { status: 'diverged', evals: [] }),
  ];
  const e = paired(analyze(runs).evidence['more-experts-better']);
  assert.deepEqual(e.seeds, [0, 1, 2, 3]);
  assert.deepEqual(e.a, [0.0625, 0.1875, 0, 0]);
  // A stopped run is no outcome: that seed has no slope.
  const stopped = paired(analyze([...SEEDS.map((s) => dense(s)), ...SEEDS.map((s) => e2(s)), e8(0), e8(1, { status: 'stopped' }), e8(2), e8(3)]).evidence['more-experts-better']);
  assert.deepEqual(stopped.seeds, [0, 2, 3]);
});

test('flops-matched and dense2f-flops: the quick configs pass (worked counts), a changed config fails', () => {
  const all = ['dense', 'switch-e2', 'switch-e8', 'switch-e8-all', 'top2-e2', 'dense-2f'].flatMap((g) => [0, 1].map((s) => run({ group: g, seed: s, final: -4 })));
  const a = analyze(all);
  // D = 32, 2 blocks; a router costs 3·2·D·E training FLOPs per token per sparse layer.
  assert.deepEqual(a.evidence['flops-matched'], {
    kind: 'check', pass: true,
    measured: 'Switch E=2, every other block: +384 FLOPs/token over dense (routers: 384); Switch E=8, every other block: +1536 FLOPs/token over dense (routers: 1536); '
      + 'Switch E=8, every block: +3072 FLOPs/token over dense (routers: 3072)',
  });
  assert.deepEqual(a.evidence['dense2f-flops'], {
    kind: 'check', pass: true,
    measured: "top-2 − dense-2f: 192 training FLOPs/token; the routers' difference 3·2·D·(E − 1) per sparse layer: 192",
  });

  assert.deepEqual(a.summary.rows.map((r) => [r[0], r[1], r[2]]), [
    ['dense', null, 'none'], ['Switch E=2, every other block', 2, 'every other'], ['Switch E=8, every other block', 8, 'every other'],
    ['Switch E=8, every block', 8, 'all'], ['top-2 E=2, every other block', 2, 'every other'], ['dense, 2×F where top-2 is sparse (top-2 FLOPs)', null, 'every other'],
  ]);
  // Experts twice as wide: +2·(3·2·D·F) = 24576 over the router's 1536.
  const wide = all.map((r) => (r.group === 'switch-e8' ? { ...r, config: { ...r.config, expertDff: 128 } } : r));
  const w = analyze(wide).evidence['flops-matched'];
  assert.equal(w?.kind === 'check' && w.pass, false);
  assert.match(w!.measured, /Switch E=8, every other block: \+26112 FLOPs\/token over dense \(routers: 1536\)/);
  // A dense-2f baseline as wide as 3F: 3·2·(2·D·F) = 24576 more.
  const d3 = analyze(all.map((r) => (r.group === 'dense-2f' ? { ...r, config: { ...r.config, expertDff: 192 } } : r))).evidence['dense2f-flops'];
  assert.deepEqual(d3, { kind: 'check', pass: false, measured: "top-2 − dense-2f: -24384 training FLOPs/token; the routers' difference 3·2·D·(E − 1) per sparse layer: 192" });
  // Top-2 with E = 4: its router costs 3·2·32·3 more than dense-2f's single expert.
  const top2e4 = all.map((r) => (r.group === 'top2-e2' ? { ...r, config: { ...r.config, numExperts: 4 } } : r));
  const t4 = analyze(top2e4).evidence['dense2f-flops'];
  assert.deepEqual(t4, { kind: 'check', pass: true, measured: "top-2 − dense-2f: 576 training FLOPs/token; the routers' difference 3·2·D·(E − 1) per sparse layer: 576" });
  // A Switch FFN in every block for top-2 and its baseline: two sparse layers, 2 · 192.
  const everyBlock = all.map((r) => (r.group === 'top2-e2' || r.group === 'dense-2f' ? { ...r, config: { ...r.config, sparseEvery: 1 } } : r));
  assert.deepEqual(analyze(everyBlock).evidence['dense2f-flops'], { kind: 'check', pass: true, measured: "top-2 − dense-2f: 384 training FLOPs/token; the routers' difference 3·2·D·(E − 1) per sparse layer: 384" });
  // Dense runs but no Switch arm: the check has nothing to pass on.
  const none = analyze(all.filter((r) => !r.group.startsWith('switch')));
  assert.deepEqual(none.evidence['flops-matched'], { kind: 'check', pass: false, measured: '' });
  // Without top-2 or without its baseline: no evidence for dense2f-flops.
  assert.equal(analyze(all.filter((r) => r.group !== 'dense-2f')).evidence['dense2f-flops'], undefined);
  assert.equal(analyze(all.filter((r) => r.group !== 'top2-e2')).evidence['dense2f-flops'], undefined);
});

test('the table: sizes, quality, the last difference and crossing, speed-ups with their bootstrap interval, router state, tokens/s, epochs', () => {
  const a = analyze(base());
  const t = a.summary;
  assert.equal(t.id, 'scaling');
  assert.deepEqual(t.rows.map((r) => r[0]), ['dense', 'Switch E=2, every other block', 'Switch E=8, every other block']);
  const [d, s2, s8] = t.rows;
  // total params, active params per token, training FLOPs per token (quick: V 1000, D 32, F 64, 2 blocks, tied embeddings)
  assert.deepEqual(d.slice(1, 6), [null, 'none', 49728, 49728, 314880]);
  assert.deepEqual(s8.slice(1, 6), [8, 'every other', 78656, 49984, 316416]);
  assert.deepEqual(s2.slice(1, 6), [2, 'every other', 53888, 49792, 315264]);
  // final quality: mean ± se over seeds (dense −4, −3.75, −4.25, −3.5: se 0.1613743)
  assert.equal(d[6], '-3.875 ± 0.161');
  assert.equal(s8[6], '-3.500 ± 0.228');
  // E = 8: last paired difference 0.375 [0.1453, 0.6047], crossing at 60
  assert.equal(s8[7], '0.3750 [0.1453, 0.6047]');
  assert.equal(s8[8], 60);
  assert.equal(s2[7], '0.0938 [-0.1565, 0.3440]');
  assert.equal(s2[8], 'none');
  assert.equal(d[7], null);
  assert.equal(d[8], null);
  // Speed-up to the same seed's dense final quality, 120 / the step the Switch run reaches it:
  // E=8: steps 100, 75, 100, 75 → 1.2, 1.6, 1.2, 1.6; every 4-seed resample's mean lies in
  // [1.2, 1.6] and all-1.2 or all-1.6 resamples (1/16 each) fill both 2.5% tails.
  assert.equal(s8[9], '1.40 [1.20, 1.60] (4 of 4)');
  // E=2: steps 110, 110, 105 → 1.0909, 1.0909, 1.1429; seed 3 never reaches its dense quality.
  assert.equal(s2[9], '1.11 [1.09, 1.14] (3 of 4)');
  assert.equal(d[9], null);
  // Router entropy, largest gate and dropped fraction over the last quarter; dense has none.
  assert.deepEqual(s8.slice(10, 13), [1.5, 0.5, 0.05]);
  assert.deepEqual(s2.slice(10, 13), [1.25, 0.5, 0.05]);
  assert.deepEqual(d.slice(10, 13), [null, null, null]);
  // tokens/s: 256 tokens per step at 100 ms of CPU time after the first window; epochs 120·256/15360
  assert.deepEqual([d[13], d[14]], [2560, 2]);
  assert.equal(s8[14], null, 'the Switch runs have no training-split size');
  // train − validation loss: 4.5 over the last quarter, validation loss −(final quality)
  assert.equal(d[15], 0.625);
  assert.equal(s8[15], 1);
  assert.deepEqual(t.rows.map((r) => r[16]), [4, 4, 4]);
});

test('speed-ups: no seed reaching the dense quality reads "< 1 (0 of n)"; a Switch seed without its dense seed has none', () => {
  const behind = SEEDS.map((s) => e2(s, { evals: curve(s).map(([st, q]) => [st, q - 0.125]) }));
  const a = analyze([...SEEDS.map((s) => dense(s)), ...behind, e8(0), e8(1), e8(2), e8(3), run({ group: 'switch-e8', seed: 7, evals: curve(0, D8) })]);
  assert.equal(a.summary.rows[1][9], '< 1 (0 of 4)');
  // Seed 7 has no dense run: 4 speed-ups of 5 runs.
  assert.equal(a.summary.rows[2][9], '1.40 [1.20, 1.60] (4 of 4)');
  // Reaching it at the first evaluation (30 steps): 120/30 = 4; two such seeds, an interval of one value.
  const fast = analyze([dense(0), dense(1), e8(0, { evals: [[30, 0], [120, 0]] }), e8(1, { evals: [[30, 0], [120, 0]] })]);
  assert.equal(fast.summary.rows[1][9], '4.00 [4.00, 4.00] (2 of 2)');
  // One seed: no interval.
  assert.equal(analyze([dense(0), e8(0)]).summary.rows[1][9], '1.20 [–, –] (1 of 1)');
});

test('sections: the difference figure, quality curves, router figures, epochs and crossings in words', () => {
  const a = analyze(base());
  const sec = a.sections[0];
  assert.equal(sec.paragraphs[0], 'Each run saw 2.00 epochs of the training split. Switch E=2, every other block: no crossing; Switch E=8, every other block: ahead from step 60.');
  const fig = (id: string) => sec.figures.find((f) => f.id === id)!;
  assert.deepEqual(sec.figures.map((f) => f.id), ['difference-vs-steps', 'quality-vs-steps', 'router-entropy', 'router-top-gate', 'router-dropped', 'quality-vs-time', 'speedup-to-dense']);
  const diff = fig('difference-vs-steps').data as { name: string; x: number[]; y: number[] }[];
  assert.deepEqual(diff.map((s) => s.name), ['Switch E=2, every other block', 'Switch E=8, every other block']);
  assert.deepEqual(diff[1].x, [30, 60, 90, 120]);
  assert.deepEqual(diff[1].y, [0, 0.25, 0.25, 0.375]);
  // Quality against steps: the mean over seeds (dense: −5, −4.5, −4.25, −4 + mean offset 0.125).
  const q = fig('quality-vs-steps').data as { name: string; y: number[]; line?: unknown }[];
  assert.deepEqual(q[0].y, [-4.875, -4.375, -4.125, -3.875]);
  assert.deepEqual(q[0].line, { dash: 'dash' }, 'dense dashed');
  assert.equal(q[2].line, undefined, 'Switch solid');
  // Against training seconds: 10·1 s + (step − 10)·0.1 s of CPU time.
  const qt = fig('quality-vs-time').data as { x: number[] }[];
  closeAll(qt[0].x, [12, 15, 18, 21], 'seconds');
  // Router figures: the first seed of each sparse arm, every second step of 120 (60 points).
  const ent = fig('router-entropy').data as { name: string; x: number[]; y: number[] }[];
  assert.deepEqual(ent.map((s) => s.name), ['Switch E=2, every other block, layer 1', 'Switch E=8, every other block, layer 1']);
  assert.equal(ent[1].x.length, 60);
  assert.deepEqual(ent[1].x.slice(0, 3), [1, 3, 5]);
  assert.deepEqual([ent[1].y[44], ent[1].y[45]], [2, 1.5]);
  const speed = fig('speedup-to-dense').data as { x: string[]; y: number[] }[];
  closeAll(speed[0].y, [1.1082251082251082, 1.4], 'speed-up bars');
  matchesSnapshot('scaling', { sections: a.sections, summary: a.summary });
});

test('sections: no training-split size reads "?" epochs; router figures fall back to the first run when none completed', () => {
  const runs = [...SEEDS.map((s) => dense(s, { trainTokens: undefined })), e8(0, { status: 'diverged', evals: [[30, -4]], train: train([1]).slice(0, 30) })];
  const a = analyze(runs);
  assert.match(a.sections[0].paragraphs[0], /^Each run saw \? epochs of the training split\. Switch E=8, every other block: no crossing\.$/);
  const ent = a.sections[0].figures.find((f) => f.id === 'router-entropy')!.data as { x: number[] }[];
  assert.equal(ent[0].x.length, 30, 'the diverged run\'s 30 rows, every one (fewer than 120)');
  assert.equal(analyze([]).sections[0].paragraphs[0], 'Each run saw ? epochs of the training split. .');
});

test('verdicts: a clear Switch win over 4 seeds is reproduced, a clear loss is not reproduced, a missing check fails', () => {
  const rules = claimRules('quick');
  const win = decideClaims(rules, analyze(base()).evidence, { assess: true });
  const by = (id: string, cs = win) => cs.find((c) => c.id === id)!;
  // Differences 0.25, 0.5, 0.25, 0.5: t = 5.196 on 3 df, one-sided p = 0.006923 (scipy), ×2 by Holm.
  assert.equal(by('switch-beats-dense').verdict, 'reproduced');
  close(by('switch-beats-dense').pRaw!, 0.0069234164944295224, 'p', 1e-8);
  close(by('switch-beats-dense').pValue!, 2 * 0.0069234164944295224, 'Holm p', 1e-8);
  // Slopes 0.0625, 0.1875, 0, 0.3125: p = 0.06771, the interval straddles 0.
  assert.equal(by('more-experts-better').verdict, 'inconclusive');
  close(by('more-experts-better').pRaw!, 0.06770826075397506, 'slope p', 1e-8);
  assert.equal(by('flops-matched').verdict, 'pass');
  assert.equal(by('dense2f-flops').verdict, 'fail', 'no top-2 runs: no data');

  // Switch behind dense by the same amounts: the interval lies below 0.
  const lose = SEEDS.map((s) => e8(s, { evals: curve(s, D8.map((r) => r.map((v) => -v))) }));
  const lost = decideClaims(rules, analyze([...SEEDS.map((s) => dense(s)), ...SEEDS.map((s) => e2(s)), ...lose]).evidence, { assess: true });
  assert.equal(by('switch-beats-dense', lost).verdict, 'not reproduced');
  assert.ok(by('switch-beats-dense', lost).ci95![1] < 0);
  // At quick the paper's claims are not assessed.
  assert.equal(by('switch-beats-dense', decideClaims(rules, analyze(base()).evidence, { assess: false })).verdict, 'not assessed');
});

test('helpers are not reached through missing fields: an empty run list gives empty evidence and an empty table', () => {
  const a = analyze([] as LoadedRun[]);
  assert.deepEqual(a.evidence, {});
  assert.deepEqual(a.summary.rows, []);
});
