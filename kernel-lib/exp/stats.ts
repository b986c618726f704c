/**
 * Statistics for deciding claims from a few seeds: means with standard errors, paired Student's
 * t and Welch tests (with non-inferiority margins), Holm's adjustment, the minimum detectable
 * effect, bootstrap and permutation p-values, the Fisher exact test for divergence counts, and
 * information-theoretic measures of expert specialisation.
 */

import { studentTCdf, studentTQuantile } from './distributions.ts';

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN for n < 2. */
  sd: number;
  /** Standard error of the mean; NaN for n < 2. */
  se: number;
  min: number;
  max: number;
  /**
   * Values left out because they were not finite (NaN, ±∞). A summary for plots and tables; a
   * claim never summarises a diverged run away: it counts as the worst outcome (claims.ts).
   */
  nonFinite: number;
}

/** Mean, spread and range of the finite values (the others are counted in `nonFinite`). */
export function summarize(values: number[]): Summary {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  const nonFinite = values.length - n;
  if (n === 0) return { n: 0, mean: NaN, sd: NaN, se: NaN, min: NaN, max: NaN, nonFinite };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { n, mean, sd, se: sd / Math.sqrt(n), min: Math.min(...xs), max: Math.max(...xs), nonFinite };
}

/** Shannon entropy (nats) of a distribution given by counts. */
export function entropy(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return 0;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    const p = counts[i] / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/**
 * Normalised mutual information between two labelings of the same items,
 * `I(A;B) / sqrt(H(A)·H(B))` (0: independent, 1: each determines the other). 0 when either
 * labeling is constant.
 * @param a label of each item, integers in [0, na).
 * @param b label of each item, integers in [0, nb).
 */
export function normalizedMutualInformation(a: ArrayLike<number>, b: ArrayLike<number>, na: number, nb: number): number {
  if (a.length !== b.length) throw new Error(`normalizedMutualInformation: ${a.length} labels against ${b.length}`);
  const joint = new Float64Array(na * nb);
  const ca = new Float64Array(na);
  const cb = new Float64Array(nb);
  for (let i = 0; i < a.length; i++) {
    joint[a[i] * nb + b[i]]++;
    ca[a[i]]++;
    cb[b[i]]++;
  }
  const ha = entropy(ca);
  const hb = entropy(cb);
  if (ha === 0 || hb === 0) return 0;
  const mi = ha + hb - entropy(joint);
  return Math.max(0, mi) / Math.sqrt(ha * hb);
}

/** A seeded uniform generator on [0, 1) (mulberry32): shuffles, bootstraps and simulations, reproducible by seed. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher–Yates shuffle (mulberry32), for shuffled-assignment baselines. */
export function shuffled<T extends ArrayLike<number>>(xs: T, seed: number): number[] {
  const out = Array.from(xs);
  const rand = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Least-squares slope of y on x and its standard error (NaN with fewer than 3 points). */
export function slopeOf(pts: readonly (readonly [number, number])[]): { slope: number; se: number } {
  const n = pts.length;
  if (n < 3) return { slope: NaN, se: NaN };
  const mx = pts.reduce((a, p) => a + p[0], 0) / n;
  const my = pts.reduce((a, p) => a + p[1], 0) / n;
  const sxx = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  const sxy = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const slope = sxy / sxx;
  const resid = pts.reduce((a, p) => a + (p[1] - my - slope * (p[0] - mx)) ** 2, 0);
  return { slope, se: Math.sqrt(resid / (n - 2) / sxx) };
}


const lnChoose = (n: number, k: number): number => {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
};

/**
 * One-sided Fisher exact test on a 2×2 table of counts: the probability, with both groups'
 * totals and the total number of events fixed, that group A has `a` or more of the events when
 * the groups do not differ (hypergeometric tail). For divergence counts over a few seeds, where
 * no normal approximation holds: with 3 seeds each, only 3 of 3 against 0 of 3 reaches 0.05.
 * @param a events in group A, of `nA` trials; @param b events in group B, of `nB` trials.
 */
export function fisherExactGreater(a: number, nA: number, b: number, nB: number): number {
  for (const [v, what] of [[a, 'a'], [nA, 'nA'], [b, 'b'], [nB, 'nB']] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`fisherExactGreater: ${what} must be a whole number ≥ 0, got ${v}`);
  }
  if (a > nA || b > nB) throw new Error(`fisherExactGreater: events exceed trials (${a} of ${nA}, ${b} of ${nB})`);
  const n = nA + nB;
  const k = a + b;
  const total = lnChoose(n, k);
  let p = 0;
  for (let x = a; x <= Math.min(k, nA); x++) p += Math.exp(lnChoose(nA, x) + lnChoose(nB, k - x) - total);
  return Math.min(1, p);
}

/** Which direction a test asks about: `greater` is "a − b > 0" (or > −margin), `less` is "a − b < 0" (or < margin). */
export type Alternative = 'greater' | 'less' | 'two-sided';

export interface TestOptions {
  alternative: Alternative;
  /**
   * Non-inferiority margin m ≥ 0 (one-sided alternatives only). With `greater` the null is
   * effect ≤ −m (a is worse than b by m or more); with `less` it is effect ≥ m.
   */
  margin?: number;
}

/** A two-sample test's result: effect = mean(a) − mean(b) (paired: mean of a[i] − b[i]). */
export interface TestResult {
  n: number;
  effect: number;
  /** Standard error of the effect. */
  se: number;
  /** Test statistic for the hypothesis asked (margin included). */
  t: number;
  df: number;
  /** p-value of the hypothesis asked (one- or two-sided). */
  pValue: number;
  /** Two-sided 95% confidence interval of the effect, whatever the alternative. */
  ci95: [number, number];
}

function checkTestOptions(o: TestOptions, what: string): number {
  const m = o.margin ?? 0;
  if (!['greater', 'less', 'two-sided'].includes(o.alternative)) throw new Error(`${what}: alternative must be 'greater', 'less' or 'two-sided', got '${String(o.alternative)}'`);
  if (!(m >= 0) || !Number.isFinite(m)) throw new Error(`${what}: margin must be a finite number ≥ 0, got ${m}`);
  if (m > 0 && o.alternative === 'two-sided') throw new Error(`${what}: a margin needs a one-sided alternative ('greater' or 'less'), got margin ${m} with 'two-sided'`);
  return m;
}

/** t statistic, p-value and interval from an effect, its standard error and degrees of freedom. */
function tResult(n: number, effect: number, se: number, df: number, o: TestOptions, margin: number): TestResult {
  const nan: TestResult = { n, effect, se, t: NaN, df, pValue: NaN, ci95: [NaN, NaN] };
  if (!Number.isFinite(effect) || !(df > 0) || !Number.isFinite(se)) return nan;
  // The hypothesis asked shifts the null by the margin: greater → effect + m > 0; less → effect − m < 0.
  const shifted = o.alternative === 'greater' ? effect + margin : o.alternative === 'less' ? effect - margin : effect;
  if (se === 0) {
    // Every difference equal: no sampling spread, the sign decides.
    const t = shifted === 0 ? 0 : shifted > 0 ? Infinity : -Infinity;
    const p = o.alternative === 'greater' ? (shifted > 0 ? 0 : 1) : o.alternative === 'less' ? (shifted < 0 ? 0 : 1) : shifted === 0 ? 1 : 0;
    return { n, effect, se, t, df, pValue: p, ci95: [effect, effect] };
  }
  const t = shifted / se;
  const pValue = o.alternative === 'greater' ? 1 - studentTCdf(t, df) : o.alternative === 'less' ? studentTCdf(t, df) : 2 * (1 - studentTCdf(Math.abs(t), df));
  const q = studentTQuantile(0.975, df);
  return { n, effect, se, t, df, pValue: Math.min(1, Math.max(0, pValue)), ci95: [effect - q * se, effect + q * se] };
}

function checkValues(xs: number[], what: string): void {
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) throw new Error(`${what}: value ${i} is ${xs[i]}; a diverged run must be given a finite worst-case value (see qualityOrUniform), never dropped`);
  }
}

/**
 * Paired Student's t test on per-seed values of two arms: a[i] and b[i] share seed i (and with
 * it the data order, the evaluation batches and the initial weights of the layers both arms
 * have; test/stats-paired.test.ts). t on the differences with n − 1 degrees of freedom.
 * @param a float64[n] values of arm a, one per seed; @param b float64[n] the same seeds of arm b.
 */
export function pairedTest(a: number[], b: number[], o: TestOptions): TestResult {
  const margin = checkTestOptions(o, 'pairedTest');
  if (a.length !== b.length) throw new Error(`pairedTest: arms differ in length (${a.length} vs ${b.length}): each value needs its same-seed partner`);
  checkValues(a, 'pairedTest (a)');
  checkValues(b, 'pairedTest (b)');
  const d = a.map((v, i) => v - b[i]);
  const s = summarize(d);
  return tResult(s.n, s.mean, s.se, s.n - 1, o, margin);
}

/**
 * Welch's t test for two arms that cannot be paired (unequal variances; Welch–Satterthwaite
 * degrees of freedom). n is the smaller arm's size.
 */
export function welchTest(a: number[], b: number[], o: TestOptions): TestResult {
  const margin = checkTestOptions(o, 'welchTest');
  checkValues(a, 'welchTest (a)');
  checkValues(b, 'welchTest (b)');
  const sa = summarize(a);
  const sb = summarize(b);
  const n = Math.min(sa.n, sb.n);
  const va = sa.se ** 2;
  const vb = sb.se ** 2;
  const se = Math.sqrt(va + vb);
  // Welch–Satterthwaite, (va + vb)² / (va²/(nA − 1) + vb²/(nB − 1)), written in each arm's share of
  // the variance so that it cannot underflow: va² is 0 below va ≈ 1e-162, and 0/0 gave NaN.
  const wa = va / (va + vb);
  const wb = vb / (va + vb);
  const df = 1 / (wa ** 2 / (sa.n - 1) + wb ** 2 / (sb.n - 1));
  return tResult(n, sa.mean - sb.mean, se, se === 0 ? Math.max(1, sa.n + sb.n - 2) : df, o, margin);
}

/**
 * Minimum detectable effect of a one-sided t test at level `alpha` with power `power`, given the
 * effect's standard error and degrees of freedom: (t_{1−α} + t_{power}) · se (the usual
 * central-t approximation; the calibration test measures the power it gives).
 */
export function minimumDetectableEffect(se: number, df: number, alpha = 0.05, power = 0.8): number {
  if (!Number.isFinite(se) || !(df > 0)) return NaN;
  return (studentTQuantile(1 - alpha, df) + studentTQuantile(power, df)) * se;
}

/**
 * Holm's step-down adjustment of a family of p-values (controls the family-wise error rate).
 * NaN p-values (a claim with no data) are left NaN and do not count in the family.
 */
export function holmAdjust(pValues: number[]): number[] {
  const idx = pValues.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p)).sort((x, y) => x[0] - y[0]);
  const m = idx.length;
  const out = pValues.map(() => NaN);
  let running = 0;
  idx.forEach(([p, i], j) => {
    running = Math.max(running, Math.min(1, (m - j) * p));
    out[i] = running;
  });
  return out;
}

/**
 * Percentile bootstrap interval of a statistic over resampled seeds (each resample draws n of
 * the n seeds with replacement, keeping each seed's values together).
 * @param perSeed the items to resample (one per seed); @param stat the statistic of a resample.
 */
export function bootstrapCi<T>(perSeed: T[], stat: (sample: T[]) => number, o: { resamples?: number; seed?: number; level?: number } = {}): [number, number] {
  const B = o.resamples ?? 2000;
  const level = o.level ?? 0.95;
  if (perSeed.length < 2) return [NaN, NaN];
  const rand = mulberry32(o.seed ?? 0);
  const stats: number[] = [];
  for (let b = 0; b < B; b++) {
    const sample = perSeed.map(() => perSeed[Math.floor(rand() * perSeed.length)]);
    const v = stat(sample);
    if (Number.isFinite(v)) stats.push(v);
  }
  if (stats.length < B / 2) return [NaN, NaN];
  stats.sort((x, y) => x - y);
  const at = (q: number) => stats[Math.min(stats.length - 1, Math.max(0, Math.floor(q * stats.length)))];
  return [at((1 - level) / 2), at(1 - (1 - level) / 2)];
}

/**
 * Permutation p-value of an observed statistic against `n` draws under the null (each draw one
 * shuffle): (1 + #{draws ≥ observed}) / (1 + n), which is exact and never 0; the smallest it
 * can be is 1 / (1 + n), so n must be at least 1/α − 1 for a test at level α.
 */
export function permutationPValue(observed: number, draw: (i: number) => number, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`permutationPValue: shuffles must be a whole number ≥ 1, got ${n}`);
  let atLeast = 0;
  for (let i = 0; i < n; i++) if (draw(i) >= observed) atLeast++;
  return (1 + atLeast) / (1 + n);
}
