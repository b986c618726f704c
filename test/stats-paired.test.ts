/**
 * The paired and Welch tests, t quantiles and Holm's adjustment against scipy (values in
 * test/fixtures/stats/scipy-reference.json, written by the Python script beside it), and their
 * refusals of bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { studentTCdf, studentTQuantile } from '../kernel-lib/exp/distributions.ts';
import { bootstrapCi, holmAdjust, minimumDetectableEffect, pairedTest, welchTest, type Alternative } from '../kernel-lib/exp/stats.ts';

interface RefTest { kind: 'paired' | 'welch'; a: number[]; b: number[]; alternative: Alternative; margin: number; effect: number; t: number; df: number; pValue: number; ci95: [number, number] }
const FIXTURE = 'test/fixtures/stats/scipy-reference.json';
const ref = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
  tests: RefTest[]; quantiles: { p: number; df: number; q: number }[]; cdfs: { t: number; df: number; cdf: number }[]; holm: { p: number[]; adjusted: number[] }[];
};
const near = (got: number, want: number, tol: number, what: string) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs scipy ${want}`);

test('pairedTest and welchTest agree with scipy to 1e-6 on t, df, p and the 95% interval', () => {
  assert.ok(ref.tests.length >= 60);
  for (const c of ref.tests) {
    const r = (c.kind === 'paired' ? pairedTest : welchTest)(c.a, c.b, { alternative: c.alternative, margin: c.margin });
    const what = `${c.kind} n=${c.a.length} ${c.alternative} margin ${c.margin}`;
    near(r.effect, c.effect, 1e-9, `${what} effect`);
    near(r.t, c.t, 1e-6, `${what} t`);
    near(r.df, c.df, 1e-6, `${what} df`);
    near(r.pValue, c.pValue, 1e-6, `${what} p`);
    near(r.ci95[0], c.ci95[0], 1e-6, `${what} ci low`);
    near(r.ci95[1], c.ci95[1], 1e-6, `${what} ci high`);
    assert.equal(r.n, Math.min(c.a.length, c.b.length));
  }
});

test("Student's t CDF and quantiles agree with scipy", () => {
  for (const c of ref.cdfs) near(studentTCdf(c.t, c.df), c.cdf, 1e-10, `cdf(${c.t}; ${c.df})`);
  for (const q of ref.quantiles) near(studentTQuantile(q.p, q.df), q.q, 1e-8, `quantile(${q.p}; ${q.df})`);
  assert.equal(studentTCdf(Infinity, 3), 1);
  assert.equal(studentTCdf(-Infinity, 3), 0);
  assert.throws(() => studentTCdf(1, 0), /degrees of freedom must be a finite number > 0, got 0/);
  assert.throws(() => studentTQuantile(1, 3), /p must be in \(0, 1\), got 1/);
});

test("Holm's adjustment agrees with its definition (the Python script's own implementation)", () => {
  for (const h of ref.holm) assert.deepEqual(holmAdjust(h.p).map((v) => Number(v.toFixed(12))), h.adjusted.map((v) => Number(v.toFixed(12))));
  const withGap = holmAdjust([0.01, NaN, 0.03]);
  assert.ok(Number.isNaN(withGap[1]), 'a claim without data stays NaN');
  assert.deepEqual([withGap[0], withGap[2]], [0.02, 0.03], 'and does not count in the family (m = 2)');
});

test('the fixture is what scipy gives today (regenerated when python3-scipy is present)', (t) => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import scipy'], { stdio: 'ignore' });
  } catch {
    // CI installs python3-scipy (scripts/install-notebook-tools.sh); without it the committed values stand.
    t.diagnostic('python3-scipy missing: compared against the committed fixture only');
    return;
  }
  const before = readFileSync(FIXTURE, 'utf8');
  const fresh = join(mkdtempSync(join(tmpdir(), 'switchyard-scipy-')), 'scipy-reference.json');
  execFileSync('/usr/bin/python3', ['test/fixtures/stats/scipy-reference.py', fresh]);
  const regenerated = readFileSync(fresh, 'utf8');
  assert.equal(JSON.parse(regenerated).tests.length, JSON.parse(before).tests.length);
  const a = JSON.parse(before).tests as RefTest[];
  const b = JSON.parse(regenerated).tests as RefTest[];
  a.forEach((c, i) => near(c.pValue, b[i].pValue, 1e-12, `case ${i}`));
});

test('worked paired example: margins shift the null, the interval does not move', () => {
  // Differences 0.1, 0.2, 0.3: mean 0.2, sd 0.1, se 0.1/√3, df 2.
  const a = [1.1, 2.2, 3.3];
  const b = [1, 2, 3];
  const se = 0.1 / Math.sqrt(3);
  const g = pairedTest(a, b, { alternative: 'greater' });
  near(g.effect, 0.2, 1e-12, 'effect');
  near(g.se, se, 1e-12, 'se');
  near(g.t, 0.2 / se, 1e-9, 't');
  const ni = pairedTest(a, b, { alternative: 'greater', margin: 0.1 });
  near(ni.t, 0.3 / se, 1e-9, 'non-inferiority t uses effect + margin');
  assert.deepEqual(ni.ci95, g.ci95);
  const le = pairedTest(a, b, { alternative: 'less', margin: 0.1 });
  near(le.t, 0.1 / se, 1e-9, "'less' with a margin tests effect < m");
  near(le.pValue, studentTCdf(0.1 / se, 2), 1e-12, "'less' takes the lower tail of (effect − m) / se");
  assert.ok(g.pValue < 0.05 && pairedTest(a, b, { alternative: 'less' }).pValue > 0.95);
  const two = pairedTest(a, b, { alternative: 'two-sided' });
  near(two.pValue, 2 * g.pValue, 1e-12, 'two-sided doubles the smaller tail');
});

test('equal differences: no spread, the sign decides', () => {
  const r = pairedTest([1, 2, 3], [0.5, 1.5, 2.5], { alternative: 'greater' });
  assert.equal(r.se, 0);
  assert.equal(r.pValue, 0);
  assert.deepEqual(r.ci95, [0.5, 0.5]);
  assert.equal(pairedTest([1, 2, 3], [0.5, 1.5, 2.5], { alternative: 'less' }).pValue, 1);
  assert.equal(pairedTest([1, 2], [1, 2], { alternative: 'two-sided' }).pValue, 1);
});

test('one seed gives no verdict material: NaN statistics, not an error', () => {
  const r = pairedTest([1], [0], { alternative: 'greater' });
  assert.equal(r.n, 1);
  assert.ok(Number.isNaN(r.pValue) && Number.isNaN(r.ci95[0]) && Number.isNaN(r.t));
});

test('bad input is refused by name', () => {
  assert.throws(() => pairedTest([1, 2], [1], { alternative: 'greater' }), /arms differ in length \(2 vs 1\)/);
  assert.throws(() => pairedTest([1, NaN], [1, 2], { alternative: 'greater' }), /value 1 is NaN; a diverged run must be given a finite worst-case value/);
  assert.throws(() => pairedTest([1, 2], [1, 2], { alternative: 'greater', margin: -1 }), /margin must be a finite number ≥ 0, got -1/);
  assert.throws(() => pairedTest([1, 2], [1, 2], { alternative: 'two-sided', margin: 0.1 }), /a margin needs a one-sided alternative/);
  assert.throws(() => pairedTest([1, 2], [1, 2], { alternative: 'bigger' as Alternative }), /alternative must be 'greater', 'less' or 'two-sided', got 'bigger'/);
  assert.throws(() => welchTest([1, Infinity], [1, 2], { alternative: 'less' }), /welchTest \(a\): value 1 is Infinity/);
});

test('minimum detectable effect: (t_0.95 + t_0.8) · se, worked at df = 2 and df = 9', () => {
  // t_{0.95,2} = 2.919986, t_{0.8,2} = 1.060660; t_{0.95,9} = 1.833113, t_{0.8,9} = 0.883404 (scipy).
  near(minimumDetectableEffect(0.01, 2), (2.919986 + 1.06066) * 0.01, 1e-7, 'df 2');
  near(minimumDetectableEffect(0.01, 9), (1.833113 + 0.883404) * 0.01, 1e-7, 'df 9');
  assert.ok(Number.isNaN(minimumDetectableEffect(NaN, 2)));
});

test('bootstrap interval: covers the mean of a known sample, NaN for one seed, reproducible by seed', () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8];
  const mean = (s: number[]) => s.reduce((a, b) => a + b, 0) / s.length;
  const [lo, hi] = bootstrapCi(xs, mean, { seed: 3 });
  assert.ok(lo > 2.5 && lo < 4.5 && hi > 4.5 && hi < 6.5, `${lo} ${hi}`);
  assert.deepEqual(bootstrapCi(xs, mean, { seed: 3 }), [lo, hi]);
  assert.deepEqual(bootstrapCi([1], mean), [NaN, NaN]);
});
