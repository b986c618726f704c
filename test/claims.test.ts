/**
 * Verdicts from claim rules (kernel-lib/exp/claims.ts) at their boundaries, with values worked by
 * hand; the statistics under them (kernel-lib/exp/stats.ts, distributions.ts) where the scipy
 * comparison in stats-paired.test.ts does not reach (edge branches, refusals, the seeded
 * generators, bootstrap and permutation p-values); and the helpers that turn runs into evidence
 * (experiments/common.ts: qualityOrUniform, pairBySeed, pairedEvidence).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLAIM_ALPHA, checkClaimRules, decideClaims, ruleText, type ClaimRule, type Evidence } from '../kernel-lib/exp/claims.ts';
import {
  bootstrapCi, entropy, fisherExactGreater, holmAdjust, minimumDetectableEffect, mulberry32, normalizedMutualInformation,
  pairedTest, permutationPValue, shuffled, slopeOf, summarize, welchTest,
} from '../kernel-lib/exp/stats.ts';
import { lnGamma, regularizedIncompleteBeta, studentTCdf, studentTQuantile } from '../kernel-lib/exp/distributions.ts';
import { hasOutcome, pairBySeed, pairedEvidence, qualityOrUniform } from '../experiments/common.ts';
import type { LoadedRun } from '../kernel-lib/exp/types.ts';

const close = (got: number | null, want: number, tol: number, what = '') => {
  assert.ok(got !== null && Math.abs(got - want) <= tol, `${what}: ${got} vs ${want} (tolerance ${tol})`);
};

// ---------------------------------------------------------------------------------------------
// Rules and evidence

const paper = (id: string, extra: Partial<ClaimRule> = {}): ClaimRule => ({
  id, kind: 'paper', claim: `claim ${id}`, source: `§${id}`, test: 'paired-t', alternative: 'greater', effect: `effect ${id}`, units: 'nats', ...extra,
});
const fisher = (id: string, extra: Partial<ClaimRule> = {}): ClaimRule => paper(id, { test: 'fisher-exact', alternative: undefined, effect: 'divergence rate a − b', units: 'runs', ...extra });
const check = (id: string, extra: Partial<ClaimRule> = {}): ClaimRule => ({ id, kind: 'check', claim: `check ${id}`, source: 'code', test: 'check', effect: '', units: '', ...extra });
const paired = (a: number[], b: number[], measured = 'm'): Evidence => ({ kind: 'paired', a, b, seeds: a.map((_, i) => i + 1), measured });
const counts = (eventsA: number, nA: number, eventsB: number, nB: number, measured = 'c'): Evidence => ({ kind: 'counts', eventsA, nA, eventsB, nB, measured });
const ASSESS = { assess: true };

/**
 * Two seeds whose one-sided paired p ('greater') is `p`: differences 1 and v with
 * t = (1 + v)/(1 − v) on 1 degree of freedom (Cauchy: p = 1/2 − atan(t)/π).
 */
function withP(p: number): Evidence {
  const t = Math.tan(Math.PI * (0.5 - p));
  const v = (t - 1) / (t + 1);
  return paired([1, v], [0, 0]);
}

// ---------------------------------------------------------------------------------------------
// decideClaims: α, Holm, the not-reproduced side

test('p exactly α is reproduced; just above α is inconclusive (paired, one claim)', () => {
  // Found by bisection: this pair gives p === 0.05 in float64 ('less', t = −6.3138, 1 df).
  const at = decideClaims([paper('x', { alternative: 'less' })], { x: paired([0, 0], [0.01, 0.007265425280053609]) }, ASSESS)[0];
  assert.equal(at.pRaw, 0.05, 'precondition: the raw p is exactly α');
  assert.equal(at.pValue, 0.05, 'one claim: Holm leaves it unchanged');
  assert.equal(at.verdict, 'reproduced');
  const above = decideClaims([paper('x', { alternative: 'less' })], { x: paired([0, 0], [0.01, 0.00726]) }, ASSESS)[0];
  assert.ok(above.pRaw! > 0.05 && above.pRaw! < 0.0502, String(above.pRaw));
  assert.ok(above.ci95![0] < 0 && above.ci95![1] > 0, 'its interval straddles 0');
  assert.equal(above.verdict, 'inconclusive');
});

test('p exactly α after Holm: a Fisher p of exactly 0.05 stays reproduced when it is the largest of the family', () => {
  assert.equal(fisherExactGreater(2, 4, 0, 12), 0.05, 'precondition: C(4,2)/C(16,2) = 6/120 exactly');
  // Holm multiplies the largest p by 1: [0, 0, 0.05] → [0, 0, 0.05]. (Bonferroni would give 0.15.)
  const rules = [fisher('f'), paper('a'), paper('b')];
  const ev = { f: counts(2, 4, 0, 12), a: paired([1, 2, 3], [0, 1, 2]), b: paired([1, 2, 3], [0.5, 1.5, 2.5]) };
  const [f, a, b] = decideClaims(rules, ev, ASSESS);
  assert.deepEqual([a.pRaw, b.pRaw, a.pValue, b.pValue], [0, 0, 0, 0]);
  assert.equal(f.pRaw, 0.05);
  assert.equal(f.pValue, 0.05);
  assert.equal(f.verdict, 'reproduced');
  // The same counts the other way round: the opposite test gives exactly 0.05, so not reproduced.
  const [g] = decideClaims([fisher('g')], { g: counts(0, 12, 2, 4) }, ASSESS);
  close(g.pRaw, 1, 1e-12, 'p');
  assert.equal(g.verdict, 'not reproduced');
});

test('just below and just above α after Holm: the smallest of two p-values is doubled', () => {
  const pair = (p: number, q: number) => decideClaims([paper('x'), paper('y')], { x: withP(p), y: withP(q) }, ASSESS);
  const [x1, y1] = pair(0.0249, 0.03); // 2·0.0249 = 0.0498, then max(0.0498, 0.03) = 0.0498
  close(x1.pValue, 0.0498, 1e-9, 'x');
  close(y1.pValue, 0.0498, 1e-9, 'y');
  assert.deepEqual([x1.verdict, y1.verdict], ['reproduced', 'reproduced']);
  const [x2, y2] = pair(0.0251, 0.03); // 2·0.0251 = 0.0502: neither
  close(x2.pValue, 0.0502, 1e-9, 'x');
  close(y2.pValue, 0.0502, 1e-9, 'y');
  assert.deepEqual([x2.verdict, y2.verdict], ['inconclusive', 'inconclusive']);
});

test('Holm over 2 paper claims turns two claims that pass alone into inconclusive ones', () => {
  for (const p of [0.03, 0.04]) {
    const [alone] = decideClaims([paper('x')], { x: withP(p) }, ASSESS);
    close(alone.pValue, p, 1e-9, 'alone');
    assert.equal(alone.verdict, 'reproduced');
  }
  // Sorted 0.03, 0.04: adjusted max(2·0.03) = 0.06, max(0.06, 1·0.04) = 0.06.
  const [x, y] = decideClaims([paper('x'), paper('y')], { x: withP(0.03), y: withP(0.04) }, ASSESS);
  close(x.pRaw, 0.03, 1e-9, 'x raw');
  close(y.pRaw, 0.04, 1e-9, 'y raw');
  close(x.pValue, 0.06, 1e-9, 'x adjusted');
  close(y.pValue, 0.06, 1e-9, 'y adjusted');
  assert.deepEqual([x.verdict, y.verdict], ['inconclusive', 'inconclusive']);
  assert.match(x.rule, /Holm-adjusted over the experiment's 2 paper claims:/);
});

test('Holm over 3 paper claims (with checks between them, never in the family): step-down worked by hand', () => {
  const rules = [paper('p3'), check('c1'), paper('p1'), check('c2'), paper('p2')];
  const ev: Record<string, Evidence> = {
    p3: withP(0.04), p1: withP(0.01), p2: withP(0.03),
    c1: { kind: 'check', pass: true, measured: 'held' }, c2: { kind: 'check', pass: false, measured: 'broke' },
  };
  const out = decideClaims(rules, ev, ASSESS);
  const by = Object.fromEntries(out.map((c) => [c.id, c]));
  // Sorted 0.01, 0.03, 0.04: 3·0.01 = 0.03; max(0.03, 2·0.03) = 0.06; max(0.06, 1·0.04) = 0.06.
  close(by.p1.pValue, 0.03, 1e-9, 'p1');
  close(by.p2.pValue, 0.06, 1e-9, 'p2');
  close(by.p3.pValue, 0.06, 1e-9, 'p3');
  assert.deepEqual(out.map((c) => c.verdict), ['inconclusive', 'pass', 'reproduced', 'fail', 'inconclusive']);
  assert.deepEqual(out.map((c) => c.id), ['p3', 'c1', 'p1', 'c2', 'p2'], 'claims come back in the rules\' order');
  for (const c of [by.p1, by.p2, by.p3]) assert.match(c.rule, /over the experiment's 3 paper claims:/);
  // Alone with the two checks, p = 0.04 is not multiplied by anything.
  const one = decideClaims([paper('p'), check('c1'), check('c2')], { p: withP(0.04), c1: ev.c1, c2: ev.c2 }, ASSESS);
  close(one[0].pValue, 0.04, 1e-9, 'one paper claim');
  assert.equal(one[0].verdict, 'reproduced');
  assert.match(one[0].rule, /over the experiment's 1 paper claim:/);
});

test('checks: pass and fail from the evidence, nothing statistical; no evidence is a fail', () => {
  const out = decideClaims([check('ok'), check('bad'), check('none')], { ok: { kind: 'check', pass: true, measured: 'all seeds' }, bad: { kind: 'check', pass: false, measured: 'seed 2 broke it' } }, { assess: false });
  assert.deepEqual(out.map((c) => [c.verdict, c.measured]), [['pass', 'all seeds'], ['fail', 'seed 2 broke it'], ['fail', 'no data: its runs have no result']]);
  for (const c of out) {
    assert.deepEqual([c.n, c.effect, c.ci95, c.pValue, c.pRaw, c.mde], [0, null, null, null, null, null]);
    assert.equal(c.test, 'check');
    assert.equal(c.rule, 'pass if it holds in every seed, fail otherwise (an implementation check, not a reproduction).');
    assert.equal(c.kind, 'check');
  }
  assert.equal(out[0].claim, 'check ok');
  assert.equal(out[0].source, 'code');
});

test("'not reproduced' needs the 95% interval wholly on the contradicting side; straddling is inconclusive", () => {
  // Differences −1, −1.1, −1.2: mean −1.1, se 0.1/√3, t_{0.975,2} = 4.302653: [−1.348, −0.852].
  const below = decideClaims([paper('x')], { x: paired([0, 0, 0], [1, 1.1, 1.2]) }, ASSESS)[0];
  close(below.effect, -1.1, 1e-12, 'effect');
  close(below.ci95![0], -1.1 - 4.302653 * (0.1 / Math.sqrt(3)), 1e-6, 'low');
  close(below.ci95![1], -1.1 + 4.302653 * (0.1 / Math.sqrt(3)), 1e-6, 'high');
  assert.equal(below.verdict, 'not reproduced');
  // Straddling 0: differences 0.1, −0.2, 0.05.
  const straddle = decideClaims([paper('x')], { x: paired([0.1, -0.2, 0.05], [0, 0, 0]) }, ASSESS)[0];
  assert.ok(straddle.ci95![0] < 0 && straddle.ci95![1] > 0);
  assert.equal(straddle.verdict, 'inconclusive');
  // 'less': wholly above 0 contradicts it.
  assert.equal(decideClaims([paper('x', { alternative: 'less' })], { x: paired([1, 1.1, 1.2], [0, 0, 0]) }, ASSESS)[0].verdict, 'not reproduced');
  assert.equal(decideClaims([paper('x', { alternative: 'less' })], { x: paired([0.1, -0.2, 0.05], [0, 0, 0]) }, ASSESS)[0].verdict, 'inconclusive');
  // 'less' and reproduced: −1.1 ± … is wholly below 0.
  assert.equal(decideClaims([paper('x', { alternative: 'less' })], { x: paired([0, 0, 0], [1, 1.1, 1.2]) }, ASSESS)[0].verdict, 'reproduced');
});

test('non-inferiority: not reproduced only when the interval lies wholly below −margin', () => {
  const ni = (margin: number, alternative: 'greater' | 'less' = 'greater') => paper('x', { margin, alternative });
  // Wholly below 0 ([−0.948, −0.452]) but not below −0.5: inconclusive, not 'not reproduced'.
  const notBelowMargin = decideClaims([ni(0.5)], { x: paired([0, 0, 0], [0.6, 0.7, 0.8]) }, ASSESS)[0];
  assert.ok(notBelowMargin.ci95![1] < 0 && notBelowMargin.ci95![1] > -0.5, String(notBelowMargin.ci95));
  assert.equal(notBelowMargin.verdict, 'inconclusive');
  // [−1.348, −0.852] is wholly below −0.5: not reproduced.
  assert.equal(decideClaims([ni(0.5)], { x: paired([0, 0, 0], [1, 1.1, 1.2]) }, ASSESS)[0].verdict, 'not reproduced');
  // a slightly worse than b (−0.15 ± 0.05), well inside the margin 0.5: reproduced (a does not hurt).
  const inside = decideClaims([ni(0.5)], { x: paired([0, 0, 0], [0.1, 0.2, 0.15]) }, ASSESS)[0];
  assert.ok(inside.effect! < 0);
  assert.equal(inside.verdict, 'reproduced');
  assert.equal(decideClaims([paper('x')], { x: paired([0, 0, 0], [0.1, 0.2, 0.15]) }, ASSESS)[0].verdict, 'not reproduced', 'without the margin the same data contradict the claim');
  // Exactly at the margin: differences all −0.5 (no spread, interval [−0.5, −0.5]); with margin 0.5 the
  // interval is not below −0.5, the null effect ≤ −0.5 holds with equality: p = 1, inconclusive.
  const edge = decideClaims([ni(0.5)], { x: paired([0, 1, 2], [0.5, 1.5, 2.5]) }, ASSESS)[0];
  assert.deepEqual(edge.ci95, [-0.5, -0.5]);
  assert.equal(edge.pRaw, 1);
  assert.equal(edge.verdict, 'inconclusive');
  assert.equal(decideClaims([ni(0.25)], { x: paired([0, 1, 2], [0.5, 1.5, 2.5]) }, ASSESS)[0].verdict, 'not reproduced');
  assert.equal(decideClaims([ni(0.75)], { x: paired([0, 1, 2], [0.5, 1.5, 2.5]) }, ASSESS)[0].verdict, 'reproduced');
  // 'less' with a margin (a may exceed b by less than m): the interval [0.5, 0.5] against m = 0.5 and 0.25.
  const lessEdge = decideClaims([ni(0.5, 'less')], { x: paired([0.5, 1.5, 2.5], [0, 1, 2]) }, ASSESS)[0];
  assert.deepEqual([lessEdge.ci95, lessEdge.pRaw, lessEdge.verdict], [[0.5, 0.5], 1, 'inconclusive']);
  assert.equal(decideClaims([ni(0.25, 'less')], { x: paired([0.5, 1.5, 2.5], [0, 1, 2]) }, ASSESS)[0].verdict, 'not reproduced');
  assert.equal(decideClaims([ni(0.75, 'less')], { x: paired([0.5, 1.5, 2.5], [0, 1, 2]) }, ASSESS)[0].verdict, 'reproduced');
  // No spread and no margin: the sign decides both ways.
  assert.equal(decideClaims([paper('x')], { x: paired([0, 1, 2], [0.5, 1.5, 2.5]) }, ASSESS)[0].verdict, 'not reproduced');
  assert.equal(decideClaims([paper('x', { alternative: 'less' })], { x: paired([0.5, 1.5, 2.5], [0, 1, 2]) }, ASSESS)[0].verdict, 'not reproduced');
});

test('Fisher exact claims: evidence counts both ways, the effect is the difference in rates', () => {
  const decide = (ev: Evidence, o = ASSESS) => decideClaims([fisher('f')], { f: ev }, o)[0];
  const yes = decide(counts(3, 3, 0, 3, '3 of 3 diverged against 0 of 3'));
  close(yes.pRaw, 1 / 20, 1e-12, 'p');
  assert.equal(yes.verdict, 'reproduced');
  assert.deepEqual([yes.n, yes.effect, yes.ci95, yes.mde, yes.measured, yes.test], [3, 1, null, null, '3 of 3 diverged against 0 of 3', 'Fisher exact, one-sided']);
  const no = decide(counts(0, 3, 3, 3));
  close(no.pRaw, 1, 1e-12, 'p');
  assert.equal(no.verdict, 'not reproduced', 'the opposite one-sided test gives 1/20');
  assert.equal(no.effect, -1);
  const chance = decide(counts(1, 3, 0, 3));
  close(chance.pRaw, 0.5, 1e-12, 'one of three');
  assert.equal(chance.verdict, 'inconclusive');
  assert.equal(decide(counts(0, 3, 1, 3)).verdict, 'inconclusive', 'nor the other way');
  // Unequal arms: n is the smaller; the rates' difference 2/4 − 1/8.
  const uneq = decide(counts(2, 4, 1, 8));
  assert.equal(uneq.n, 4);
  close(uneq.effect, 0.375, 1e-15, 'effect');
  // An empty arm: no rate, no effect.
  assert.equal(decide(counts(0, 0, 1, 3)).effect, null);
  assert.equal(decide(counts(1, 3, 0, 0)).effect, null);
  assert.equal(decide(counts(1, 3, 0, 0)).n, 0);
  const quiet = decide(counts(3, 3, 0, 3, 'x'), { assess: false });
  assert.deepEqual([quiet.verdict, quiet.measured], ['not assessed', "x [not assessed: this preset is too small for the paper's effects]"]);
  close(quiet.pRaw, 0.05, 1e-12, 'still computed');
});

test('missing evidence: a paper claim is inconclusive (not assessed when the preset does not assess), outside the Holm family', () => {
  const out = decideClaims([paper('gone'), paper('here')], { here: withP(0.03) }, ASSESS);
  assert.deepEqual(
    [out[0].verdict, out[0].measured, out[0].n, out[0].effect, out[0].ci95, out[0].pValue, out[0].pRaw, out[0].mde],
    ['inconclusive', 'no data: its runs have no result', 0, null, null, null, null, null],
  );
  close(out[1].pValue, 0.03, 1e-9, 'the claim with data is adjusted over a family of 1');
  assert.equal(out[1].verdict, 'reproduced');
  const quiet = decideClaims([paper('gone')], {}, { assess: false, notAssessedWhy: 'preset quick' })[0];
  assert.deepEqual([quiet.verdict, quiet.measured], ['not assessed', 'no data: its runs have no result [not assessed: preset quick]']);
  // One seed: an effect but no test; no interval, no MDE, not in the family.
  const [one, other] = decideClaims([paper('one'), paper('other')], { one: paired([1], [0]), other: withP(0.03) }, ASSESS);
  assert.deepEqual([one.verdict, one.n, one.effect, one.ci95, one.pValue, one.pRaw, one.mde], ['inconclusive', 1, 1, null, null, null, null]);
  assert.equal(one.measured, 'm; effect one: 1.0000 nats, n = 1');
  close(other.pValue, 0.03, 1e-9, 'family of 1');
  // Two seeds: the smallest n with a test.
  const two = decideClaims([paper('two')], { two: paired([1, 1.1], [0, 0]) }, ASSESS)[0];
  assert.equal(two.n, 2);
  assert.ok(two.pRaw !== null && two.pRaw > 0 && two.pRaw < 0.05, String(two.pRaw));
  // No pair at all (every seed missing in one arm).
  const none = decideClaims([paper('none')], { none: paired([], []) }, ASSESS)[0];
  assert.deepEqual([none.verdict, none.n, none.effect, none.pValue], ['inconclusive', 0, null, null]);
});

test("not-applicable evidence and assess = false give 'not assessed' with the reason; assess = false still reports n, effect, interval, p and MDE", () => {
  const [na, other] = decideClaims([paper('na'), paper('other')], { na: { kind: 'not-applicable', measured: 'webgpu skips padding' }, other: withP(0.04) }, ASSESS);
  assert.deepEqual(
    [na.verdict, na.measured, na.n, na.effect, na.ci95, na.pValue, na.pRaw, na.mde],
    ['not assessed', 'not applicable here: webgpu skips padding', 0, null, null, null, null, null],
  );
  close(other.pValue, 0.04, 1e-9, 'not in the Holm family');
  assert.equal(other.verdict, 'reproduced');
  // A decisive effect at a preset that does not assess.
  const ev = paired([1.1, 2.2, 3.3], [1, 2, 3], 'a 2.2 vs b 2.0');
  const quiet = decideClaims([paper('x')], { x: ev }, { assess: false, notAssessedWhy: 'quick preset: 40 steps' })[0];
  const loud = decideClaims([paper('x')], { x: ev }, ASSESS)[0];
  assert.equal(quiet.verdict, 'not assessed');
  assert.equal(loud.verdict, 'reproduced');
  assert.equal(quiet.measured, `${loud.measured} [not assessed: quick preset: 40 steps]`);
  assert.deepEqual([quiet.n, quiet.effect, quiet.ci95, quiet.pValue, quiet.pRaw, quiet.mde], [loud.n, loud.effect, loud.ci95, loud.pValue, loud.pRaw, loud.mde]);
  assert.equal(quiet.n, 3);
  close(quiet.mde, (2.919986 + 1.06066) * (0.1 / Math.sqrt(3)), 1e-6, 'MDE');
  assert.equal(decideClaims([paper('x')], { x: ev }, { assess: false })[0].measured, `${loud.measured} [not assessed: this preset is too small for the paper's effects]`);
});

test('what a paired claim reports: effect, interval, n, MDE and p worked by hand, in the measured text', () => {
  // Differences 0.1, 0.2, 0.3 (to rounding): mean 0.2, se 0.1/√3 = 0.057735, df 2.
  const se = 0.1 / Math.sqrt(3);
  const c = decideClaims([paper('x', { effect: 'Switch − dense', units: 'nats' })], { x: paired([1.1, 2.2, 3.3], [1, 2, 3], 'Switch 2.2 vs dense 2.0') }, ASSESS)[0];
  close(c.effect, 0.2, 1e-12, 'effect');
  close(c.ci95![0], 0.2 - 4.302653 * se, 1e-6, 'low');
  close(c.ci95![1], 0.2 + 4.302653 * se, 1e-6, 'high');
  close(c.pRaw, 1 - studentTCdf(0.2 / se, 2), 1e-12, 'p');
  close(c.pRaw, 0.5 - 3.4641016 / (2 * Math.sqrt(3.4641016 ** 2 + 2)), 1e-8, 'p = 0.0371 (t = 2√3, 2 df: cdf = 1/2 + t/(2√(t² + 2)))');
  close(c.mde, (2.919986 + 1.06066) * se, 1e-6, 'MDE');
  assert.equal(c.measured, 'Switch 2.2 vs dense 2.0; Switch − dense: 0.2000 nats [-0.0484, 0.4484], n = 3, MDE 0.2298');
  assert.equal(c.test, 'paired t, one-sided (a − b > 0)');
  assert.deepEqual([c.id, c.kind, c.claim, c.source], ['x', 'paper', 'claim x', '§x']);
  // Small effects are printed in exponent form, 0 and 0.001 in fixed form.
  const small = decideClaims([paper('x')], { x: paired([0.0005, 0.0006, 0.0004], [0, 0, 0]) }, ASSESS)[0];
  assert.equal(small.measured, 'm; effect x: 5.00e-4 nats [2.52e-4, 7.48e-4], n = 3, MDE 2.30e-4');
  const neg = decideClaims([paper('x')], { x: paired([0, 0, 0], [0.0005, 0.0006, 0.0004]) }, ASSESS)[0];
  assert.equal(neg.measured, 'm; effect x: -5.00e-4 nats [-7.48e-4, -2.52e-4], n = 3, MDE 2.30e-4');
  const zero = decideClaims([paper('x')], { x: paired([1, 2], [1, 2]) }, ASSESS)[0];
  assert.equal(zero.measured, 'm; effect x: 0.0000 nats [0.0000, 0.0000], n = 2, MDE 0.0000');
  assert.equal(zero.verdict, 'inconclusive');
  const milli = decideClaims([paper('x')], { x: paired([0.001, 0.001], [0, 0]) }, ASSESS)[0];
  assert.equal(milli.measured, 'm; effect x: 0.0010 nats [0.0010, 0.0010], n = 2, MDE 0.0000');
});

test('test names and rule texts as printed', () => {
  assert.equal(decideClaims([paper('x', { margin: 0.02 })], {}, ASSESS)[0].test, 'paired t, one-sided (a − b > -0.02)');
  assert.equal(decideClaims([paper('x', { alternative: 'less' })], {}, ASSESS)[0].test, 'paired t, one-sided (a − b < 0)');
  assert.equal(decideClaims([paper('x', { alternative: 'less', margin: 0.5 })], {}, ASSESS)[0].test, 'paired t, one-sided (a − b < 0.5)');
  const tail = 'reproduced if p ≤ 0.05; not reproduced if the 95% interval lies wholly';
  assert.equal(ruleText(paper('x'), 1), `paired t over seeds, one-sided (null: a − b ≤ 0), α = 0.05, Holm-adjusted over the experiment's 1 paper claim: ${tail} below 0; inconclusive otherwise.`);
  assert.equal(ruleText(paper('x', { margin: 0.02 }), 3), `paired t over seeds, one-sided (null: a − b ≤ −0.02, a non-inferiority margin), α = 0.05, Holm-adjusted over the experiment's 3 paper claims: ${tail} below -0.02; inconclusive otherwise.`);
  assert.equal(ruleText(paper('x', { alternative: 'less' }), 2), `paired t over seeds, one-sided (null: a − b ≥ 0), α = 0.05, Holm-adjusted over the experiment's 2 paper claims: ${tail} above 0; inconclusive otherwise.`);
  assert.equal(
    ruleText(paper('x', { alternative: 'less', margin: 0.5, departure: 'CPU timing, not TPU.' }), 2),
    `paired t over seeds, one-sided (null: a − b ≥ 0.5, a non-inferiority margin), α = 0.05, Holm-adjusted over the experiment's 2 paper claims: ${tail} above 0.5; inconclusive otherwise. Departure from the paper: CPU timing, not TPU.`,
  );
  assert.equal(
    ruleText(fisher('f'), 2),
    "one-sided Fisher exact test (a has more events than b), α = 0.05, Holm-adjusted over the experiment's 2 paper claims: reproduced if p ≤ 0.05; not reproduced if the opposite one-sided test gives p ≤ 0.05; inconclusive otherwise.",
  );
  assert.equal(ruleText(fisher('f', { departure: 'd.' }), 1).slice(-30), 'otherwise. Departure from the paper: d.'.slice(-30));
  const checkText = 'pass if it holds in every seed, fail otherwise (an implementation check, not a reproduction).';
  assert.equal(ruleText(check('c', { departure: 'lavapipe only.' }), 4), `${checkText} Departure from the paper: lavapipe only.`);
  // Either mark makes it a check's text.
  assert.equal(ruleText(paper('c', { test: 'check' }), 2), checkText);
  assert.equal(ruleText(check('c', { test: 'paired-t' }), 2), checkText);
  assert.equal(CLAIM_ALPHA, 0.05);
});

test('bad rules and mismatched evidence are refused by name', () => {
  assert.throws(() => checkClaimRules([paper('a'), check('a')]), /claim rule id 'a' appears twice/);
  assert.throws(() => decideClaims([paper('a'), paper('a')], {}, ASSESS), /claim rule id 'a' appears twice/);
  assert.throws(() => checkClaimRules([paper('p', { test: 'check' })]), /claim rule 'p': a paper claim needs a statistical test, not 'check'/);
  assert.throws(() => checkClaimRules([check('c', { test: 'fisher-exact' })]), /claim rule 'c': an implementation check has test 'check', got 'fisher-exact'/);
  assert.throws(() => checkClaimRules([paper('p', { alternative: undefined })]), /claim rule 'p': alternative must be 'greater' or 'less', got 'undefined'/);
  assert.throws(() => checkClaimRules([paper('p', { alternative: 'two-sided' as 'greater' })]), /alternative must be 'greater' or 'less', got 'two-sided'/);
  assert.throws(() => checkClaimRules([paper('p', { margin: -0.1 })]), /claim rule 'p': margin must be ≥ 0, got -0.1/);
  assert.throws(() => checkClaimRules([paper('p', { margin: NaN })]), /margin must be ≥ 0, got NaN/);
  checkClaimRules([paper('p', { margin: 0 }), paper('q', { alternative: 'less' }), fisher('f'), check('c')]); // accepted: a Fisher rule needs no alternative
  assert.throws(() => decideClaims([paper('a'), check('b')], { zzz: withP(0.1) }, ASSESS), /evidence for 'zzz', which no claim rule of the sweep names \(rules: a, b\)/);
  assert.throws(() => decideClaims([paper('a')], { a: counts(1, 3, 0, 3) }, ASSESS), /claim 'a': a paired test needs paired evidence, got 'counts'/);
  assert.throws(() => decideClaims([paper('a')], { a: { kind: 'check', pass: true, measured: '' } }, ASSESS), /a paired test needs paired evidence, got 'check'/);
  assert.throws(() => decideClaims([fisher('f')], { f: withP(0.1) }, ASSESS), /claim 'f': a Fisher test needs counts, got 'paired'/);
  assert.throws(() => decideClaims([check('c')], { c: withP(0.1) }, ASSESS), /check 'c': needs a check outcome, got 'paired'/);
  // A diverged run must arrive as a finite value.
  assert.throws(() => decideClaims([paper('a')], { a: paired([NaN, 1], [0, 0]) }, ASSESS), /value 0 is NaN/);
});

// ---------------------------------------------------------------------------------------------
// experiments/common.ts: runs to evidence

const run = (seed: number, status: LoadedRun['status'], nlp?: number, vocabSize = 1000): LoadedRun => ({
  id: `g-s${seed}`, group: 'g', seed, labels: {}, config: { vocabSize } as LoadedRun['config'], runDir: '', status, train: [], eval: [],
  final: nlp === undefined ? undefined : { step: 100, negLogPerplexity: nlp } as LoadedRun['final'],
});

test('qualityOrUniform: a diverged run counts as the uniform predictor, −ln V', () => {
  assert.equal(qualityOrUniform(run(1, 'diverged', undefined, 1000)), -Math.log(1000));
  close(qualityOrUniform(run(1, 'diverged', undefined, 1000)), -6.907755278982137, 1e-15, '−ln 1000');
  assert.equal(qualityOrUniform(run(1, 'diverged', -3, 2000)), -Math.log(2000), 'even with a final evaluation');
  assert.equal(qualityOrUniform(run(1, 'completed', -4.25)), -4.25);
  assert.ok(Number.isNaN(qualityOrUniform(run(1, 'completed'))), 'completed without a final evaluation');
  assert.ok(Number.isNaN(qualityOrUniform(run(1, 'failed'))));
  assert.deepEqual(['completed', 'diverged', 'stopped', 'failed', 'missing'].map((s) => hasOutcome(run(1, s as LoadedRun['status'], -4))), [true, true, false, false, false]);
  assert.equal(hasOutcome(run(1, 'completed')), false, 'completed but no final evaluation');
});

test('pairBySeed: pairs by seed whatever the order; a seed without an outcome in either arm is left out', () => {
  const a = [run(3, 'completed', -4.3), run(1, 'completed', -4.1), run(2, 'diverged'), run(5, 'stopped', -4.5), run(6, 'completed', -4.6)];
  const b = [run(1, 'failed'), run(4, 'completed', -4.4), run(2, 'completed', -4.0), run(3, 'completed', -4.2), run(6, 'completed')];
  const p = pairBySeed(a, b, qualityOrUniform);
  // seed 1: b failed; 5: a stopped; 4: only in b; 6: b has no final evaluation.
  assert.deepEqual(p, { a: [-4.3, -Math.log(1000)], b: [-4.2, -4.0], seeds: [3, 2] });
  const ev = pairedEvidence(a, b, qualityOrUniform, (m) => `a ${m.a.mean.toFixed(2)} (n ${m.a.n}) vs b ${m.b.mean.toFixed(2)} (n ${m.b.n})`);
  assert.deepEqual(ev, { kind: 'paired', a: p.a, b: p.b, seeds: [3, 2], measured: `a ${((-4.3 - Math.log(1000)) / 2).toFixed(2)} (n 2) vs b -4.10 (n 2)` });
  // It goes straight into a claim: a diverged Switch seed counts against it.
  const c = decideClaims([paper('x')], { x: ev }, ASSESS)[0];
  assert.equal(c.n, 2);
  close(c.effect, (-4.3 + 4.2 + (-Math.log(1000) + 4.0)) / 2, 1e-12, 'effect');
  assert.deepEqual(pairBySeed([], b, qualityOrUniform), { a: [], b: [], seeds: [] });
});

// ---------------------------------------------------------------------------------------------
// stats.ts beyond the scipy comparison

test('summarize: counts the non-finite values it leaves out', () => {
  const s = summarize([1, NaN, 3, Infinity, -Infinity]);
  assert.deepEqual(s, { n: 2, mean: 2, sd: Math.SQRT2, se: 1, min: 1, max: 3, nonFinite: 3 });
  assert.deepEqual(summarize([2, 4, 9]), { n: 3, mean: 5, sd: Math.sqrt(13), se: Math.sqrt(13 / 3), min: 2, max: 9, nonFinite: 0 });
  const one = summarize([7, NaN]);
  assert.deepEqual([one.n, one.mean, one.min, one.max, one.nonFinite], [1, 7, 7, 7, 1]);
  assert.ok(Number.isNaN(one.sd) && Number.isNaN(one.se));
  const none = summarize([NaN, NaN]);
  assert.deepEqual([none.n, none.nonFinite], [0, 2]);
  assert.ok([none.mean, none.sd, none.se, none.min, none.max].every(Number.isNaN));
  assert.equal(summarize([]).nonFinite, 0);
});

test('permutationPValue: (1 + #{draws ≥ observed}) / (1 + N), ties counted, worked by hand', () => {
  const draws = [1, 2, 3, 2];
  const seen: number[] = [];
  const draw = (i: number) => {
    seen.push(i);
    return draws[i];
  };
  assert.equal(permutationPValue(2, draw, 4), 4 / 5, '2, 3, 2 are ≥ 2: (1 + 3)/(1 + 4)');
  assert.deepEqual(seen, [0, 1, 2, 3], 'one draw per shuffle, indexed 0 … N − 1');
  assert.equal(permutationPValue(3.5, (i) => draws[i], 4), 1 / 5, 'never 0: the smallest is 1/(1 + N)');
  assert.equal(permutationPValue(0, (i) => draws[i], 4), 1, 'every draw at least as large');
  assert.equal(permutationPValue(3, (i) => draws[i], 4), 2 / 5, 'the tie with the largest counts');
  assert.equal(permutationPValue(5, () => 0, 1), 1 / 2);
  assert.throws(() => permutationPValue(1, () => 0, 0), /permutationPValue: shuffles must be a whole number ≥ 1, got 0/);
  assert.throws(() => permutationPValue(1, () => 0, 2.5), /got 2.5/);
});

test('paired and Welch tests without spread: the sign and the margin decide; Welch keeps its degrees of freedom', () => {
  const g = (d: number, margin?: number) => pairedTest([d, 1 + d, 2 + d], [0, 1, 2], { alternative: 'greater', margin });
  const l = (d: number, margin?: number) => pairedTest([d, 1 + d, 2 + d], [0, 1, 2], { alternative: 'less', margin });
  assert.deepEqual([g(0.5).t, g(0.5).pValue, g(-0.5).t, g(-0.5).pValue], [Infinity, 0, -Infinity, 1]);
  assert.deepEqual([g(-0.5, 0.5).t, g(-0.5, 0.5).pValue], [0, 1], 'effect exactly −margin: the null holds');
  assert.deepEqual([g(-0.5, 0.75).t, g(-0.5, 0.75).pValue], [Infinity, 0]);
  assert.deepEqual([l(-0.5).pValue, l(0.5).pValue, l(0.5, 0.5).pValue, l(0.5, 0.5).t, l(0.5, 0.75).pValue], [0, 1, 1, 0, 0]);
  const two = (d: number) => pairedTest([d, 1 + d, 2 + d], [0, 1, 2], { alternative: 'two-sided' });
  assert.deepEqual([two(0).pValue, two(0).t, two(0.5).pValue, two(-0.5).pValue, two(-0.5).df], [1, 0, 0, 0, 2]);
  const w = welchTest([1, 1, 1], [0, 0], { alternative: 'greater' });
  assert.deepEqual([w.n, w.effect, w.se, w.df, w.pValue, w.t, w.ci95], [2, 1, 0, 3, 0, Infinity, [1, 1]]);
  assert.equal(welchTest([2, 2], [0, 0], { alternative: 'less' }).df, 2);
  const lone = welchTest([1, 1], [0], { alternative: 'greater' });
  assert.equal(lone.n, 1);
  assert.ok(Number.isNaN(lone.pValue) && Number.isNaN(lone.ci95[1]) && Number.isNaN(lone.t));
  assert.ok(Number.isNaN(pairedTest([], [], { alternative: 'greater' }).pValue));
  // Refusals name the test and the arm.
  assert.throws(() => pairedTest([1], [1], { alternative: 'greater', margin: -1 }), /^Error: pairedTest: margin must be/);
  assert.throws(() => pairedTest([1, NaN], [1, 2], { alternative: 'less' }), /^Error: pairedTest \(a\): value 1 is NaN/);
  assert.throws(() => pairedTest([1, 2], [Infinity, 2], { alternative: 'less' }), /^Error: pairedTest \(b\): value 0 is Infinity/);
  assert.throws(() => welchTest([1], [1], { alternative: 'two-sided', margin: 0.1 }), /^Error: welchTest: a margin needs a one-sided alternative/);
  assert.throws(() => welchTest([1, 2], [1, -Infinity], { alternative: 'less' }), /^Error: welchTest \(b\): value 1 is -Infinity/);
  // Welch–Satterthwaite worked: a = 1, 2, 3 (var 1, se² 1/3), b = 0, 4 (var 8, se² 4): df = (13/3)² / ((1/3)²/2 + 16) = 1.1676.
  const ws = welchTest([1, 2, 3], [0, 4], { alternative: 'two-sided' });
  close(ws.df, (13 / 3) ** 2 / (1 / 18 + 16), 1e-12, 'df');
  close(ws.se, Math.sqrt(13 / 3), 1e-12, 'se');
  assert.equal(ws.n, 2);
  // The same test on values 1e-100 times as large: df, t and p do not depend on the scale.
  const tinyWs = welchTest([1e-100, 2e-100, 3e-100], [0, 4e-100], { alternative: 'two-sided' });
  close(tinyWs.df, ws.df, 1e-12, 'df at scale 1e-100');
  close(tinyWs.t, ws.t, 1e-12, 't at scale 1e-100');
  close(tinyWs.pValue, ws.pValue, 1e-12, 'p at scale 1e-100');
});

test('minimum detectable effect: its arguments and refusals', () => {
  const q = (p: number, df: number) => studentTQuantile(p, df);
  close(minimumDetectableEffect(0.01, 3), (q(0.95, 3) + q(0.8, 3)) * 0.01, 1e-15, 'defaults α = 0.05, power 0.8');
  close(minimumDetectableEffect(0.01, 3, 0.1), (q(0.9, 3) + q(0.8, 3)) * 0.01, 1e-15, 'α');
  close(minimumDetectableEffect(0.01, 3, 0.05, 0.9), (q(0.95, 3) + q(0.9, 3)) * 0.01, 1e-15, 'power');
  assert.ok(Number.isNaN(minimumDetectableEffect(0.01, 0)));
  assert.ok(Number.isNaN(minimumDetectableEffect(Infinity, 3)));
  assert.equal(minimumDetectableEffect(0, 3), 0);
});

test("Holm's adjustment worked by hand, capped at 1", () => {
  const h = holmAdjust([0.04, 0.01, 0.03]);
  close(h[0], 0.06, 1e-15, 'largest');
  close(h[1], 0.03, 1e-15, 'smallest ×3');
  close(h[2], 0.06, 1e-15, '×2');
  assert.deepEqual(holmAdjust([0.5, 0.6]), [1, 1]);
  assert.deepEqual(holmAdjust([0.6, 0.7]), [1, 1]);
  assert.deepEqual(holmAdjust([0.02]), [0.02]);
  assert.deepEqual(holmAdjust([]), []);
});

test('Fisher exact refuses impossible tables by name', () => {
  assert.throws(() => fisherExactGreater(1.5, 3, 0, 3), /fisherExactGreater: a must be a whole number ≥ 0, got 1.5/);
  assert.throws(() => fisherExactGreater(0, -1, 0, 3), /nA must be a whole number ≥ 0, got -1/);
  assert.throws(() => fisherExactGreater(0, 3, -1, 3), /b must be a whole number ≥ 0, got -1/);
  assert.throws(() => fisherExactGreater(0, 3, 0, 2.5), /nB must be a whole number ≥ 0, got 2.5/);
  assert.throws(() => fisherExactGreater(0, 3, 4, 3), /events exceed trials \(0 of 3, 4 of 3\)/);
  assert.equal(fisherExactGreater(0, 0, 0, 0), 1);
  close(fisherExactGreater(2, 2, 1, 4), 0.2, 1e-12, 'C(2,2)C(4,1)/C(6,3) = 4/20'); // tail of x = 2 only (x ≤ min(k, nA) = 2)
  close(fisherExactGreater(1, 2, 2, 4), 16 / 20, 1e-12, '(C(2,1)C(4,2) + C(2,2)C(4,1)) / C(6,3)');
});

test('entropy and normalised mutual information worked by hand', () => {
  assert.equal(entropy([1, 1, 0]), Math.LN2);
  close(entropy(new Float64Array([1, 3])), -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 1e-15, 'H(1/4, 3/4)');
  assert.equal(entropy([0, 0]), 0);
  assert.equal(entropy([]), 0);
  assert.equal(entropy([5]), 0);
  // a = 0 0 1 1, b = 0 0 0 1: H(A) = ln 2, H(B) = H(3/4, 1/4), H(A,B) = H(1/2, 1/4, 1/4) = 1.5 ln 2.
  const hb = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  const mi = Math.LN2 + hb - 1.5 * Math.LN2;
  close(normalizedMutualInformation([0, 0, 1, 1], [0, 0, 0, 1], 2, 2), mi / Math.sqrt(Math.LN2 * hb), 1e-12, 'NMI');
  close(normalizedMutualInformation([0, 0, 1, 1], [0, 0, 0, 1], 2, 2), 0.3455914, 1e-6, 'NMI ≈ 0.3456');
  assert.equal(normalizedMutualInformation([0, 0, 0], [0, 1, 2], 1, 3), 0, 'a constant labeling');
  assert.equal(normalizedMutualInformation([0, 1, 2], [1, 1, 1], 3, 2), 0, 'the other constant');
  assert.throws(() => normalizedMutualInformation([0, 1], [0], 2, 2), /normalizedMutualInformation: 2 labels against 1/);
});

/** mulberry32 as its author published it (Tommy Ettinger), for comparison. */
function referenceMulberry32(a: number) {
  return () => {
    let t = (a += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('mulberry32 is the published generator; shuffled is Fisher–Yates on it', () => {
  for (const seed of [0, 1, 42, 2 ** 31 + 5]) {
    const r = mulberry32(seed);
    const ref = referenceMulberry32(seed);
    for (let i = 0; i < 50; i++) assert.equal(r(), ref(), `seed ${seed}, draw ${i}`);
  }
  const xs = Float64Array.from({ length: 10 }, (_, i) => i);
  const s = shuffled(xs, 7);
  const ref = referenceMulberry32(7);
  const want = Array.from(xs);
  for (let i = want.length - 1; i > 0; i--) {
    const j = Math.floor(ref() * (i + 1));
    [want[i], want[j]] = [want[j], want[i]];
  }
  assert.deepEqual(s, want);
  assert.notDeepEqual(s, Array.from(xs), 'it moves something');
  assert.deepEqual([...s].sort((x, y) => x - y), Array.from(xs), 'a permutation');
  assert.deepEqual(Array.from(xs), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'the input is untouched');
  assert.deepEqual(shuffled(xs, 7), s, 'reproducible by seed');
  assert.deepEqual(shuffled([], 1), []);
});

test('slopeOf: least squares and its standard error worked by hand', () => {
  // (0,1) (1,3) (2,4) (3,8): sxx = 5, sxy = 11, slope 2.2; residuals 0.3 0.1 −1.1 0.7, SS 1.8: se √(1.8/2/5).
  const s = slopeOf([[0, 1], [1, 3], [2, 4], [3, 8]]);
  close(s.slope, 2.2, 1e-12, 'slope');
  close(s.se, Math.sqrt(0.18), 1e-12, 'se');
  assert.deepEqual(slopeOf([[0, 0], [1, 1], [2, 2]]), { slope: 1, se: 0 });
  const two = slopeOf([[0, 0], [1, 1]]);
  assert.ok(Number.isNaN(two.slope) && Number.isNaN(two.se));
  // Far from the origin (x ≈ 1e9, y ≈ 1e6: FLOPs, steps) the centred sums keep their precision;
  // uncentred ones (Σ(x + x̄)(y − ȳ) equals Σ(x − x̄)(y − ȳ) only in exact arithmetic) lose all of it.
  // Exact slope of these doubles by rational arithmetic 0.807228961553648, se 0.4173615512183185
  // (scipy.stats.linregress: 0.8072289615536342, 0.4173615512183217).
  const far = slopeOf([[1e9 + 0.1, 1e6 + 0.3], [1e9 + 0.3, 1e6 + 0.1], [1e9 + 0.2, 1e6 + 0.2], [1e9 + 0.7, 1e6 + 0.7]]);
  close(far.slope, 0.807228961553648, 1e-9, 'slope far from the origin');
  close(far.se, 0.4173615512183185, 1e-9, 'se far from the origin');
});

test('bootstrapCi: percentile positions, the finite-statistic quota and the resampling, against the algorithm written out', () => {
  // A counter as the statistic: the k-th resample gives k, so the interval is read off by position.
  const counter = () => {
    let k = 0;
    return () => ++k;
  };
  assert.deepEqual(bootstrapCi([1, 2], counter(), { resamples: 100, level: 0.5 }), [26, 76]);
  // Statistics arriving in decreasing order (100, 99, …, 1) are sorted numerically (not as text) first.
  let down = 101;
  assert.deepEqual(bootstrapCi([1, 2], () => --down, { resamples: 100, level: 0.5 }), [26, 76]);
  assert.deepEqual(bootstrapCi([1, 2], counter()), [51, 1951], 'defaults: 2000 resamples, 95%');
  assert.deepEqual(bootstrapCi([1, 2], counter(), { resamples: 10, level: 1 }), [1, 10], 'level 1: the ends, clamped');
  assert.deepEqual(bootstrapCi([1, 2], counter(), { resamples: 10, level: 3 }), [1, 10], 'clamped at both ends');
  // Exactly half the statistics finite: kept; fewer: no interval.
  let k = 0;
  assert.deepEqual(bootstrapCi([1, 2], () => (++k % 2 ? NaN : k), { resamples: 10, level: 0.5 }), [4, 8], 'stats 2, 4, 6, 8, 10: positions 1 and 3');
  k = 0;
  assert.deepEqual(bootstrapCi([1, 2], () => (++k % 3 ? NaN : k), { resamples: 10 }), [NaN, NaN]);
  // The resamples themselves: n draws with replacement from the seeded generator.
  const items = [10, 20, 30, 40, 50];
  const seen: number[][] = [];
  bootstrapCi(items, (s) => (seen.push(s), 0), { resamples: 4, seed: 9 });
  const ref = referenceMulberry32(9);
  assert.deepEqual(seen, Array.from({ length: 4 }, () => items.map(() => items[Math.floor(ref() * items.length)])));
  const resamples = (o: { seed?: number }) => {
    const out: number[][] = [];
    bootstrapCi(items, (s) => (out.push(s), 0), { resamples: 3, ...o });
    return out;
  };
  assert.notDeepEqual(resamples({ seed: 1 }), resamples({ seed: 2 }), 'the seed matters');
  assert.deepEqual(resamples({}), resamples({ seed: 0 }), 'default seed 0');
  assert.deepEqual(bootstrapCi([1], () => 0), [NaN, NaN]);
});

// ---------------------------------------------------------------------------------------------
// distributions.ts: closed forms

test('lnGamma, the incomplete beta and the t distribution against closed forms', () => {
  close(lnGamma(1), 0, 1e-14, 'Γ(1)');
  close(lnGamma(2), 0, 1e-14, 'Γ(2)');
  close(lnGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14, 'Γ(1/2) = √π');
  close(lnGamma(10), Math.log(362880), 1e-12, 'Γ(10) = 9!');
  close(lnGamma(0.25), Math.log(3.625609908221908), 1e-13, 'Γ(1/4), through the reflection');
  close(lnGamma(0.1), Math.log(9.513507698668732), 1e-13, 'Γ(0.1)');
  close(lnGamma(1e-10), 23.025850929882733, 1e-12, 'ln Γ(1e-10) ≈ −ln x − γx (scipy gammaln), through the reflection');
  assert.throws(() => lnGamma(0), /lnGamma: x must be > 0, got 0/);
  assert.throws(() => lnGamma(NaN), /got NaN/);
  // I_x(2, 3) = Σ_{j=2..4} C(4,j) x^j (1−x)^(4−j): both sides of the symmetry switch.
  close(regularizedIncompleteBeta(0.1, 2, 3), 0.0523, 1e-13, 'I_0.1(2,3)');
  close(regularizedIncompleteBeta(0.5, 2, 3), 11 / 16, 1e-13, 'I_0.5(2,3)');
  close(regularizedIncompleteBeta(0.9, 2, 3), 0.9963, 1e-13, 'I_0.9(2,3)');
  close(regularizedIncompleteBeta(0.3, 1, 4), 1 - 0.7 ** 4, 1e-13, 'I_x(1,b) = 1 − (1−x)^b');
  close(regularizedIncompleteBeta(0.3, 4, 1), 0.3 ** 4, 1e-13, 'I_x(a,1) = x^a');
  // Where each side of the switch would fail (scipy.special.betainc): near 1 with large a = b the
  // continued fraction must run on the mirrored side; a tiny value must not come from 1 − (1 − tiny).
  close(regularizedIncompleteBeta(0.999, 50, 50), 1, 1e-14, 'I_0.999(50,50)');
  const tiny = regularizedIncompleteBeta(1e-10, 1, 5);
  close(tiny / -Math.expm1(5 * Math.log1p(-1e-10)), 1, 1e-12, 'I_1e-10(1,5) = 1 − (1 − 1e-10)^5 = 5.0e-10, relative');
  close(regularizedIncompleteBeta(0.99, 500, 0.5), 0.0015273578790525328, 1e-14, 'I_0.99(500, 1/2)');
  close(studentTCdf(0.01, 1000), 0.5039883590339064, 1e-11, 'cdf(0.01; 1000), scipy');
  assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
  assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
  assert.throws(() => regularizedIncompleteBeta(0.5, 0, 1), /regularizedIncompleteBeta: a and b must be > 0, got a=0, b=1/);
  assert.throws(() => regularizedIncompleteBeta(0.5, 1, -1), /got a=1, b=-1/);
  assert.throws(() => regularizedIncompleteBeta(1.5, 1, 1), /regularizedIncompleteBeta: x must be in \[0, 1\], got 1.5/);
  assert.throws(() => regularizedIncompleteBeta(NaN, 1, 1), /got NaN/);
  assert.throws(() => regularizedIncompleteBeta(-0.1, 1, 1), /regularizedIncompleteBeta: x must be in \[0, 1\], got -0.1/);
  assert.throws(() => regularizedIncompleteBeta(0.5, 1, 0), /regularizedIncompleteBeta: a and b must be > 0, got a=1, b=0/);
  // The ends are exact for every a and b, even where Γ(a + b) overflows (the formula gives NaN there).
  assert.equal(regularizedIncompleteBeta(0, 1e308, 1e308), 0);
  assert.equal(regularizedIncompleteBeta(1, 1e308, 1e308), 1);
  // Beyond its range (a, b ≈ 1e10 at the switch point needs ~10⁵ terms) it says so instead of
  // returning an unconverged value; over a, b ≤ 10⁶ (x up to the switch point) at most 524 terms were needed.
  assert.throws(() => regularizedIncompleteBeta(0.5, 1e10, 1e10), /incomplete beta: no convergence for x=0.5, a=10000000000, b=10000000000/);
  // Cauchy (1 df) and 2 df have closed forms.
  for (const t of [-30, -2, -0.3, 0.7, 5, 1e4]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-13, `cdf(${t}; 1)`);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(t * t + 2)), 1e-13, `cdf(${t}; 2)`);
  }
  assert.equal(studentTCdf(0, 7), 0.5);
  assert.ok(Number.isNaN(studentTCdf(NaN, 3)));
  for (const p of [1e-6, 0.01, 0.3, 0.8, 0.975, 0.9999999]) {
    close(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)), 1e-9 * Math.max(1, Math.abs(Math.tan(Math.PI * (p - 0.5)))), `quantile(${p}; 1)`);
    close(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-9 * Math.max(1, Math.abs((2 * p - 1) / Math.sqrt(2 * p * (1 - p)))), `quantile(${p}; 2)`);
  }
  assert.equal(studentTQuantile(0.5, 3), 0);
  assert.equal(studentTQuantile(0.2, 3), -studentTQuantile(0.8, 3));
  assert.throws(() => studentTQuantile(0, 3), /studentTQuantile: p must be in \(0, 1\), got 0/);
  assert.throws(() => studentTQuantile(0.5, Infinity), /studentTQuantile: degrees of freedom must be a finite number > 0, got Infinity/);
  assert.throws(() => studentTCdf(1, NaN), /studentTCdf: degrees of freedom must be a finite number > 0, got NaN/);
  assert.throws(() => studentTCdf(1, -2), /got -2/);
});
