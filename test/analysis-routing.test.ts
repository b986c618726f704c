/**
 * The routing analysis (experiments/routing/analysis.ts) on synthetic run records with values
 * chosen by hand: the load coefficient of variation (last quarter of training, kept loads for
 * Expert Choice), the non-inferiority evidence of "α = 1e-2 does not hurt", the checks
 * alpha-balances, ec-balanced (at its 1e-6 boundary) and ec-not-causal, the table and figures,
 * verdicts under the 0.01-nat margin, and the routing traces (load heatmaps and imbalance from
 * the training rows; cross-layer predictability from routing snapshots written to a temporary
 * folder, or a paragraph saying why it is missing).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, loadCv, routingTraces } from '../experiments/routing/analysis.ts';
import { claimRules } from '../experiments/routing/sweep.ts';
import { decideClaims } from '../kernel-lib/exp/claims.ts';
import { writeArrayBundle } from '../kernel-lib/data/index.ts';
import { makeRun, matchesSnapshot, moe, paired, rows, UNIFORM, type RunSpec } from './fixtures/analysis/runs.ts';

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
  // Routing traces of each group's seed 0 (layer 1): shares over 16 assignments, max/mean imbalance; no snapshots.
  assert.deepEqual(a.sections[0].figures.map((f) => f.id).slice(4), [
    'expert-load-top1-a0.01-layer1', 'expert-load-top1-a0.00001-layer1', 'expert-load-top2-a0.01-layer1',
    'expert-load-expert-choice-layer1', 'load-imbalance-layer1',
  ]);
  const share = (f: string) => (fig(f).data[0] as { z: number[][] }).z;
  // Rows experts, columns the 8 steps: SKEWED [0, 16, 0, 0] six times, then CV408 [2, 6, 4, 4] / 16.
  assert.deepEqual(share('expert-load-top1-a0.01-layer1'), [
    [0, 0, 0, 0, 0, 0, 0.125, 0.125], [1, 1, 1, 1, 1, 1, 0.375, 0.375], [0, 0, 0, 0, 0, 0, 0.25, 0.25], [0, 0, 0, 0, 0, 0, 0.25, 0.25],
  ]);
  assert.deepEqual(share('expert-load-top2-a0.01-layer1').map((r) => r[7]), [0.25, 0.25, 0.25, 0.25]);
  const imb = fig('load-imbalance-layer1').data as { name: string; x: number[]; y: number[] }[];
  assert.deepEqual(imb.map((s) => s.name), [
    'top-1, α = 0.01, seed 0', 'top-1, α = 0.00001, seed 0', 'top-2, α = 0.01, seed 0', 'Expert Choice, seed 0', 'balanced: 1',
  ]);
  // 4 (all on one of 4 experts) for six steps, then 6/4, 7/4, 4/4 and (before capacity) 7/4.
  assert.deepEqual(imb.map((s) => s.y.slice(5)), [[4, 1.5, 1.5], [4, 1.75, 1.75], [4, 1, 1], [4, 1.75, 1.75], []]);
  assert.deepEqual([imb[0].x, imb[4].x, imb[4].y], [[1, 2, 3, 4, 5, 6, 7, 8], [1, 8], [1, 1]]);
  assert.deepEqual(a.sections[0].tables.map((t) => t.id), ['routing']);
  assert.match(a.sections[0].paragraphs[2], /^Cross-layer predictability is not shown: these runs have no routing snapshots/);
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

const made: string[] = [];
after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * A run directory holding routing snapshots (train/routing-dump.ts's format): per step, each
 * MoE layer's expert of every sample token.
 */
function snapshotDir(layers: number[], steps: [number, number[][]][]): string {
  const dir = mkdtempSync(join(tmpdir(), 'analysis-routing-'));
  made.push(dir);
  for (const [step, experts] of steps) {
    const N = experts[0].length;
    writeArrayBundle(join(dir, 'routing', `step-${String(step).padStart(8, '0')}.bin`), 'switchyard-routing-step-1',
      { step, layers, numExperts: 4, tokens: N }, { expert: Uint16Array.from(experts.flat()), kept: new Uint8Array(layers.length * N).fill(1) });
  }
  return dir;
}

/** Two MoE layers (1 and 3) in every row: layer 1 balanced, layer 3 all on expert 2. */
const twoLayers = () => rows(2, () => ({ moe: [moe({ countsBefore: [1, 1, 1, 1] }), moe({ layer: 3, countsBefore: [0, 0, 8, 0] })] }));
// Layer 1 → layer 3 over 8 tokens: expert 0 → 1 (×3) and 2 (×1), expert 1 → 3 (×4); experts 2, 3 never chosen in layer 1.
const BELOW = [0, 0, 0, 0, 1, 1, 1, 1];
const ABOVE = [1, 1, 1, 2, 3, 3, 3, 3];

test('routing traces: the lowest completed seed of each group, loads per layer, cross-layer predictability from snapshots', () => {
  const withSnapshots = snapshotDir([1, 3], [[120, [BELOW, ABOVE]], [60, [BELOW, BELOW]]]);
  const runs = [
    run(EC, 1, { train: twoLayers(), runDir: withSnapshots }),
    run(EC, 0, { status: 'diverged', train: twoLayers(), runDir: withSnapshots }), // not completed: not shown
    run(HI, 2, { train: twoLayers() }), // a completed run without snapshots
    run(HI, 1, { train: twoLayers(), runDir: withSnapshots }),
    run(LO, 0, { status: 'missing', evals: [] }), // no completed seed: the group is not shown
  ];
  const t = routingTraces([runs.slice(0, 2), runs.slice(2, 4), runs.slice(4)]);
  assert.deepEqual(t.figures.map((f) => [f.id, f.title]), [
    ['expert-load-expert-choice-layer1', 'Expert Choice, seed 1: expert load over training, layer 1'],
    ['expert-load-expert-choice-layer3', 'Expert Choice, seed 1: expert load over training, layer 3'],
    ['expert-load-top1-a0.01-layer1', 'top-1, α = 0.01, seed 1: expert load over training, layer 1'],
    ['expert-load-top1-a0.01-layer3', 'top-1, α = 0.01, seed 1: expert load over training, layer 3'],
    ['load-imbalance-layer1', 'Layer 1: load imbalance over training'],
    ['load-imbalance-layer3', 'Layer 3: load imbalance over training'],
    ['expert-transition-expert-choice-layer1-3', 'Expert Choice, seed 1: P(expert in layer 3 | expert in layer 1), step 120'],
    ['expert-transition-top1-a0.01-layer1-3', 'top-1, α = 0.01, seed 1: P(expert in layer 3 | expert in layer 1), step 120'],
  ]);
  const caption = (i: number) => t.figures[i].caption;
  assert.equal(caption(0), "Each expert's share of the layer's assignments at every logged step, before capacity (1/E = 1/4 everywhere "
    + "is balanced). For Expert Choice: each token's most probable expert; the loads it keeps are equal by construction.");
  assert.equal(caption(2), "Each expert's share of the layer's assignments at every logged step, before capacity (1/E = 1/4 everywhere "
    + 'is balanced).');
  assert.deepEqual((t.figures[1].data[0] as { z: number[][] }).z, [[0, 0], [0, 0], [1, 1], [0, 0]]);
  const imbalance = (i: number) => (t.figures[i].data as { name: string; y: number[] }[]).map((s) => [s.name, s.y]);
  assert.deepEqual(imbalance(4), [['Expert Choice, seed 1', [1, 1]], ['top-1, α = 0.01, seed 1', [1, 1]], ['balanced: 1', [1, 1]]]);
  assert.deepEqual(imbalance(5), [['Expert Choice, seed 1', [4, 4]], ['top-1, α = 0.01, seed 1', [4, 4]], ['balanced: 1', [1, 1]]]);
  // The last snapshot (step 120): rows experts in layer 1, P(expert in layer 3 | row); experts 2 and 3 never chosen.
  assert.deepEqual((t.figures[6].data[0] as { z: (number | null)[][] }).z, [
    [0, 0.75, 0.25, 0], [0, 0, 0, 1], [null, null, null, null], [null, null, null, null],
  ]);
  assert.equal(caption(6), '8 sample tokens of the last routing snapshot. Accuracy of predicting the upper expert from the lower: '
    + '0.875, against 0.500 for always the most frequent one. Empty rows: experts no token chose in the lower layer.');
  // H(e_3): column shares 3/8, 1/8, 4/8; H(e_3 | e_1) = ½ H(3/4, 1/4); NMI = I / sqrt(ln 2 · H(e_3)) (scipy values).
  const row = [8, 0.9743, 0.2812, 0.8435, 0.875, 0.5];
  assert.deepEqual(t.tables.map((x) => [x.id, x.title, x.columns, x.rows]), [[
    'routing-predictability', "How predictable a token's expert is from its expert in the layer below",
    ['router', 'seed', 'step', 'layers', 'tokens', 'H(e_l) (nats)', 'H(e_l | e_prev) (nats)', 'NMI', 'accuracy', 'baseline accuracy'],
    [['Expert Choice', 1, 120, '1 → 3', ...row], ['top-1, α = 0.01', 1, 120, '1 → 3', ...row]],
  ]]);
  assert.equal(t.tables[0].caption, "Sample tokens of the last routing snapshot. H: entropy of the upper layer's expert, alone and "
    + "given the lower one's; NMI: mutual information over the geometric mean of the two entropies; accuracy: predicting the upper "
    + 'expert by the most frequent one among tokens with the same lower expert; baseline: always the most frequent upper expert. '
    + 'In-sample (the predictor is read off the tokens it is scored on): an upper bound on what it would reach on new tokens.');
  assert.deepEqual(t.paragraphs, ["Routing traces, for each router and α its lowest completed seed: each expert's share of the "
    + 'assignments over training per MoE layer, the load imbalance (largest over mean load: 1 balanced, E all on one expert), and '
    + "from the last routing snapshot how predictable a token's expert is from its expert in the MoE layer below."]);

  // In the report: after the four figures and the table of the analysis, and the paragraph after its own.
  const a = analyze(runs);
  assert.deepEqual(a.sections[0].figures.slice(4).map((f) => f.id), t.figures.map((f) => f.id));
  assert.deepEqual(a.sections[0].tables.map((x) => x.id), ['routing', 'routing-predictability']);
  assert.deepEqual(a.sections[0].paragraphs.slice(1), t.paragraphs);
  assert.deepEqual(a.summary.id, 'routing');
});

test('routing traces without a pair of MoE layers, without snapshots, without completed runs: say why', () => {
  const oneLayer = snapshotDir([1], [[120, [BELOW]]]);
  const single = routingTraces([[run(HI, 0, { runDir: oneLayer })]]);
  assert.deepEqual(single.figures.map((f) => f.id), ['expert-load-top1-a0.01-layer1', 'load-imbalance-layer1']);
  assert.deepEqual(single.tables, []);
  assert.equal(single.paragraphs[1], 'Cross-layer predictability is not shown: the models have one MoE layer, so no pair of layers '
    + 'to compare.');
  assert.equal(single.paragraphs.length, 2);
  const none = routingTraces([[run(HI, 0)]]);
  assert.deepEqual(none.tables, []);
  assert.deepEqual(none.paragraphs.slice(1), ["Cross-layer predictability is not shown: these runs have no routing snapshots (the sweep's "
    + '`snapshots` setting records them).']);
  const nothing = routingTraces([[run(HI, 0, { status: 'diverged' })], []]);
  assert.deepEqual([nothing.figures, nothing.tables, nothing.paragraphs.length], [[], [], 2]);
  // A snapshot folder without a pair in one run, with one in another: the table holds the pair.
  const two = snapshotDir([1, 3], [[40, [BELOW, BELOW]]]);
  const mixed = routingTraces([[run(HI, 0, { runDir: oneLayer })], [run(LO, 0, { runDir: two, train: twoLayers() })]]);
  assert.deepEqual(mixed.tables[0].rows, [['top-1, α = 0.00001', 0, 40, '1 → 3', 8, 0.6931, 0, 1, 1, 0.5]]);
  assert.equal(mixed.paragraphs.length, 1);
  // Imbalance figures per layer, ascending, each with only the runs that have the layer.
  const onlyThree = rows(2, () => ({ moe: [moe({ layer: 3, countsBefore: [0, 0, 8, 0] })] }));
  const layered = routingTraces([[run(HI, 0, { train: onlyThree })], [run(LO, 0, { train: twoLayers() })]]);
  const lines = layered.figures.filter((f) => f.id.startsWith('load-imbalance'));
  assert.deepEqual(lines.map((f) => [f.id, (f.data as { name: string }[]).map((s) => s.name)]), [
    ['load-imbalance-layer1', ['top-1, α = 0.00001, seed 0', 'balanced: 1']],
    ['load-imbalance-layer3', ['top-1, α = 0.01, seed 0', 'top-1, α = 0.00001, seed 0', 'balanced: 1']],
  ]);
});
