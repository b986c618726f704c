/**
 * The routing analysis (experiments/routing/analysis.ts) on synthetic run records with values
 * chosen by hand: the load coefficient of variation (last quarter of training, kept loads for
 * Expert Choice), the non-inferiority evidence of "α = 1e-2 does not hurt", the checks
 * alpha-balances, ec-balanced (at its 1e-6 boundary) and ec-not-causal, the table and figures,
 * and verdicts under the 0.01-nat margin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, loadCv } from '../experiments/routing/analysis.ts';
import { claimRules } from '../experiments/routing/sweep.ts';
import { decideClaims, type Evidence } from '../kernel-lib/exp/claims.ts';
import { UNIFORM, makeRun, matchesSnapshot, moe, rows, type RunSpec } from './fixtures/analysis/runs.ts';

const paired = (e: Evidence | undefined) => {
  assert.ok(e && e.kind === 'paired', `paired evidence expected, got ${JSON.stringify(e)}`);
  return e;
};
const HI = 'top1-a0.01';
const LO = 'top1-a0.00001';
const TOP2 = 'top2-a0.01';
const EC = 'expert-choice';
const SEEDS = [0, 1, 2];

// Loads over 4 experts, mean 4: sd/mean with the sample sd (n − 1).
const CV0 = [4, 4, 4, 4]; // 0
const CV408 = [2, 6, 4, 4]; // √(8/3)/4 = 0.4082483
const CV612 = [1, 7, 4, 4]; // √6/4 = 0.6123724
const SKEWED = [0, 16, 0, 0]; // 2, early in training only

/**
 * 8 rows: the first 6 with skewed loads, dropped 0.5, entropy 0.25; the last quarter (rows 6, 7)
 * with `late` loads before capacity, `kept` after, dropped and entropy as given.
 */
const train = (late: number[], kept: number[] = [], dropped = 0.125, entropy = 1) => rows(8, (i) => ({
  cpuMs: 125,
  moe: [i < 6 ? moe({ countsBefore: SKEWED, countsKept: SKEWED, droppedFraction: 0.5, entropy: 0.25 }) : moe({ countsBefore: late, countsKept: kept, droppedFraction: dropped, entropy })],
}));

const FINAL: Record<string, number[]> = {
  [HI]: [-4.5, -4.25, -4.75],
  [LO]: [-4.5, -4.375, -4.625],
  [TOP2]: [-4.375, -4.25, -4.5],
  [EC]: [-3.5, -3.25, -3.75],
};
const run = (group: string, seed: number, o: Partial<RunSpec> = {}) => {
  const late = group === HI ? CV408 : group === EC ? CV612 : group === TOP2 ? CV0 : CV612;
  const kept = group === EC ? CV0 : group === TOP2 ? CV408 : [];
  return makeRun('routing', {
    group, seed, final: FINAL[group][seed], train: train(late, kept, group === EC ? 0.25 : 0.125, group === LO ? 0.5 : 1),
    finalExtra: { futureLeak: group === EC ? [0.5, 0.25, 0.125][seed] : 0 }, ...o,
  });
};
const all = () => [HI, LO, TOP2, EC].flatMap((g) => SEEDS.map((s) => run(g, s)));

test('loadCv: sd/mean of the loads over the last quarter and the MoE layers; kept loads for Expert Choice only', () => {
  const close = (got: number, want: number) => assert.ok(Math.abs(got - want) < 1e-12, `${got} vs ${want}`);
  close(loadCv(run(HI, 0)), 0.408248290463863);
  close(loadCv(run(LO, 0)), 0.6123724356957945);
  // Expert Choice: its kept loads (equal), not the loads before capacity.
  assert.equal(loadCv(run(EC, 0)), 0);
  // Token choice reads the loads before capacity even when kept loads are recorded (top-2 here).
  assert.equal(loadCv(run(TOP2, 0)), 0);
  // Expert Choice without kept loads in its records: the loads before capacity.
  close(loadCv(run(EC, 0, { train: train(CV612, []) })), 0.6123724356957945);
  // Two layers averaged: (0.4082483 + 0.6123724) / 2.
  const two = rows(4, (i) => ({ moe: i < 3 ? [] : [moe({ countsBefore: CV408 }), moe({ layer: 3, countsBefore: CV612 })] }));
  close(loadCv(run(HI, 0, { train: two })), 0.5103103630798288);
  // The last quarter of 7 rows: rows 5 and 6 (floor(5.25)).
  const seven = rows(7, (i) => ({ moe: [moe({ countsBefore: i < 5 ? SKEWED : CV408 })] }));
  close(loadCv(run(HI, 0, { train: seven })), 0.408248290463863);
  assert.ok(Number.isNaN(loadCv(run(HI, 0, { train: [] }))));
});

test('alpha-no-harm: final quality of α = 1e-2 and α = 1e-5 paired by seed; a diverged run is −ln V', () => {
  const a = analyze(all());
  const e = paired(a.evidence['alpha-no-harm']);
  assert.deepEqual([e.a, e.b, e.seeds], [[-4.5, -4.25, -4.75], [-4.5, -4.375, -4.625], [0, 1, 2]]);
  assert.equal(e.measured, 'α = 1e-2 -4.5000 vs α = 1e-5 -4.5000');
  // Swapped order of runs, a diverged α = 1e-2 run, a missing α = 1e-5 run.
  const runs = [run(LO, 2), run(LO, 1, { status: 'missing', evals: [] }), run(LO, 0), run(HI, 2, { status: 'diverged', evals: [] }), run(HI, 1), run(HI, 0)];
  const m = paired(analyze(runs).evidence['alpha-no-harm']);
  assert.deepEqual([m.a, m.b, m.seeds], [[UNIFORM, -4.5], [-4.625, -4.5], [2, 0]]);
});

test('alpha-balances: every seed of α = 1e-2 has a strictly lower load CV than its α = 1e-5 seed', () => {
  assert.deepEqual(analyze(all()).evidence['alpha-balances'], {
    kind: 'check', pass: true, measured: 'load CV per seed, α = 1e-2: 0.408, 0.408, 0.408; α = 1e-5: 0.612, 0.612, 0.612',
  });
  // Seed 1 as unbalanced at both: not strictly lower, fails.
  const tie = all().map((r) => (r.group === HI && r.seed === 1 ? run(HI, 1, { train: train(CV612) }) : r));
  assert.deepEqual(analyze(tie).evidence['alpha-balances'], {
    kind: 'check', pass: false, measured: 'load CV per seed, α = 1e-2: 0.408, 0.612, 0.408; α = 1e-5: 0.612, 0.612, 0.612',
  });
  // No seed in both arms: nothing shown, fails.
  const none = analyze([run(HI, 0), run(LO, 1)]);
  assert.deepEqual(none.evidence['alpha-balances'], { kind: 'check', pass: false, measured: 'load CV per seed, α = 1e-2: ; α = 1e-5: ' });
  // Without either α arm: no evidence for the α rules.
  assert.deepEqual(Object.keys(analyze(all().filter((r) => r.group !== LO)).evidence), ['ec-balanced', 'ec-not-causal']);
  assert.deepEqual(Object.keys(analyze(all().filter((r) => r.group !== HI)).evidence), ['ec-balanced', 'ec-not-causal']);
});

test('ec-balanced: every completed Expert Choice seed below a load CV of 1e-6', () => {
  assert.deepEqual(analyze(all()).evidence['ec-balanced'], {
    kind: 'check', pass: true, measured: 'load CV of the kept loads: mean 0.00e+0, max over seeds 0.00e+0 (pass: every seed below 1e-6)',
  });
  // Kept loads whose sd/mean is exactly 1e-6 in float64 (found by search): not below, fails.
  const AT = [1.500001299047876, 1.499998700952124, 1.5000012990283353, 1.4999987009716647];
  const at = (seed: number) => run(EC, seed, { train: rows(4, (i) => ({ moe: [moe({ countsKept: i === 3 ? AT : SKEWED })] })) });
  assert.equal(loadCv(at(1)), 1e-6, 'precondition');
  const boundary = analyze([...SEEDS.map((s) => (s === 1 ? at(1) : run(EC, s))), ...SEEDS.map((s) => run(HI, s))]);
  assert.deepEqual(boundary.evidence['ec-balanced'], {
    kind: 'check', pass: false, measured: 'load CV of the kept loads: mean 3.33e-7, max over seeds 1.00e-6 (pass: every seed below 1e-6)',
  });
  // A diverged Expert Choice seed with skewed loads is not asked (completed runs only).
  const div = all().map((r) => (r.group === EC && r.seed === 0 ? run(EC, 0, { status: 'diverged', evals: [], train: train(SKEWED, SKEWED) }) : r));
  assert.equal((analyze(div).evidence['ec-balanced'] as { pass: boolean }).pass, true);
  // No completed Expert Choice run: neither Expert Choice check has evidence.
  const gone = all().map((r) => (r.group === EC ? { ...r, status: 'diverged' as const, final: undefined } : r));
  assert.deepEqual(Object.keys(analyze(gone).evidence), ['alpha-no-harm', 'alpha-balances']);
  // Loads never recorded (NaN CV): fails.
  const bare = all().map((r) => (r.group === EC ? { ...r, train: [] } : r));
  assert.equal((analyze(bare).evidence['ec-balanced'] as { pass: boolean }).pass, false);
});

test('ec-not-causal: every Expert Choice run leaks (> 0), every token-choice run is exactly causal (0)', () => {
  assert.deepEqual(analyze(all()).evidence['ec-not-causal'], {
    kind: 'check', pass: true,
    measured: "max |Δ logit| on the first sequence's first half when every later token of the group changes: Expert Choice 1.25e-1–5.00e-1, token choice 0.00e+0 (pass: every Expert Choice run > 0, every token-choice run exactly 0)",
  });
  const pass = (runs: ReturnType<typeof all>) => (analyze(runs).evidence['ec-not-causal'] as { pass: boolean }).pass;
  const leak = (group: string, seed: number, v: number | undefined) => (r: ReturnType<typeof run>) => (r.group === group && r.seed === seed ? run(group, seed, { finalExtra: { futureLeak: v } }) : r);
  // An Expert Choice run without a leak; a token-choice run with the smallest leak.
  assert.equal(pass(all().map(leak(EC, 2, 0))), false);
  assert.equal(pass(all().map(leak(TOP2, 1, 1e-9))), false);
  assert.equal(pass(all().map(leak(LO, 0, 1e-9))), false);
  // Token choice measured nowhere: fails, and says so.
  const onlyEc = analyze(SEEDS.map((s) => run(EC, s)));
  assert.deepEqual(onlyEc.evidence['ec-not-causal'], {
    kind: 'check', pass: false,
    measured: "max |Δ logit| on the first sequence's first half when every later token of the group changes: Expert Choice 1.25e-1–5.00e-1, token choice – (pass: every Expert Choice run > 0, every token-choice run exactly 0)",
  });
  // Expert Choice runs without the measurement (records older than the check): fails.
  assert.equal(pass(all().map((r) => (r.group === EC ? run(EC, r.seed, { finalExtra: {} }) : r))), false);
  // Token-choice runs without the measurement: fails too.
  assert.equal(pass(all().map((r) => (r.group !== EC ? run(r.group, r.seed, { finalExtra: {} }) : r))), false);
  // A diverged token-choice run (no final evaluation) is not asked.
  assert.equal(pass(all().map((r) => (r.group === LO && r.seed === 0 ? { ...r, status: 'diverged' as const, final: undefined } : r))), true);
});

test('the table and figures: per router and α; α on a log axis from 1e-2 down; Expert Choice beside token choice', () => {
  const a = analyze(all());
  assert.deepEqual(a.summary.columns, ['router', 'α', 'final neg. log ppl', 'load CV', 'dropped fraction', 'router entropy', 'future leak', 'tokens/s', 'seeds']);
  assert.deepEqual(a.summary.rows, [
    ['top1', 0.01, '-4.500 ± 0.144', 0.4082, 0.125, 1, 0, 2048, 3],
    ['top1', 0.00001, '-4.500 ± 0.072', 0.6124, 0.125, 0.5, 0, 2048, 3],
    ['top2', 0.01, '-4.375 ± 0.072', 0, 0.125, 1, 0, 2048, 3],
    ['expert-choice', null, '-3.500 ± 0.144', 0, 0.25, 1, 0.291667, 2048, 3],
  ]);
  const fig = (id: string) => a.sections[0].figures.find((f) => f.id === id)!;
  const load = fig('balance-load');
  assert.equal((load.layout as { xaxis: { type?: string } }).xaxis.type, 'log');
  const ld = load.data as { name: string; x: number[]; y: number[]; error_y: { array: number[] } }[];
  assert.deepEqual(ld.map((s) => s.name), ['load coefficient of variation', 'dropped fraction']);
  assert.deepEqual(ld[0].x, [0.01, 0.00001]);
  assert.ok(Math.abs(ld[0].y[0] - 0.408248290463863) < 1e-12 && Math.abs(ld[0].y[1] - 0.6123724356957945) < 1e-12);
  assert.deepEqual(ld[1].y, [0.125, 0.125]);
  assert.deepEqual(ld[1].error_y.array, [0, 0]);
  const q = fig('balance-quality').data as { x: number[]; y: number[]; error_y: { array: number[] } }[];
  assert.deepEqual([q[0].x, q[0].y], [[0.01, 0.00001], [-4.5, -4.5]]);
  assert.ok(Math.abs(q[0].error_y.array[0] - 0.14433756729740643) < 1e-12);
  assert.deepEqual((fig('balance-entropy').data as { y: number[] }[])[0].y, [1, 0.5]);
  const bars = fig('routers').data as { name: string; x: string[]; y: number[] }[];
  assert.deepEqual(bars[0].x, ['top-1, α = 0.01', 'top-2, α = 0.01', 'Expert Choice']);
  assert.deepEqual(bars.map((b) => b.name), ['load CV', 'dropped fraction', 'future leak (max |Δ logit|)']);
  assert.deepEqual(bars[2].y, [0, 0, 0.2916666666666667]);
  matchesSnapshot('routing', { sections: a.sections, summary: a.summary });

  // α groups sorted from the largest α, whatever their order in the runs.
  const b = analyze([...SEEDS.map((s) => run(LO, s)), ...SEEDS.map((s) => run(HI, s))]);
  assert.deepEqual((b.sections[0].figures[0].data as { x: number[] }[])[0].x, [0.01, 0.00001]);
  assert.deepEqual((b.sections[0].figures[3].data as { x: string[] }[])[0].x, ['top-1, α = 0.01']);
});

test('verdicts: α = 1e-2 within the 0.01-nat margin is reproduced (non-inferiority), clearly worse is not reproduced', () => {
  const rules = claimRules();
  const by = (cs: ReturnType<typeof decideClaims>, id: string) => cs.find((c) => c.id === id)!;
  const within = (d: number[]) => [...SEEDS.map((s) => run(LO, s)), ...SEEDS.map((s) => run(HI, s, { final: FINAL[LO][s] + d[s] })), ...SEEDS.map((s) => run(EC, s)), ...SEEDS.map((s) => run(TOP2, s))];
  // Differences −1/512, 1/512, 0: mean 0, se 0.0011277, t = 0.01 / se = 8.868 on 2 df: p = 0.0062391 (scipy).
  const ok = decideClaims(rules, analyze(within([-1 / 512, 1 / 512, 0])).evidence, { assess: true });
  assert.equal(by(ok, 'alpha-no-harm').verdict, 'reproduced');
  assert.ok(Math.abs(by(ok, 'alpha-no-harm').pRaw! - 0.006239076867829845) < 1e-9, String(by(ok, 'alpha-no-harm').pRaw));
  assert.deepEqual(['alpha-balances', 'ec-balanced', 'ec-not-causal'].map((id) => by(ok, id).verdict), ['pass', 'pass', 'pass']);
  // 1/64 worse in every seed: beyond the margin, the interval [−0.0156, −0.0156] lies below −0.01.
  const worse = decideClaims(rules, analyze(within([-1 / 64, -1 / 64, -1 / 64])).evidence, { assess: true });
  assert.equal(by(worse, 'alpha-no-harm').verdict, 'not reproduced');
  // 1/128 worse in every seed: within the margin, so still non-inferior.
  assert.equal(by(decideClaims(rules, analyze(within([-1 / 128, -1 / 128, -1 / 128])).evidence, { assess: true }), 'alpha-no-harm').verdict, 'reproduced');
});
