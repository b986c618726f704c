/**
 * Monte-Carlo calibration of the paired claim rule (kernel-lib/exp/claims.ts, decideClaims) on
 * simulated per-seed results shaped like the measured ones: each seed shifts both arms alike
 * (sd 0.2 nats: data order, initial weights, evaluation batches), and each arm adds its own
 * noise (sd 0.01). With no effect the rule must say 'reproduced' at most α of the time (one
 * claim, and a Holm family of three); with an effect equal to the minimum detectable effect it
 * must say 'reproduced' about 80% of the time; at a non-inferiority margin's edge, at most α.
 *
 * Deterministic (seeded mulberry32). Each rate is compared with its exact value within three
 * Monte-Carlo standard errors (√(p(1−p)/N)): with normal per-seed noise the paired t test is
 * exact, so its size is α, and its power is a noncentral-t probability computed here by
 * quadrature. 4,000 replicates per cell: 3·SE is 0.010 at α = 0.05 and 0.019 at 80% power.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLAIM_ALPHA, decideClaims, type ClaimRule, type Evidence } from '../kernel-lib/exp/claims.ts';
import { minimumDetectableEffect, mulberry32 } from '../kernel-lib/exp/stats.ts';
import { lnGamma, studentTQuantile } from '../kernel-lib/exp/distributions.ts';

const REPS = 4000;
/** The presets' seed counts. */
const SEED_COUNTS = [2, 3, 4, 5];
const SEED_SD = 0.2;
const ARM_SD = 0.01;
/** Sd of a per-seed difference a − b: the seed shift cancels, the two arms' noises add. */
const DIFF_SD = ARM_SD * Math.SQRT2;

/** Standard normal draws from a seeded uniform generator (Box–Muller). */
function normals(seed: number): () => number {
  const u = mulberry32(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const th = 2 * Math.PI * u();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

/** One experiment's per-seed results for two arms whose true difference is `effect`. */
function arms(z: () => number, n: number, effect: number, seedNo: number): Evidence {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    const shift = -4 + SEED_SD * z();
    a.push(shift + effect + ARM_SD * z());
    b.push(shift + ARM_SD * z());
  }
  return { kind: 'paired', a, b, seeds: a.map((_, i) => i), measured: `simulation ${seedNo}` };
}

const rule = (id: string, extra: Partial<ClaimRule> = {}): ClaimRule => ({
  id, kind: 'paper', claim: id, source: 'simulation', test: 'paired-t', alternative: 'greater', effect: 'a − b', units: 'nats', ...extra,
});

/** Monte-Carlo standard error of a rate p over REPS replicates. */
const mcSe = (p: number) => Math.sqrt((p * (1 - p)) / REPS);

function assertRate(got: number, want: number, what: string): void {
  const tol = 3 * mcSe(want);
  assert.ok(Math.abs(got - want) <= tol, `${what}: rate ${got.toFixed(4)}, expected ${want.toFixed(4)} ± ${tol.toFixed(4)} (3 Monte-Carlo SE over ${REPS})`);
}

/** Φ, the standard normal CDF (erfc by Numerical Recipes' Chebyshev fit, relative error below 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/**
 * Exact power of the one-sided t test: P(T' > c) for T' noncentral t with `df` degrees of freedom
 * and noncentrality λ, i.e. E_S[Φ(λ − c·S)] with S = √(χ²_df / df), integrated over the density of
 * S (Simpson, 20,000 intervals on [0, 8]).
 */
function noncentralTUpper(c: number, df: number, lambda: number): number {
  const lnK = Math.log(2) + (df / 2) * Math.log(df / 2) - lnGamma(df / 2);
  const N = 20000;
  const h = 8 / N;
  let sum = 0;
  for (let i = 0; i <= N; i++) {
    const s = i * h;
    const f = s === 0 ? (df === 1 ? Math.exp(lnK) : 0) : Math.exp(lnK + (df - 1) * Math.log(s) - (df * s * s) / 2);
    sum += (i === 0 || i === N ? 1 : i % 2 ? 4 : 2) * f * normalCdf(lambda - c * s);
  }
  return (sum * h) / 3;
}

test('the exact-power integral gives α at no effect, and 0.77 / 0.80 / 0.806 / 0.807 at the MDE for 2 … 5 seeds', () => {
  const want = [0.7710, 0.8002, 0.8063, 0.8072];
  SEED_COUNTS.forEach((n, i) => {
    const c = studentTQuantile(1 - CLAIM_ALPHA, n - 1);
    assert.ok(Math.abs(noncentralTUpper(c, n - 1, 0) - CLAIM_ALPHA) < 1e-6, `size at ${n} seeds`);
    const lambda = c + studentTQuantile(0.8, n - 1);
    assert.ok(Math.abs(noncentralTUpper(c, n - 1, lambda) - want[i]) < 1e-4, `power at ${n} seeds: ${noncentralTUpper(c, n - 1, lambda)}`);
  });
});

test("no effect, one paper claim: 'reproduced' at rate α (and 'not reproduced' at α/2) for 2, 3, 4 and 5 seeds", () => {
  for (const n of SEED_COUNTS) {
    const z = normals(1000 + n);
    let yes = 0;
    let no = 0;
    for (let r = 0; r < REPS; r++) {
      const v = decideClaims([rule('x')], { x: arms(z, n, 0, r) }, { assess: true })[0].verdict;
      if (v === 'reproduced') yes++;
      else if (v === 'not reproduced') no++;
    }
    assert.ok(yes / REPS <= CLAIM_ALPHA + 3 * mcSe(CLAIM_ALPHA), `${n} seeds: false 'reproduced' rate ${yes / REPS}`);
    // The paired t test is exact here, so the rate is α itself, not merely below it; the 95%
    // interval lies wholly below 0 with probability 2.5%.
    assertRate(yes / REPS, CLAIM_ALPHA, `${n} seeds, 'reproduced'`);
    assertRate(no / REPS, CLAIM_ALPHA / 2, `${n} seeds, 'not reproduced'`);
  }
});

test("no effect, a Holm family of three paper claims: any 'reproduced' at most α (family-wise) for 2, 3, 4 and 5 seeds", () => {
  // Three independent null claims: Holm rejects anything only if the smallest p ≤ α/3, so the
  // family-wise rate is 1 − (1 − α/3)³ = 0.0492.
  const fwer = 1 - (1 - CLAIM_ALPHA / 3) ** 3;
  for (const n of SEED_COUNTS) {
    const z = normals(2000 + n);
    let any = 0;
    let each = 0;
    for (let r = 0; r < REPS; r++) {
      const claims = decideClaims([rule('x'), rule('y'), rule('w')], { x: arms(z, n, 0, r), y: arms(z, n, 0, r), w: arms(z, n, 0, r) }, { assess: true });
      const k = claims.filter((c) => c.verdict === 'reproduced').length;
      if (k > 0) any++;
      each += k;
    }
    assert.ok(any / REPS <= CLAIM_ALPHA + 3 * mcSe(CLAIM_ALPHA), `${n} seeds: family-wise false 'reproduced' rate ${any / REPS}`);
    assertRate(any / REPS, fwer, `${n} seeds, family-wise`);
    assert.ok(each / (3 * REPS) <= CLAIM_ALPHA / 3 + 3 * mcSe(CLAIM_ALPHA / 3), `${n} seeds: per-claim rate ${each / (3 * REPS)}`);
  }
});

test("an effect equal to the minimum detectable effect (from the true sd) is 'reproduced' about 80% of the time at 4 and 5 seeds", () => {
  for (const n of [4, 5]) {
    const se = DIFF_SD / Math.sqrt(n);
    const mde = minimumDetectableEffect(se, n - 1, CLAIM_ALPHA);
    const c = studentTQuantile(1 - CLAIM_ALPHA, n - 1);
    // The MDE is (t_{0.95} + t_{0.8})·se, a central-t approximation: the exact power at it is the
    // noncentral-t probability, 0.806 (4 seeds) and 0.807 (5 seeds); it is within 0.01 of 80%.
    const exact = noncentralTUpper(c, n - 1, mde / se);
    assert.ok(Math.abs(exact - 0.8) <= 0.01, `exact power ${exact} at ${n} seeds`);
    const z = normals(3000 + n);
    let yes = 0;
    for (let r = 0; r < REPS; r++) {
      if (decideClaims([rule('x')], { x: arms(z, n, mde, r) }, { assess: true })[0].verdict === 'reproduced') yes++;
    }
    assertRate(yes / REPS, exact, `${n} seeds at the MDE (${mde.toFixed(4)} nats)`);
    assert.ok(Math.abs(yes / REPS - 0.8) <= 0.01 + 3 * mcSe(0.8), `${n} seeds: power ${yes / REPS} vs 0.80`);
  }
});

test("non-inferiority: a true effect exactly at the margin's edge is 'reproduced' at rate α at most", () => {
  const margin = 0.02;
  for (const [n, alternative, effect] of [[3, 'greater', -margin], [5, 'greater', -margin], [4, 'less', margin]] as const) {
    const z = normals(4000 + n);
    let yes = 0;
    for (let r = 0; r < REPS; r++) {
      if (decideClaims([rule('x', { alternative, margin })], { x: arms(z, n, effect, r) }, { assess: true })[0].verdict === 'reproduced') yes++;
    }
    assert.ok(yes / REPS <= CLAIM_ALPHA + 3 * mcSe(CLAIM_ALPHA), `${n} seeds, ${alternative}: rate ${yes / REPS}`);
    assertRate(yes / REPS, CLAIM_ALPHA, `${n} seeds, ${alternative}, effect ${effect} at margin ${margin}`);
  }
});
