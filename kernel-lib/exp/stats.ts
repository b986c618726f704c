/**
 * Small statistics for deciding claims from a few seeds: means with standard errors, a Welch
 * comparison of two groups, and information-theoretic measures of expert specialisation.
 */

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN for n < 2. */
  sd: number;
  /** Standard error of the mean; NaN for n < 2. */
  se: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n: 0, mean: NaN, sd: NaN, se: NaN, min: NaN, max: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { n, mean, sd, se: sd / Math.sqrt(n), min: Math.min(...xs), max: Math.max(...xs) };
}

/** `mean ± se (n = …)`, or the single value when there is one seed. */
export function fmtSummary(s: Summary, digits = 3): string {
  if (s.n === 0) return 'no data';
  if (s.n === 1) return `${s.mean.toFixed(digits)} (1 seed)`;
  return `${s.mean.toFixed(digits)} ± ${s.se.toFixed(digits)} (n = ${s.n})`;
}

export interface Comparison {
  /** mean(a) − mean(b). */
  diff: number;
  /** Standard error of the difference (Welch); NaN when either group has fewer than 2 values. */
  se: number;
  /** diff / se. */
  z: number;
  a: Summary;
  b: Summary;
}

/** Compares two groups of per-seed values (Welch: unequal variances). */
export function compare(a: number[], b: number[]): Comparison {
  const sa = summarize(a);
  const sb = summarize(b);
  const se = Math.sqrt(sa.se ** 2 + sb.se ** 2);
  const diff = sa.mean - sb.mean;
  return { diff, se, z: diff / se, a: sa, b: sb };
}

/**
 * The verdict on "a is larger than b": `yes` when the difference exceeds `k` standard errors,
 * `no` when it is below −k standard errors, `inconclusive` when it is within, or when either
 * group has a single seed (its spread is unknown).
 */
export function verdictGreater(c: Comparison, k = 2): 'yes' | 'no' | 'inconclusive' {
  if (c.a.n < 2 || c.b.n < 2) return 'inconclusive';
  if (c.diff > k * c.se) return 'yes';
  if (c.diff < -k * c.se) return 'no';
  return 'inconclusive';
}

/** The rule text shown beside a verdict from {@link verdictGreater}. */
export const GREATER_RULE = 'yes if the mean difference exceeds 2 standard errors (Welch), no if it is below −2 standard errors, inconclusive otherwise or with one seed';

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

/** A seeded Fisher–Yates shuffle (mulberry32), for shuffled-assignment baselines. */
export function shuffled<T extends ArrayLike<number>>(xs: T, seed: number): number[] {
  const out = Array.from(xs);
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
