/**
 * The balance analysis (experiments/balance/analysis.ts) on synthetic run records with values
 * chosen by hand: the late load imbalance (max/mean of the counts before capacity) and dropped
 * fraction, the paired evidence of bias-balances-<router> and bias-quality-<router> (pairing by
 * seed, a diverged run as the worst imbalance E and the uniform predictor −ln V, a missing run
 * taking its seed out), the bias-state check passing and failing in each of its ways, the table
 * (with its 'paired Δ vs loss' cells), the figures, and verdicts. Expected intervals and
 * p-values come from scipy (t₀.₉₇₅ with 2 df = 4.3026527297; on 2 df the t distribution's CDF is
 * ½ + t / (2·√(t² + 2))), not from the code under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, imbalanceOrWorst, lateDropped, lateImbalance } from '../experiments/balance/analysis.ts';
import { claimRules } from '../experiments/balance/sweep.ts';
import { decideClaims } from '../kernel-lib/exp/claims.ts';
import type { LoadedRun } from '../kernel-lib/exp/types.ts';
import { check, makeRun, matchesSnapshot, moe, paired, row, rows, UNIFORM, type MoeRow, type RunSpec } from './fixtures/analysis/runs.ts';

const close = (got: number, want: number, what: string, tol = 1e-9) => assert.ok(Math.abs(got - want) <= tol, `${what}: ${got}, expected ${want}`);

/** γ of the sweep's bias arms (quick: E = 4 experts, one MoE layer, block 1). */
const GAMMA = 1e-3;
/** Assignment counts of one step (256 tokens, top-1, E = 4) with the imbalance max/mean = max/64 named by the key. */
const COUNTS: Record<number, number[]> = {
  1: [64, 64, 64, 64], 1.125: [72, 64, 64, 56], 1.25: [80, 64, 64, 48], 1.5: [96, 64, 64, 32],
  1.75: [112, 64, 48, 32], 2: [128, 64, 32, 32], 2.5: [160, 32, 32, 32], 3: [192, 32, 16, 16],
};
/**
 * Per arm, seeds 0, 1, 2: final quality; the imbalance of every row in the last quarter (rows
 * 91–120; the first 90 rows are at imbalance 2); the dropped fraction of every late row (0.25
 * before); the final evaluation's dropped fraction is [dropped, 0] (two layers: mean dropped/2).
 * Quality − loss's: bias 0.125, 0.25, 0.375; both 0, 0.125, 0.25; none −0.25 in every seed.
 * Imbalance − loss's: bias −0.375, −0.25, −0.5.
 */
const ARMS: Record<string, { final: number[]; imbalance: number[]; dropped: number }> = {
  'top1-loss': { final: [-4.5, -4.25, -4.75], imbalance: [1.5, 1.25, 1.75], dropped: 0.0625 },
  'top1-bias': { final: [-4.375, -4, -4.375], imbalance: [1.125, 1, 1.25], dropped: 0.03125 },
  'top1-both': { final: [-4.5, -4.125, -4.5], imbalance: [1.125, 1.125, 1.125], dropped: 0.03125 },
  'top1-none': { final: [-4.75, -4.5, -5], imbalance: [2, 2.5, 3], dropped: 0.125 },
};
const GROUPS = Object.keys(ARMS);
const SEEDS = [0, 1, 2];

/** b_e after step t: (−1, 1, ½, −½)·γ·min(t, 10): experts 0 and 1 exactly at the bound γ·t up to step 10. */
const biasAt = (step: number) => [-1, 1, 0.5, -0.5].map((s) => s * GAMMA * Math.min(step, 10));

/** 120 rows (steps 1..120), one MoE layer (block 1): imbalance 2 and dropped 0.25 for 90 rows, then `late` and `dropped`. */
const train = (late: number, dropped: number, withBias: boolean, n = 120) => rows(n, (i) => ({
  moe: [moe({
    layer: 1, countsBefore: COUNTS[i < 90 ? 2 : late], droppedFraction: i < 90 ? 0.25 : dropped,
    ...(withBias ? { routerBias: biasAt(i + 1) } : {}),
  })],
}));

const hasBias = (group: string) => group.endsWith('-bias') || group.endsWith('-both');
const run = (group: string, seed: number, o: Partial<RunSpec> = {}): LoadedRun => {
  const a = ARMS[group];
  return makeRun('balance', {
    group, seed, evals: [[60, a.final[seed] - 0.5], [120, a.final[seed]]],
    train: train(a.imbalance[seed], a.dropped, hasBias(group)), finalExtra: { droppedFraction: [a.dropped, 0] }, ...o,
  });
};
const all = () => GROUPS.flatMap((g) => SEEDS.map((s) => run(g, s)));
/** A top-2 arm (E = 8): the top-1 arm's numbers, config and group renamed. */
const top2 = (group: string, seed: number, o: Partial<RunSpec> = {}) => {
  const mode = group.split('-')[1];
  return run(`top1-${mode}`, seed, { group, like: `top1-${mode}`, labels: { router: 'top2' }, config: { router: 'topk', k: 2, numExperts: 8 }, ...o });
};

test('lateImbalance and lateDropped: the mean over the last quarter of the rows and every MoE layer (counts before capacity)', () => {
  // 8 rows: the last quarter is rows 7 and 8 (floor(8 · 0.75) = 6 rows before it), which row 6 is not part of.
  const early = (step: number) => row({ step, moe: [moe({ countsBefore: [8, 0, 0, 0], droppedFraction: 1 }), moe({ layer: 3, countsBefore: [8, 0, 0, 0], droppedFraction: 1 })] });
  const r = makeRun('balance', {
    group: 'top1-bias', seed: 0, final: -4,
    train: [
      ...[1, 2, 3, 4, 5, 6].map(early),
      // max/mean: 6 / 2 = 3 and 2 / 2 = 1; dropped 0.5 and 0.25
      row({ step: 7, moe: [moe({ countsBefore: [6, 2, 0, 0], droppedFraction: 0.5 }), moe({ layer: 3, countsBefore: [2, 2, 2, 2], droppedFraction: 0.25 })] }),
      // 4 / 2 = 2, and a layer without counts (NaN, left out); dropped 0 and 0.25
      row({ step: 8, moe: [moe({ countsBefore: [4, 4, 0, 0], droppedFraction: 0 }), moe({ layer: 3, countsBefore: [], droppedFraction: 0.25 })] }),
    ],
  });
  assert.equal(lateImbalance(r), 2, '(3 + 1 + 2) / 3');
  assert.equal(lateDropped(r), 0.25, '(0.5 + 0.25 + 0 + 0.25) / 4');
  // Shares or counts: the same ratio. Every assignment on one expert: E.
  assert.equal(lateImbalance({ ...r, train: [row({ step: 1, moe: [moe({ countsBefore: [0, 0.25, 0.5, 0.25] })] })] }), 2);
  assert.equal(lateImbalance({ ...r, train: [row({ step: 1, moe: [moe({ countsBefore: [0, 0, 256, 0] })] })] }), 4);
  assert.ok(Number.isNaN(lateImbalance({ ...r, train: [] })));
  assert.ok(Number.isNaN(lateDropped({ ...r, train: [] })));
});

test('imbalanceOrWorst: a diverged run counts as E/k (its k choices always on the same k experts), any other run as its lateImbalance', () => {
  const r = run('top1-loss', 0);
  assert.equal(imbalanceOrWorst(r), 1.5);
  assert.equal(imbalanceOrWorst({ ...r, status: 'diverged', final: undefined }), 4);
  assert.equal(imbalanceOrWorst({ ...r, status: 'diverged', final: undefined, config: { ...r.config, numExperts: 8 } }), 8);
  // top-2 of 8: at most 8/2 = 4 (a top-1 config's k is ignored).
  assert.equal(imbalanceOrWorst({ ...r, status: 'diverged', final: undefined, config: { ...r.config, router: 'topk', k: 2, numExperts: 8 } }), 4);
  assert.equal(imbalanceOrWorst({ ...r, status: 'diverged', final: undefined, config: { ...r.config, router: 'top1', k: 2, numExperts: 8 } }), 8);
  // Failed or stopped: not counted as diverged (pairBySeed leaves them out before asking).
  assert.equal(imbalanceOrWorst({ ...r, status: 'failed' }), 1.5);
});

test('bias-balances-top1, bias-quality-top1: late imbalance and final quality of bias and loss, paired by seed', () => {
  const a = analyze(all());
  assert.deepEqual(Object.keys(a.evidence), ['bias-balances-top1', 'bias-quality-top1', 'bias-state']);
  const b = paired(a.evidence['bias-balances-top1']);
  assert.deepEqual([b.a, b.b, b.seeds], [[1.125, 1, 1.25], [1.5, 1.25, 1.75], [0, 1, 2]]);
  assert.equal(b.measured, 'top-1 imbalance: bias 1.125 vs loss 1.500');
  const q = paired(a.evidence['bias-quality-top1']);
  assert.deepEqual([q.a, q.b, q.seeds], [[-4.375, -4, -4.375], [-4.5, -4.25, -4.75], [0, 1, 2]]);
  assert.equal(q.measured, 'top-1 final quality: bias -4.2500 vs loss -4.5000');

  // Bias seed 0 diverged: imbalance E = 4 and quality −ln V, kept. Loss seed 1 missing: seed 1 out.
  // The arms listed in other orders pair by seed.
  const runs = [
    run('top1-loss', 2), run('top1-loss', 1, { status: 'missing', evals: [] }), run('top1-loss', 0),
    run('top1-bias', 1), run('top1-bias', 2), run('top1-bias', 0, { status: 'diverged', evals: [[60, -5]] }),
  ];
  const m = analyze(runs);
  const mb = paired(m.evidence['bias-balances-top1']);
  assert.deepEqual([mb.a, mb.b, mb.seeds], [[1.25, 4], [1.75, 1.5], [2, 0]]);
  assert.equal(mb.measured, 'top-1 imbalance: bias 2.625 vs loss 1.625');
  const mq = paired(m.evidence['bias-quality-top1']);
  assert.deepEqual([mq.a, mq.b, mq.seeds], [[-4.375, UNIFORM], [-4.75, -4.5], [2, 0]]);
  // A failed run is no outcome: its seed goes too.
  const f = paired(analyze([...SEEDS.map((s) => run('top1-loss', s)), run('top1-bias', 0), run('top1-bias', 1, { status: 'failed' }), run('top1-bias', 2)]).evidence['bias-balances-top1']);
  assert.deepEqual(f.seeds, [0, 2]);

  // Without the loss arm (or the bias arm): no paired evidence, the check stays.
  assert.deepEqual(Object.keys(analyze(all().filter((r) => r.group !== 'top1-loss')).evidence), ['bias-state']);
  assert.deepEqual(Object.keys(analyze(all().filter((r) => r.group !== 'top1-bias')).evidence), ['bias-state']);
});

test('bias-balances-top2, bias-quality-top2: a top-2 arm is its own pair (E = 8, k = 2: a diverged run counts 8/2 = 4); routers in order top-1, top-2', () => {
  const t2 = ['top2-loss', 'top2-bias'].flatMap((g) => SEEDS.map((s) => top2(g, s)));
  // Top-2 listed first: the evidence and the table still go top-1, then top-2.
  const a = analyze([...t2, ...all()]);
  assert.deepEqual(Object.keys(a.evidence), ['bias-balances-top1', 'bias-quality-top1', 'bias-balances-top2', 'bias-quality-top2', 'bias-state']);
  const b = paired(a.evidence['bias-balances-top2']);
  assert.deepEqual([b.a, b.b], [[1.125, 1, 1.25], [1.5, 1.25, 1.75]]);
  assert.equal(b.measured, 'top-2 imbalance: bias 1.125 vs loss 1.500');
  assert.equal(paired(a.evidence['bias-quality-top2']).measured, 'top-2 final quality: bias -4.2500 vs loss -4.5000');
  assert.deepEqual(a.summary.rows.map((r) => [r[0], r[1]]), [
    ['top-1', 'auxiliary loss'], ['top-1', 'loss-free bias'], ['top-1', 'loss and bias'], ['top-1', 'neither'],
    ['top-2', 'auxiliary loss'], ['top-2', 'loss-free bias'],
  ]);
  assert.deepEqual(a.sections[0].figures.map((f) => f.id), ['imbalance-top1', 'quality-top1', 'imbalance-top2', 'quality-top2', 'load-top1-loss', 'load-top1-bias', 'router-bias']);
  // The top-2 figures show the modes it has, in the sweep's order.
  const names = (id: string) => (a.sections[0].figures.find((f) => f.id === id)!.data as { name: string }[]).map((s) => s.name);
  assert.deepEqual(names('imbalance-top2'), ['auxiliary loss', 'loss-free bias']);
  assert.deepEqual(names('quality-top2'), ['auxiliary loss', 'loss-free bias']);

  const d = paired(analyze([...SEEDS.map((s) => top2('top2-loss', s)), top2('top2-bias', 0, { status: 'diverged', evals: [] }), top2('top2-bias', 1)]).evidence['bias-balances-top2']);
  assert.deepEqual([d.a, d.b, d.seeds], [[4, 1], [1.5, 1.25], [0, 1]]);
  // Top-2 alone: no top-1 rows, figures or evidence, and no bias figure (it shows the top-1 bias).
  const only = analyze(t2);
  assert.deepEqual(Object.keys(only.evidence), ['bias-balances-top2', 'bias-quality-top2', 'bias-state']);
  assert.deepEqual(only.sections[0].figures.map((f) => f.id), ['imbalance-top2', 'quality-top2']);
  assert.deepEqual(only.summary.rows.map((r) => r[0]), ['top-2', 'top-2']);
});

test('bias-state: passes when γ = 0 runs carry no bias and every γ > 0 run ends non-zero in every layer, within γ·step', () => {
  const ok = check(analyze(all()).evidence['bias-state']);
  // Experts 0 and 1 sit exactly on the bound γ·step up to step 10: that passes.
  assert.deepEqual(ok, {
    kind: 'check', pass: true,
    measured: '6 run(s) with γ > 0 end with a non-zero bias in every MoE layer, within γ·step; no bias in the runs with γ = 0',
  });
  // Within the tolerance for float32 sums (a relative 1e-4): 1.00005·γ·step passes.
  const near = all().map((r) => (r.id === 'top1-bias-s1'
    ? { ...r, train: r.train.map((t) => (t.step === 4 ? { ...t, moe: [{ ...t.moe[0], routerBias: [GAMMA * 4 * 1.00005, 0, 0, 0] }] } : t)) } : r));
  assert.equal(check(analyze(near).evidence['bias-state']).pass, true);
  // Exactly at the tolerance, γ·step·(1 + 1e-4) (computed as the check does): not above it.
  const edge = all().map((r) => (r.id === 'top1-bias-s1'
    ? { ...r, train: r.train.map((t) => (t.step === 4 ? { ...t, moe: [{ ...t.moe[0], routerBias: [0, -(GAMMA * 4 * (1 + 1e-4)), 0, 0] }] } : t)) } : r));
  assert.equal(check(analyze(edge).evidence['bias-state']).pass, true);
  // One expert non-zero at the end is a non-zero bias.
  const one = all().map((r) => (r.id === 'top1-both-s2'
    ? { ...r, train: r.train.map((t, i) => (i === 119 ? { ...t, moe: [{ ...t.moe[0], routerBias: [0, 0, 0, -GAMMA] }] } : t)) } : r));
  assert.equal(check(analyze(one).evidence['bias-state']).pass, true);
  // The only γ > 0 run ends with a bias that is zero for two experts and not for the others: it counts.
  const partial = run('top1-bias', 0, { train: rows(120, (i) => ({ moe: [moe({ countsBefore: COUNTS[1], routerBias: [GAMMA * Math.min(i + 1, 10), 0, 0, -GAMMA * Math.min(i + 1, 10)] })] })) });
  assert.deepEqual(analyze([...all().filter((r) => !hasBias(r.group)), partial]).evidence['bias-state'], {
    kind: 'check', pass: true,
    measured: '1 run(s) with γ > 0 end with a non-zero bias in every MoE layer, within γ·step; no bias in the runs with γ = 0',
  });
  // Only completed runs are checked: a diverged γ = 0 run with a bias does not fail it.
  const stray = [...all(), run('top1-loss', 3, { status: 'diverged', evals: [], train: train(1.5, 0.0625, true, 30) })];
  assert.equal(check(analyze(stray).evidence['bias-state']).pass, true);
});

/** The runs with one row of one run changed (its MoE layers replaced by `f`'s). */
const withRow = (id: string, step: number, f: (m: MoeRow) => MoeRow[]) => all().map((r) => (r.id === id
  ? { ...r, train: r.train.map((t) => (t.step === step ? { ...t, moe: t.moe.flatMap(f) } : t)) } : r));
const fails = (runs: LoadedRun[], measured: string) => assert.deepEqual(analyze(runs).evidence['bias-state'], { kind: 'check', pass: false, measured });

test('bias-state fails: a bias at γ = 0, none at γ > 0, |b| above γ·step, a zero final bias', () => {
  fails(withRow('top1-loss-s0', 5, (m) => [{ ...m, routerBias: [0, 0, 0, 0] }]), '1 problem(s), first: top1-loss-s0 step 5: a bias at γ = 0');
  fails(withRow('top1-none-s2', 120, (m) => [{ ...m, routerBias: [0.001, 0, 0, -0.001] }]), '1 problem(s), first: top1-none-s2 step 120: a bias at γ = 0');
  const { routerBias: _, ...noBias } = moe();
  fails(withRow('top1-bias-s1', 7, (m) => [{ ...noBias, layer: m.layer, countsBefore: m.countsBefore }]), '1 problem(s), first: top1-bias-s1 step 7: no bias at γ = 0.001');
  // Step 3: |b| may be at most 0.003; 0.0031 is above it (either sign).
  fails(withRow('top1-both-s2', 3, (m) => [{ ...m, routerBias: [0, 0, -0.0031, 0] }]), '1 problem(s), first: top1-both-s2 step 3: |b| above γ·step');
  fails(withRow('top1-bias-s0', 40, (m) => [{ ...m, routerBias: [0, 0.041, 0, 0] }]), '1 problem(s), first: top1-bias-s0 step 40: |b| above γ·step');
  // A relative 2e-4 above the bound is beyond the tolerance.
  fails(withRow('top1-bias-s0', 4, (m) => [{ ...m, routerBias: [GAMMA * 4 * 1.0002, 0, 0, 0] }]), '1 problem(s), first: top1-bias-s0 step 4: |b| above γ·step');
  // The last row's bias all zero: the run ends without a bias.
  fails(withRow('top1-both-s1', 120, (m) => [{ ...m, routerBias: [0, 0, 0, 0] }]), '1 problem(s), first: top1-both-s1: a zero bias');
  // Two MoE layers at the end, the second all zero: not a non-zero bias in every layer.
  fails(withRow('top1-bias-s2', 120, (m) => [m, { ...m, layer: 3, routerBias: [0, 0, 0, 0] }]), '1 problem(s), first: top1-bias-s2: a zero bias');
  // No bias at all in the last row: missing there, and so a zero bias.
  const { routerBias: __, ...bare } = moe();
  fails(withRow('top1-bias-s2', 120, (m) => [{ ...bare, layer: m.layer }]), '2 problem(s), first: top1-bias-s2 step 120: no bias at γ = 0.001; top1-bias-s2: a zero bias');
  // Many problems: the count and the first three.
  const many = all().map((r) => (r.id === 'top1-loss-s1' ? { ...r, train: r.train.map((t) => ({ ...t, moe: t.moe.map((m) => ({ ...m, routerBias: [0, 0, 0, 0] })) })) } : r));
  fails(many, '120 problem(s), first: top1-loss-s1 step 1: a bias at γ = 0; top1-loss-s1 step 2: a bias at γ = 0; top1-loss-s1 step 3: a bias at γ = 0');
});

test('bias-state fails without a γ > 0 run to show the bias at work (none in the sweep, none completed, none with rows)', () => {
  const measured = '0 run(s) with γ > 0 end with a non-zero bias in every MoE layer, within γ·step; no bias in the runs with γ = 0';
  const noBias = all().filter((r) => !hasBias(r.group));
  fails(noBias, measured);
  fails([...noBias, run('top1-bias', 0, { status: 'diverged', evals: [] })], measured);
  // A completed γ > 0 run without training rows shows nothing (and is not a problem by itself).
  fails([...noBias, run('top1-bias', 0, { train: [] })], measured);
  fails([], measured);
});

test('the table: per router and balancing, α and γ, quality, the paired Δ vs loss, late imbalance and dropped fraction, seeds', () => {
  // Arms listed out of order: rows follow the sweep's order of modes.
  const a = analyze(['top1-none', 'top1-both', 'top1-bias', 'top1-loss'].flatMap((g) => SEEDS.map((s) => run(g, s))));
  const t = a.summary;
  assert.equal(t.id, 'balance');
  assert.deepEqual(t.columns, ['router', 'balancing', 'α', 'γ', 'final neg. log ppl', 'paired Δ vs loss [95% CI]',
    'load imbalance (last quarter)', 'dropped fraction (last quarter, cf 1.0)', 'dropped (final eval, cf 2.0)', 'seeds']);
  assert.deepEqual(t.rows, [
    // se of (−4.5, −4.25, −4.75) and of (1.5, 1.25, 1.75): 0.25/√3 = 0.1443
    ['top-1', 'auxiliary loss', 0.01, 0, '-4.500 ± 0.144', '–', '1.500 ± 0.144', 0.0625, 0.0313, 3],
    // Δ 0.125, 0.25, 0.375: mean 0.25, se 0.125/√3, half-width 4.3026527 · 0.0721688 = 0.3105172
    ['top-1', 'loss-free bias', 0, 0.001, '-4.250 ± 0.125', '0.2500 [-0.0605, 0.5605]', '1.125 ± 0.072', 0.0313, 0.0156, 3],
    ['top-1', 'loss and bias', 0.01, 0.001, '-4.375 ± 0.125', '0.1250 [-0.1855, 0.4355]', '1.125 ± 0.000', 0.0313, 0.0156, 3],
    // Δ −0.25 in every seed: no spread, the interval is the point.
    ['top-1', 'neither', 0, 0, '-4.750 ± 0.144', '-0.2500 [-0.2500, -0.2500]', '2.500 ± 0.289', 0.125, 0.0625, 3],
  ]);
  // The 'vs loss' cell needs two paired seeds: with one it is '–', with two a value; a diverged
  // loss run pairs as −ln V; a missing bias run leaves the seeds that pair.
  const two = analyze([run('top1-loss', 0), run('top1-loss', 1), run('top1-bias', 0), run('top1-bias', 1), run('top1-both', 0), run('top1-both', 2)]);
  assert.deepEqual(two.summary.rows.map((r) => r[5]), ['–', '0.1875 [-0.6066, 0.9816]', '–']);
  const div = analyze([run('top1-loss', 0), run('top1-loss', 1, { status: 'diverged', evals: [] }), run('top1-none', 0), run('top1-none', 1)]);
  // Δ 0.125 and 0.25: mean 0.1875, se 0.0625, half-width 12.7062047 · 0.0625 (t₀.₉₇₅ with 1 df).
  // Δ −0.25 and −4.5 + 6.9077553 = 2.4077553: mean 1.0788776, se 1.3288776, half-width 16.8850.
  assert.deepEqual(div.summary.rows.map((r) => r[5]), ['–', '1.0789 [-15.8061, 17.9639]']);
  // Seeds count completed runs only; the imbalance of the others is left out too.
  assert.deepEqual(div.summary.rows.map((r) => [r[6], r[9]]), [['1.500', 1], ['2.250 ± 0.250', 2]]);
});

const biasFigure = (a: ReturnType<typeof analyze>) => a.sections[0].figures.find((f) => f.id === 'router-bias')!;

test('figures: imbalance and quality over training per router (mean over completed seeds), the top-1 bias of one run', () => {
  const a = analyze(all());
  const figs = a.sections[0].figures;
  assert.deepEqual(figs.map((f) => f.id), ['imbalance-top1', 'quality-top1', 'load-top1-loss', 'load-top1-bias', 'router-bias']);
  const data = (id: string) => figs.find((f) => f.id === id)!.data as { name: string; x: number[]; y: number[]; error_y?: { array: number[] } }[];
  const imb = data('imbalance-top1');
  assert.deepEqual(imb.map((s) => s.name), ['auxiliary loss', 'loss-free bias', 'loss and bias', 'neither']);
  assert.equal(imb[0].x.length, 120);
  assert.deepEqual([imb[0].x[0], imb[0].x[89], imb[0].x[90], imb[0].x[119]], [1, 90, 91, 120]);
  // Imbalance 2 for 90 rows, then the mean of the seeds' late values.
  assert.deepEqual(imb.map((s) => [s.y[89], s.y[90]]), [[2, 1.5], [2, 1.125], [2, 1.125], [2, 2.5]]);
  const q = data('quality-top1');
  assert.deepEqual(q.map((s) => s.name), imb.map((s) => s.name));
  assert.deepEqual(q[0].x, [60, 120]);
  assert.deepEqual(q[0].y, [-5, -4.5]);
  close(q[0].error_y!.array[1], 0.25 / Math.sqrt(3), 'se of the loss arm');
  // The bias of the first completed top-1 bias run (seed 0): every second row of 120, every expert.
  const bias = data('router-bias');
  const rb = figs.find((f) => f.id === 'router-bias')!;
  assert.match(rb.title, /\(top1-bias-s0\)$/);
  assert.match(rb.caption!, /^The first MoE layer \(block 1\); b_e rises/);
  assert.deepEqual(bias.map((s) => s.name), ['expert 0', 'expert 1', 'expert 2', 'expert 3']);
  assert.equal(bias[0].x.length, 60);
  assert.deepEqual(bias[0].x.slice(0, 3), [1, 3, 5]);
  assert.deepEqual(bias.map((s) => s.y[1]), biasAt(3));
  assert.deepEqual(bias.map((s) => s.y[59]), biasAt(119));

  // Seed 0 diverged: the bias is seed 1's; the curves average the two completed seeds, not the diverged one.
  const div = all().map((r) => (r.id === 'top1-bias-s0' ? run('top1-bias', 0, { status: 'diverged', evals: [[60, -5]], train: train(3, 0.5, true, 100) }) : r));
  const d = analyze(div);
  assert.match(biasFigure(d).title, /\(top1-bias-s1\)$/);
  const dimb = d.sections[0].figures[0].data as { x: number[]; y: number[] }[];
  assert.deepEqual([dimb[1].x.length, dimb[1].y[119]], [120, 1.125]);
  // Fewer than 100 rows: every row of the bias run is drawn; rows without a bias are not.
  const short = all().map((r) => (r.id === 'top1-bias-s0' ? run('top1-bias', 0, { train: train(1.125, 0.03125, true, 49) }) : r));
  assert.deepEqual((biasFigure(analyze(short)).data as { x: number[] }[])[0].x, Array.from({ length: 49 }, (_, i) => i + 1));
  const { routerBias: _, ...plain } = moe();
  const partly = all().map((r) => (r.id === 'top1-bias-s0' ? { ...r, train: r.train.map((t) => (t.step <= 10 ? { ...t, moe: [{ ...plain, countsBefore: COUNTS[2] }] } : t)) } : r));
  const pb = biasFigure(analyze(partly)).data as { x: number[] }[];
  assert.deepEqual(pb[0].x.slice(0, 2), [11, 13]);
  assert.equal(pb[0].x.length, 55);
  // No row with a bias: a figure without series.
  const never = all().map((r) => (r.id === 'top1-bias-s0' ? { ...r, train: r.train.map((t) => ({ ...t, moe: [{ ...plain, countsBefore: COUNTS[2] }] })) } : r));
  assert.deepEqual(biasFigure(analyze(never)).data, []);
  // A bias run without training rows, or whose rows have no MoE layer: a figure without series, block '?'.
  for (const train of [[], rows(120)]) {
    const f = biasFigure(analyze(all().map((r) => (r.id === 'top1-bias-s0' ? { ...r, train } : r))));
    assert.deepEqual(f.data, []);
    assert.match(f.caption!, /^The first MoE layer \(block \?\); /);
  }
  // No completed top-1 bias run: no bias figure.
  const none = all().filter((r) => r.group !== 'top1-bias');
  assert.deepEqual(analyze(none).sections[0].figures.map((f) => f.id), ['imbalance-top1', 'quality-top1', 'load-top1-loss']);
  matchesSnapshot('balance', { sections: a.sections, summary: a.summary });
});

test('expert-load heatmaps: the first completed top-1 loss and bias runs, their first MoE layer, each expert\'s share per step', () => {
  type Heat = { x: string[]; y: string[]; z: (number | null)[][] };
  const heat = (a: ReturnType<typeof analyze>, id: string) => a.sections[0].figures.find((f) => f.id === id);
  const a = analyze(all());
  const loss = heat(a, 'load-top1-loss')!;
  assert.equal(loss.title, 'Top-1, auxiliary loss: expert load over training (top1-loss-s0, block 1)');
  const [h] = loss.data as Heat[];
  assert.deepEqual(h.y, ['expert 0', 'expert 1', 'expert 2', 'expert 3']);
  assert.equal(h.x.length, 120);
  assert.deepEqual([h.x[0], h.x[119]], ['1', '120']);
  // Row 90: counts 128, 64, 32, 32 of 256; row 91 on (seed 0, imbalance 1.5): 96, 64, 64, 32.
  assert.deepEqual(h.z.map((r) => [r[89], r[90]]), [[0.5, 0.375], [0.25, 0.25], [0.125, 0.25], [0.125, 0.125]]);
  assert.equal(heat(a, 'load-top1-bias')!.title, 'Top-1, loss-free bias: expert load over training (top1-bias-s0, block 1)');
  // Seed 0 diverged: seed 1's loads. Two MoE layers, block 3 listed first: block 1, the first.
  const twoLayers = all().map((r) => {
    if (r.id === 'top1-loss-s0') return { ...r, status: 'diverged' as const, final: undefined };
    if (r.id === 'top1-loss-s1') return { ...r, train: r.train.map((t) => ({ ...t, moe: [{ ...t.moe[0], layer: 3, countsBefore: COUNTS[1] }, t.moe[0]] })) };
    return r;
  });
  const t = heat(analyze(twoLayers), 'load-top1-loss')!;
  assert.equal(t.title, 'Top-1, auxiliary loss: expert load over training (top1-loss-s1, block 1)');
  // Seed 1 late: imbalance 1.25, counts 80, 64, 64, 48.
  assert.deepEqual((t.data as Heat[])[0].z.map((r) => r[119]), [0.3125, 0.25, 0.25, 0.1875]);
  // The first completed bias run has no training rows: no bias heatmap (the next run is not asked).
  const bare = all().map((r) => (r.id === 'top1-bias-s0' ? { ...r, train: [] } : r));
  assert.deepEqual(analyze(bare).sections[0].figures.map((f) => f.id), ['imbalance-top1', 'quality-top1', 'load-top1-loss', 'router-bias']);
  // No completed loss run: no loss heatmap.
  const noLoss = all().map((r) => (r.group === 'top1-loss' ? { ...r, status: 'failed' as const } : r));
  assert.deepEqual(analyze(noLoss).sections[0].figures.map((f) => f.id), ['imbalance-top1', 'quality-top1', 'load-top1-bias', 'router-bias']);
});

test('the imbalance curve: steps every completed seed has (by position), none without a completed run', () => {
  // Loss seed 2 stopped logging after 60 rows (but completed): the curve ends at 60.
  const cut = all().map((r) => (r.id === 'top1-loss-s2' ? { ...r, train: r.train.slice(0, 60) } : r));
  const c = analyze(cut).sections[0].figures[0].data as { x: number[]; y: number[] }[];
  assert.deepEqual([c[0].x.length, c[0].x.at(-1), c[1].x.length], [60, 60, 120]);
  // A seed whose rows are at other steps (1, 3, 5, …): rows pair by position and step, so only the first (step 1) is shared.
  const other = all().map((r) => (r.id === 'top1-loss-s1' ? { ...r, train: r.train.map((t) => ({ ...t, step: t.step * 2 - 1 })) } : r));
  const o = analyze(other).sections[0].figures[0].data as { x: number[] }[];
  assert.deepEqual(o[0].x, [1]);
  // Each step's imbalance is the mean over the MoE layers first: layers at 1 and 3 give 2 for that seed.
  const layers = all().map((r) => (r.id === 'top1-none-s0' ? { ...r, train: r.train.map((t) => ({ ...t, moe: [{ ...t.moe[0], countsBefore: COUNTS[1] }, { ...t.moe[0], layer: 3, countsBefore: COUNTS[3] }] })) } : r));
  const l = analyze(layers).sections[0].figures[0].data as { y: number[] }[];
  assert.equal(l[3].y[119], (2 + 2.5 + 3) / 3);
  assert.equal(l[3].y[0], (2 + 2 + 2) / 3);
  // Every run of an arm diverged: its series is empty.
  const gone = all().map((r) => (r.group === 'top1-none' ? { ...r, status: 'diverged' as const, final: undefined } : r));
  const g = analyze(gone).sections[0].figures[0].data as { x: number[]; y: number[] }[];
  assert.deepEqual([g[3].x, g[3].y], [[], []]);
});

test('verdicts: a clear bias win is reproduced, a clear bias loss is not reproduced; at quick not assessed; bias-state pass', () => {
  const rules = claimRules('quick');
  const by = (cs: ReturnType<typeof decideClaims>, id: string) => cs.find((c) => c.id === id)!;
  const win = decideClaims(rules, analyze(all()).evidence, { assess: true });
  // Imbalance Δ −0.375, −0.25, −0.5: t = −3√3 on 2 df, p = ½ − 3√3 / (2√29) = 0.0175494 (less);
  // quality Δ 0.125, 0.25, 0.375: t = 2√3, p = ½ − √3/√14 = 0.0370900 (greater). Holm: 2 · 0.0175494, then 0.0370900.
  assert.equal(by(win, 'bias-balances-top1').verdict, 'reproduced');
  close(by(win, 'bias-balances-top1').pRaw!, 0.017549359322992324, 'p imbalance', 1e-8);
  close(by(win, 'bias-balances-top1').pValue!, 2 * 0.017549359322992324, 'Holm p imbalance', 1e-8);
  assert.equal(by(win, 'bias-balances-top1').effect, -0.375);
  assert.equal(by(win, 'bias-quality-top1').verdict, 'reproduced');
  close(by(win, 'bias-quality-top1').pRaw!, 0.037089950113724277, 'p quality', 1e-8);
  close(by(win, 'bias-quality-top1').pValue!, 0.037089950113724277, 'Holm p quality', 1e-8);
  assert.equal(by(win, 'bias-state').verdict, 'pass');

  // The bias arm behind the loss by 0.25 in imbalance and quality in every seed: intervals on the wrong side.
  const lose = all().map((r) => (r.group === 'top1-bias'
    ? run('top1-bias', r.seed, { evals: [[120, ARMS['top1-loss'].final[r.seed] - 0.25]], train: train(ARMS['top1-loss'].imbalance[r.seed] + 0.25, 0.03125, true) }) : r));
  const lost = decideClaims(rules, analyze(lose).evidence, { assess: true });
  assert.equal(by(lost, 'bias-balances-top1').verdict, 'not reproduced');
  assert.deepEqual(by(lost, 'bias-balances-top1').ci95, [0.25, 0.25]);
  assert.equal(by(lost, 'bias-quality-top1').verdict, 'not reproduced');
  assert.deepEqual(by(lost, 'bias-quality-top1').ci95, [-0.25, -0.25]);
  // At quick the paper's claims are not assessed; the check is.
  const quick = decideClaims(rules, analyze(all()).evidence, { assess: false });
  assert.deepEqual(['bias-balances-top1', 'bias-quality-top1', 'bias-state'].map((id) => by(quick, id).verdict), ['not assessed', 'not assessed', 'pass']);
  // The cpu rules have top-2 claims too: evidence for both routers is accepted.
  const t2 = ['top2-loss', 'top2-bias'].flatMap((g) => SEEDS.map((s) => top2(g, s)));
  const cpu = decideClaims(claimRules('cpu'), analyze([...all(), ...t2]).evidence, { assess: true });
  // Four paper claims now: Holm multiplies the two smallest p (0.0175494 each) by 4 and 3 and keeps the larger, 0.0701974.
  assert.equal(by(cpu, 'bias-balances-top2').verdict, 'inconclusive');
  close(by(cpu, 'bias-balances-top2').pValue!, 4 * 0.017549359322992324, 'Holm p over four claims', 1e-8);
  close(by(cpu, 'bias-balances-top1').pValue!, 4 * 0.017549359322992324, 'Holm p over four claims', 1e-8);
});
