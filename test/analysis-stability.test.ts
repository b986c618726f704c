/**
 * The stability analysis (experiments/stability/analysis.ts) on synthetic run records with values
 * chosen by hand: the early evaluation (the first at or after 25% of the steps), diverged runs
 * counted as the uniform predictor −ln V early and at the end (never dropped), the divergence
 * counts of the Fisher test and the smallest p they allow, the table and figure, and verdicts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, earlyQuality, earlyStep, smallestFisherP } from '../experiments/stability/analysis.ts';
import { claimRules } from '../experiments/stability/sweep.ts';
import { decideClaims } from '../kernel-lib/exp/claims.ts';
import { makeRun, matchesSnapshot, paired, rows, UNIFORM, type RunSpec } from './fixtures/analysis/runs.ts';

const SMALL = 'init0.1-float32';
const LARGE = 'init1-float32';
const BF16 = 'init0.1-bfloat16';

/** Training rows 1..n, cross-entropy 6 − step/100; a diverged run's last row is non-finite. */
const train = (n: number, diverged = false) => rows(n, (i) => ({ crossEntropy: 6 - (i + 1) / 100, ...(diverged && i === n - 1 ? { crossEntropy: NaN, finite: false } : {}) }));
const curve = (at30: number, d: number): [number, number][] => [[30, at30 + d], [60, -4.5 + d], [90, -4.25 + d], [120, -4 + d]];
const run = (s: RunSpec) => makeRun('stability', s);

/**
 * s = 0.1, float32: completed, early −5, −4.75, −5.25, final −4, −3.75, −4.25.
 * s = 1.0: seed 0 completed (early −5.5, final −4.25); seed 1 diverged at step 20, before any
 * evaluation; seed 2 diverged at step 50, after its evaluation at 30 (−6.25).
 * bfloat16 router: seed 0 diverged at step 10; seeds 1, 2 completed (final −3.875, −4.375).
 */
function base(): ReturnType<typeof run>[] {
  const D = [0, 0.25, -0.25];
  return [
    ...[0, 1, 2].map((s) => run({ group: SMALL, seed: s, evals: curve(-5, D[s]), train: train(120) })),
    run({ group: LARGE, seed: 0, evals: [[30, -5.5], [60, -4.75], [90, -4.5], [120, -4.25]], train: train(120) }),
    run({ group: LARGE, seed: 1, status: 'diverged', evals: [], train: train(20, true) }),
    run({ group: LARGE, seed: 2, status: 'diverged', evals: [[30, -6.25]], train: train(50, true) }),
    run({ group: BF16, seed: 0, status: 'diverged', evals: [], train: train(10, true) }),
    run({ group: BF16, seed: 1, evals: curve(-5.25, 0.125), train: train(120) }),
    run({ group: BF16, seed: 2, evals: curve(-5.25, -0.375), train: train(120) }),
  ];
}

test('earlyStep and earlyQuality: the first evaluation at or after 25% of the steps; none there (or not finite) is −ln V', () => {
  const r = (evals: [number, number][], steps = 120, status: RunSpec['status'] = 'completed') => {
    const x = run({ group: SMALL, seed: 0, evals, status });
    return { ...x, config: { ...x.config, steps } };
  };
  // 25% of 120 = 30: the evaluation at exactly 30 counts.
  assert.equal(earlyStep(r([[10, -6], [30, -5], [60, -4.5]])), 30);
  assert.equal(earlyQuality(r([[10, -6], [30, -5], [60, -4.5]])), -5);
  assert.equal(earlyStep(r([[20, -6], [40, -5], [60, -4.5]])), 40);
  assert.equal(earlyQuality(r([[20, -6], [40, -5], [60, -4.5]])), -5);
  // 25% of 122 = 30.5: an evaluation at 30 is too early, 31 is the first.
  assert.equal(earlyStep(r([[30, -6], [31, -5]], 122)), 31);
  assert.equal(earlyQuality(r([[30, -6], [31, -5]], 122)), -5);
  // Diverged before 25%: no evaluation there.
  assert.ok(Number.isNaN(earlyStep(r([[10, -6]], 120, 'diverged'))));
  assert.equal(earlyQuality(r([[10, -6]], 120, 'diverged')), UNIFORM);
  assert.equal(earlyQuality(r([], 120, 'diverged')), UNIFORM);
  // A non-finite evaluation there is a uniform predictor, not the next evaluation.
  assert.equal(earlyQuality(r([[30, NaN], [60, -4.5]])), UNIFORM);
  assert.equal(earlyQuality(r([[30, -Infinity], [60, -4.5]])), UNIFORM);
  // −ln V of the run's own vocabulary: V = 2000 at cpu.
  const v = r([]);
  assert.equal(earlyQuality({ ...v, config: { ...v.config, vocabSize: 2000 } }), -7.600902459542082);
});

test('smallestFisherP: 1 / C(2n, n), the one-sided p of n of n against 0 of n', () => {
  assert.equal(smallestFisherP(0), 1);
  assert.equal(smallestFisherP(1), 0.5);
  assert.equal(smallestFisherP(2), 1 / 6);
  assert.equal(smallestFisherP(3), 0.05);
  assert.equal(smallestFisherP(5), 1 / 252);
});

test('init-early and init-final: s = 0.1 against s = 1.0 per seed; diverged runs are −ln V, early only where they had no evaluation yet', () => {
  const a = analyze(base());
  const early = paired(a.evidence['init-early']);
  assert.deepEqual([early.a, early.b, early.seeds], [[-5, -4.75, -5.25], [-5.5, UNIFORM, -6.25], [0, 1, 2]]);
  assert.equal(early.measured, 'early: s = 0.1 -5.0000 vs s = 1.0 -6.2193');
  const fin = paired(a.evidence['init-final']);
  assert.deepEqual([fin.a, fin.b, fin.seeds], [[-4, -3.75, -4.25], [-4.25, UNIFORM, UNIFORM], [0, 1, 2]]);
  assert.equal(fin.measured, 'final: s = 0.1 -4.0000 vs s = 1.0 -6.0218');
  // A stopped s = 1.0 run has no outcome: its seed leaves both comparisons.
  const stopped = base().map((r) => (r.group === LARGE && r.seed === 0 ? { ...r, status: 'stopped' as const, final: undefined } : r));
  assert.deepEqual(paired(analyze(stopped).evidence['init-early']).seeds, [1, 2]);
  assert.deepEqual(paired(analyze(stopped).evidence['init-final']).seeds, [1, 2]);
});

test('bf16-diverges: divergences among runs with an outcome, bfloat16 against float32; bf16-quality paired with −ln V', () => {
  const a = analyze(base());
  assert.deepEqual(a.evidence['bf16-diverges'], {
    kind: 'counts', eventsA: 1, nA: 3, eventsB: 0, nB: 3,
    measured: 'diverged: bfloat16 1 of 3, float32 0 of 3 (the smallest p these counts allow: 0.050)',
  });
  const q = paired(a.evidence['bf16-quality']);
  assert.deepEqual([q.a, q.b, q.seeds], [[-4, -3.75, -4.25], [UNIFORM, -3.875, -4.375], [0, 1, 2]]);
  assert.equal(q.measured, 'final: float32 -4.0000 vs bfloat16 -5.0526');
  // A missing bfloat16 run and a failed float32 run are not counted: 1 of 2 against 0 of 2 (p ≥ 1/6).
  const fewer = base().map((r) => (r.group === BF16 && r.seed === 2 ? { ...r, status: 'missing' as const, final: undefined }
    : r.group === SMALL && r.seed === 1 ? { ...r, status: 'failed' as const, final: undefined } : r));
  assert.deepEqual(analyze(fewer).evidence['bf16-diverges'], {
    kind: 'counts', eventsA: 1, nA: 2, eventsB: 0, nB: 2, measured: 'diverged: bfloat16 1 of 2, float32 0 of 2 (the smallest p these counts allow: 0.167)',
  });
  // One arm smaller than the other: the smallest p of the smaller arm's count, 1/6.
  const oneFewer = base().map((r) => (r.group === BF16 && r.seed === 2 ? { ...r, status: 'missing' as const, final: undefined } : r));
  assert.match(analyze(oneFewer).evidence['bf16-diverges']!.measured, /^diverged: bfloat16 1 of 2, float32 0 of 3 \(the smallest p these counts allow: 0\.167\)$/);
  // float32 runs diverging count on their side.
  const both = base().map((r) => (r.group === SMALL && r.seed === 2 ? { ...r, status: 'diverged' as const, final: undefined } : r));
  const c = analyze(both).evidence['bf16-diverges'];
  assert.ok(c?.kind === 'counts' && c.eventsB === 1 && c.nB === 3 && c.eventsA === 1);
  // Without the bfloat16 arm (or the s = 1.0 arm), those rules have no evidence.
  assert.deepEqual(Object.keys(analyze(base().filter((r) => r.group !== BF16)).evidence), ['init-early', 'init-final']);
  assert.deepEqual(Object.keys(analyze(base().filter((r) => r.group !== LARGE)).evidence), ['bf16-diverges', 'bf16-quality']);
  assert.deepEqual(Object.keys(analyze(base().filter((r) => r.group !== SMALL)).evidence), []);
});

test('the table: early and final quality with diverged runs as −ln V, the spread, the worst seed, divergence counts', () => {
  const a = analyze(base());
  assert.deepEqual(a.summary.columns, ['init scale', 'router', 'early neg. log ppl (mean ± se)', 'final neg. log ppl (mean ± se)', 'sd across seeds (final)', 'worst seed (final)', 'diverged', 'seeds']);
  assert.deepEqual(a.summary.rows, [
    [0.1, 'float32', '-5.000 ± 0.144', '-4.000 ± 0.144', 0.25, -4.25, 0, 3],
    // early −5.5, −6.9078, −6.25; final −4.25, −6.9078, −6.9078
    [1, 'float32', '-6.219 ± 0.407', '-6.022 ± 0.886', 1.5345, -6.9078, 2, 3],
    // early −6.9078, −5.125, −5.625; final −6.9078, −3.875, −4.375
    [0.1, 'bfloat16', '-5.886 ± 0.531', '-5.053 ± 0.939', 1.626, -6.9078, 1, 3],
  ]);
  // A missing run is neither a seed nor a divergence.
  const missing = analyze([...base(), run({ group: SMALL, seed: 3, status: 'missing', evals: [] })]);
  assert.deepEqual(missing.summary.rows[0].slice(6), [0, 3]);
});

test('the figure and the words: every run with training rows, every second row of 120, diverged runs marked; the smallest Fisher p', () => {
  const a = analyze(base());
  const sec = a.sections[0];
  const fig = sec.figures[0];
  const data = fig.data as { name: string; x: number[]; y: number[] }[];
  assert.equal(data.length, 9);
  assert.deepEqual(data.map((s) => s.name).slice(2, 5), ['init 0.1, router float32, seed 2', 'init 1, router float32, seed 0', 'init 1, router float32, seed 1 (diverged)']);
  assert.equal(data[0].x.length, 60);
  assert.deepEqual(data[0].x.slice(0, 2), [1, 3]);
  assert.deepEqual(data[0].y.slice(0, 2), [5.99, 5.97]);
  assert.equal(data[4].x.length, 20, '20 rows: every one');
  assert.equal(data[4].y[19], null, 'the non-finite row, a gap in the line');
  assert.match(sec.paragraphs[1], /^With 3 runs per arm, the one-sided Fisher test on divergences can reach p = 0\.0500 at best /);
  // A run without training rows has no line.
  const bare = analyze([...base(), run({ group: SMALL, seed: 3, status: 'missing', evals: [] })]);
  assert.equal((bare.sections[0].figures[0].data as unknown[]).length, 9);
  // Runs per arm: the smaller arm's count of runs of any status.
  assert.match(analyze(base().filter((r) => !(r.group === BF16 && r.seed === 2))).sections[0].paragraphs[1], /^With 2 runs per arm, .* p = 0\.1667 at best/);
  matchesSnapshot('stability', { sections: a.sections, summary: a.summary });
});

test('verdicts: every bfloat16 run diverging and none of float32 reaches p = 0.05, the largest of the family after Holm', () => {
  const rules = claimRules();
  const by = (cs: ReturnType<typeof decideClaims>, id: string) => cs.find((c) => c.id === id)!;
  const clear = [
    ...[0, 1, 2].map((s) => run({ group: SMALL, seed: s, evals: curve(-5, s / 4), train: train(120) })),
    ...[0, 1, 2].map((s) => run({ group: LARGE, seed: s, evals: curve(-5.5, s / 4 - 0.5) })),
    ...[0, 1, 2].map((s) => run({ group: BF16, seed: s, status: 'diverged', evals: [] })),
  ];
  const v = decideClaims(rules, analyze(clear).evidence, { assess: true });
  // init: 0.5 better in every seed, early and final (p = 0); bf16 quality: differences
  // −4 + s/4 + 6.9078: p = 0.00104 (scipy), ×2; bf16-diverges: 3 of 3 against 0 of 3, p = 1/20, ×1.
  assert.deepEqual(['init-early', 'init-final', 'bf16-quality', 'bf16-diverges'].map((id) => by(v, id).verdict), ['reproduced', 'reproduced', 'reproduced', 'reproduced']);
  assert.ok(Math.abs(by(v, 'bf16-diverges').pValue! - 0.05) < 1e-12);
  assert.ok(Math.abs(by(v, 'bf16-quality').pRaw! - 0.0010413899128381625) < 1e-9);
  assert.equal(by(v, 'bf16-diverges').effect, 1);
  // The other way round: float32 diverges, bfloat16 does not.
  const reversed = clear.map((r) => (r.group === BF16 ? run({ group: BF16, seed: r.seed, evals: curve(-5, r.seed / 4) })
    : r.group === SMALL ? run({ group: SMALL, seed: r.seed, status: 'diverged', evals: [] }) : r));
  const w = decideClaims(rules, analyze(reversed).evidence, { assess: true });
  assert.equal(by(w, 'bf16-diverges').verdict, 'not reproduced');
  assert.equal(by(w, 'bf16-quality').verdict, 'not reproduced');
  assert.equal(by(w, 'init-early').verdict, 'not reproduced', 'a diverged s = 0.1 run is −ln V early too');
});
