// An independent float64 reference of the MoE layer, written from docs/conformance.md only
// (plain loops, no tfjs, no library code), its extensions (a router bias, shared experts)
// included, plus the random-case generator and finite differences the tests use to check the
// library against it.
import { Rng } from '../../kernel-lib/util/seed.ts';

export type RefRouter = 'top1' | 'topk' | 'expert-choice';
export type RefActivation = 'relu' | 'gelu';

export interface RefConfig {
  router: RefRouter;
  /** experts per token (topk); 1 for top1; ignored by expert-choice */
  k: number;
  /** null: no capacity limit */
  capacityFactor: number | null;
  activation: RefActivation;
  balanceCoef: number;
  zCoef: number;
  /**
   * Token-choice slot priority: 'choice' (default, docs/conformance.md: every 1st choice in token
   * order, then every 2nd choice, ...) or 'token' (token 0's choices, then token 1's, ...).
   */
  priority?: 'choice' | 'token';
}

export interface RefInputs {
  /** [T][D] */
  x: number[][];
  /** [D][E] */
  routerWeight: number[][];
  /** [E][D][F] */
  w1: number[][][];
  /** [E][F][D] */
  w2: number[][][];
  /** [E] extension: token choice picks the k largest of probs + routerBias; a constant */
  routerBias?: number[];
  /** [S][D][Fs] extension: shared experts every token passes through, weight 1 */
  sharedW1?: number[][][];
  /** [S][Fs][D] */
  sharedW2?: number[][][];
}

/** One (token, expert) assignment that the router made, kept or not. */
export interface RefAssignment {
  token: number;
  expert: number;
  /** rank of the choice for token choice (0 = first choice); -1 for expert choice */
  rank: number;
  gate: number;
  kept: boolean;
}

export interface RefOutput {
  y: number[][];
  expertIndex: number[];
  expertCounts: number[];
  droppedFraction: number;
  balanceLoss: number;
  zLoss: number;
  logits: number[][];
  probs: number[][];
  /** C, or null when there is no limit */
  capacity: number | null;
  assignments: RefAssignment[];
}

export const dims = (inp: RefInputs): { T: number; D: number; E: number; F: number } => ({
  T: inp.x.length,
  D: inp.x[0].length,
  E: inp.routerWeight[0].length,
  F: inp.w1[0][0].length,
});

/** erf to ~1e-13 for |z| < 6 (Taylor series), ±1 beyond (erfc(6) ≈ 2e-17). */
export function erf(z: number): number {
  if (z > 6) return 1;
  if (z < -6) return -1;
  let sum = 0;
  let term = z; // z^(2n+1) (−1)^n / n!
  for (let n = 0; n < 200; n++) {
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.max(1, Math.abs(sum))) break;
    term *= (-z * z) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export function act(v: number, activation: RefActivation): number {
  return activation === 'relu' ? Math.max(0, v) : 0.5 * v * (1 + erf(v / Math.SQRT2));
}

/** Pre-activations h = v · w1[e] (length F). */
export function preActivation(inp: RefInputs, e: number, v: number[]): number[] {
  const F = inp.w1[e][0].length;
  const h = new Array<number>(F).fill(0);
  for (let d = 0; d < v.length; d++) for (let f = 0; f < F; f++) h[f] += v[d] * inp.w1[e][d][f];
  return h;
}

/** FFN_e(v) = act(v · w1[e]) · w2[e]. */
export function ffn(inp: RefInputs, e: number, v: number[], activation: RefActivation): number[] {
  const h = preActivation(inp, e, v).map((u) => act(u, activation));
  const D = v.length;
  const out = new Array<number>(D).fill(0);
  for (let f = 0; f < h.length; f++) for (let d = 0; d < D; d++) out[d] += h[f] * inp.w2[e][f][d];
  return out;
}

/** Shared expert s's pre-activations v · sharedW1[s] (length Fs). */
export function sharedPreActivation(inp: RefInputs, s: number, v: number[]): number[] {
  const w = inp.sharedW1![s];
  const h = new Array<number>(w[0].length).fill(0);
  for (let d = 0; d < v.length; d++) for (let f = 0; f < h.length; f++) h[f] += v[d] * w[d][f];
  return h;
}

/** Shared expert s: act(v · sharedW1[s]) · sharedW2[s]. */
export function sharedFfn(inp: RefInputs, s: number, v: number[], activation: RefActivation): number[] {
  const h = sharedPreActivation(inp, s, v).map((u) => act(u, activation));
  const out = new Array<number>(v.length).fill(0);
  for (let f = 0; f < h.length; f++) for (let d = 0; d < v.length; d++) out[d] += h[f] * inp.sharedW2![s][f][d];
  return out;
}

export function logitsOf(inp: RefInputs): number[][] {
  const { T, D, E } = dims(inp);
  const out: number[][] = [];
  for (let t = 0; t < T; t++) {
    const row = new Array<number>(E).fill(0);
    for (let d = 0; d < D; d++) for (let e = 0; e < E; e++) row[e] += inp.x[t][d] * inp.routerWeight[d][e];
    out.push(row);
  }
  return out;
}

export function logSumExp(row: number[]): number {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
}

export function softmaxRow(row: number[]): number[] {
  const lse = logSumExp(row);
  return row.map((v) => Math.exp(v - lse));
}

/** Indices sorted by value, largest first; equal values: lower index first. */
export function rankDescending(values: number[]): number[] {
  return values.map((_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
}

/** argmax, lowest index on ties. */
export function argmax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** The capacity C of docs/conformance.md, in float64, as the formulas read; null = no limit. */
export function referenceCapacity(cfg: RefConfig, T: number, E: number): number | null {
  if (cfg.router === 'expert-choice') return cfg.capacityFactor === null ? T : Math.min(T, Math.ceil((cfg.capacityFactor * T) / E));
  if (cfg.capacityFactor === null) return null;
  const k = cfg.router === 'top1' ? 1 : cfg.k;
  return Math.ceil((cfg.capacityFactor * k * T) / E);
}

/** The MoE layer of docs/conformance.md, in float64. */
export function referenceMoe(cfg: RefConfig, inp: RefInputs): RefOutput {
  const { T, D, E } = dims(inp);
  const logits = logitsOf(inp);
  const probs = logits.map(softmaxRow);
  if (inp.routerBias && cfg.router === 'expert-choice') throw new Error('referenceMoe: routerBias is for token-choice routers only');
  // What token choice ranks: probs + routerBias (the extension), probs without one.
  const scores = probs.map((p) => (inp.routerBias ? p.map((v, e) => v + inp.routerBias![e]) : p));
  const expertIndex = scores.map(argmax);
  const y: number[][] = Array.from({ length: T }, () => new Array<number>(D).fill(0));
  const expertCounts = new Array<number>(E).fill(0);
  const assignments: RefAssignment[] = [];
  const capacity = referenceCapacity(cfg, T, E);
  const addFfn = (t: number, e: number, gate: number) => {
    const out = ffn(inp, e, inp.x[t], cfg.activation);
    for (let d = 0; d < D; d++) y[t][d] += gate * out[d];
  };
  let droppedFraction: number;
  if (cfg.router === 'expert-choice') {
    const C = capacity as number;
    const covered = new Array<boolean>(T).fill(false);
    for (let e = 0; e < E; e++) {
      const order = rankDescending(probs.map((p) => p[e]));
      for (const t of order.slice(0, C)) {
        addFfn(t, e, probs[t][e]);
        covered[t] = true;
        expertCounts[e]++;
        assignments.push({ token: t, expert: e, rank: -1, gate: probs[t][e], kept: true });
      }
    }
    droppedFraction = covered.filter((c) => !c).length / T;
  } else {
    const k = cfg.router === 'top1' ? 1 : cfg.k;
    const chosen: number[][] = []; // [T][k]
    const gates: number[][] = []; // [T][k]
    for (let t = 0; t < T; t++) {
      const top = rankDescending(scores[t]).slice(0, k);
      chosen.push(top);
      if (cfg.router === 'top1') gates.push([probs[t][top[0]]]);
      else {
        const s = top.reduce((acc, e) => acc + probs[t][e], 0);
        gates.push(top.map((e) => probs[t][e] / s));
      }
    }
    let dropped = 0;
    // Priority: every token's 1st choice in token order, then every 2nd choice, ...
    // ('token' priority: every choice of token 0, then of token 1, ...)
    const order: [number, number][] = [];
    if ((cfg.priority ?? 'choice') === 'choice') {
      for (let j = 0; j < k; j++) for (let t = 0; t < T; t++) order.push([j, t]);
    } else {
      for (let t = 0; t < T; t++) for (let j = 0; j < k; j++) order.push([j, t]);
    }
    for (const [j, t] of order) {
      const e = chosen[t][j];
      const kept = capacity === null || expertCounts[e] < capacity;
      assignments.push({ token: t, expert: e, rank: j, gate: gates[t][j], kept });
      if (kept) {
        expertCounts[e]++;
        addFfn(t, e, gates[t][j]);
      } else dropped++;
    }
    droppedFraction = dropped / (k * T);
  }
  for (let s = 0; s < (inp.sharedW1?.length ?? 0); s++) {
    for (let t = 0; t < T; t++) {
      const out = sharedFfn(inp, s, inp.x[t], cfg.activation);
      for (let d = 0; d < D; d++) y[t][d] += out[d];
    }
  }
  let balance = 0;
  for (let e = 0; e < E; e++) {
    const f = expertIndex.filter((i) => i === e).length / T;
    const P = probs.reduce((s, p) => s + p[e], 0) / T;
    balance += f * P;
  }
  const zLoss = logits.reduce((s, row) => s + logSumExp(row) ** 2, 0) / T;
  return { y, expertIndex, expertCounts, droppedFraction, balanceLoss: E * balance, zLoss, logits, probs, capacity, assignments };
}

/** L = Σ y·cot + balanceCoef·balanceLoss + zCoef·zLoss (float64). */
export function referenceLoss(cfg: RefConfig, inp: RefInputs, cot: number[][]): number {
  const out = referenceMoe(cfg, inp);
  let s = 0;
  out.y.forEach((row, t) => row.forEach((v, d) => (s += v * cot[t][d])));
  return s + cfg.balanceCoef * out.balanceLoss + cfg.zCoef * out.zLoss;
}

/**
 * Everything discrete about a forward pass: argmax, which assignments were made and kept, and
 * (relu) the sign pattern of every expert pre-activation of every token. Finite differences are
 * only valid where this stays the same at ±h.
 */
export function routingSignature(cfg: RefConfig, inp: RefInputs): string {
  const out = referenceMoe(cfg, inp);
  const parts: string[] = [out.expertIndex.join(','), out.assignments.map((a) => `${a.token}:${a.expert}:${a.rank}:${a.kept ? 1 : 0}`).join(' ')];
  if (cfg.activation === 'relu') {
    for (let e = 0; e < inp.w1.length; e++) {
      for (const v of inp.x) parts.push(preActivation(inp, e, v).map((u) => (u > 0 ? '+' : '-')).join(''));
    }
    for (let s = 0; s < (inp.sharedW1?.length ?? 0); s++) {
      for (const v of inp.x) parts.push(sharedPreActivation(inp, s, v).map((u) => (u > 0 ? '+' : '-')).join(''));
    }
  }
  return parts.join('|');
}

/**
 * True when a routing decision sits within `gap` of a tie in probability: a token's 1st/2nd
 * (expertIndex, top1), any adjacent pair among a token's top k+1 (topk choice and order), or an
 * expert's C-th/(C+1)-th token (expert choice).
 */
export function hasNearTie(cfg: RefConfig, inp: RefInputs, gap = 1e-4): boolean {
  const { T, E } = dims(inp);
  const probs = logitsOf(inp).map(softmaxRow);
  for (const p of probs) {
    // Token choice ranks probs + routerBias.
    const sorted = p.map((v, e) => v + (inp.routerBias?.[e] ?? 0)).sort((a, b) => b - a);
    const depth = cfg.router === 'topk' ? Math.min(cfg.k, E - 1) : 1;
    for (let i = 0; i < depth; i++) if (sorted[i] - sorted[i + 1] < gap) return true;
  }
  if (cfg.router === 'expert-choice') {
    const C = referenceCapacity(cfg, T, E) as number;
    if (C < T) {
      for (let e = 0; e < E; e++) {
        const col = probs.map((p) => p[e]).sort((a, b) => b - a);
        if (col[C - 1] - col[C] < gap) return true;
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------- random cases

/** Standard normal from a seeded Rng (Box–Muller), rounded to float32 so tfjs sees the same numbers. */
export function normal(rng: Rng, scale = 1): number {
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.fround(scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}

export function randomMatrix(rng: Rng, rows: number, cols: number, scale: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => normal(rng, scale)));
}

export interface Shape {
  T: number;
  D: number;
  E: number;
  F: number;
}

/** Random layer and input; router weights scaled so that probabilities are well spread. */
export function randomInputs(rng: Rng, s: Shape, routerScale = 1.5): RefInputs {
  return {
    x: randomMatrix(rng, s.T, s.D, 1),
    routerWeight: randomMatrix(rng, s.D, s.E, routerScale / Math.sqrt(s.D)),
    w1: Array.from({ length: s.E }, () => randomMatrix(rng, s.D, s.F, 1 / Math.sqrt(s.D))),
    w2: Array.from({ length: s.E }, () => randomMatrix(rng, s.F, s.D, 1 / Math.sqrt(s.F))),
  };
}

/** Draws until no routing decision is within `gap` of a tie. */
export function randomCase(cfg: RefConfig, s: Shape, seed: number, gap = 1e-4): { inputs: RefInputs; cotangent: number[][]; draws: number } {
  const rng = new Rng(seed);
  for (let draws = 1; draws <= 1000; draws++) {
    const inputs = randomInputs(rng, s);
    const cotangent = randomMatrix(rng, s.T, s.D, 1);
    if (!hasNearTie(cfg, inputs, gap)) return { inputs, cotangent, draws };
  }
  throw new Error(`randomCase: no tie-free draw for seed ${seed}`);
}

// ---------------------------------------------------------------- finite differences

export type ParamName = 'x' | 'routerWeight' | 'w1' | 'w2' | 'sharedW1' | 'sharedW2';
export const PARAM_NAMES: readonly ParamName[] = ['x', 'routerWeight', 'w1', 'w2'];
/** The parameters with a gradient: PARAM_NAMES, and the shared experts' when the inputs have them (never routerBias). */
export const paramNamesOf = (inp: RefInputs): ParamName[] => [...PARAM_NAMES, ...(inp.sharedW1 ? (['sharedW1', 'sharedW2'] as const) : [])];

export type Nested = number | Nested[];

export function flatten(v: Nested): number[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v];
}

export function cloneInputs(inp: RefInputs): RefInputs {
  return structuredClone(inp);
}

/** Adds `delta` to the i-th entry (row-major) of a parameter, in place. */
export function perturb(inp: RefInputs, name: ParamName, i: number, delta: number): void {
  const walk = (node: Nested[], idx: number): number => {
    for (let j = 0; j < node.length; j++) {
      const child = node[j];
      if (Array.isArray(child)) {
        idx = walk(child, idx);
        if (idx < 0) return -1;
      } else {
        if (idx === 0) {
          node[j] = child + delta;
          return -1;
        }
        idx--;
      }
    }
    return idx;
  };
  if (walk(inp[name] as Nested[], i) >= 0) throw new Error(`perturb: ${name} has no entry ${i}`);
}

export interface FdResult {
  /** central difference of L, or null where the routing changes at ±h */
  fd: (number | null)[];
}

/**
 * Central differences of `referenceLoss` w.r.t. every entry of `name` (or the listed entries),
 * skipping entries whose ±h perturbation changes the routing signature.
 */
export function finiteDifferences(cfg: RefConfig, inp: RefInputs, cot: number[][], name: ParamName, h = 1e-6, entries?: number[]): FdResult {
  const n = flatten(inp[name] as Nested).length;
  const base = routingSignature(cfg, inp);
  const fd: (number | null)[] = new Array<number | null>(n).fill(null);
  for (const i of entries ?? Array.from({ length: n }, (_, j) => j)) {
    const plus = cloneInputs(inp);
    perturb(plus, name, i, h);
    const minus = cloneInputs(inp);
    perturb(minus, name, i, -h);
    if (routingSignature(cfg, plus) !== base || routingSignature(cfg, minus) !== base) continue;
    fd[i] = (referenceLoss(cfg, plus, cot) - referenceLoss(cfg, minus, cot)) / (2 * h);
  }
  return { fd };
}

/** ‖got − expected‖ / ‖expected‖ (absolute when ‖expected‖ = 0), on flattened arrays. */
export function relError(got: Nested, expected: Nested): number {
  const g = flatten(got);
  const e = flatten(expected);
  if (g.length !== e.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < e.length; i++) {
    num += (g[i] - e[i]) ** 2;
    den += e[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}
