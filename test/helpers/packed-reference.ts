// Float64 references for the packed-layout kernels (moe/packed-layout.ts, packed-rows.ts,
// grouped-matmul.ts), written from their documented rules, independent of the library.
import { Rng } from '../../kernel-lib/util/seed.ts';

export type Mat = number[][];

/**
 * k distinct experts per token, row j = every token's (j+1)-th choice: [k][T]. With skew > 0,
 * expert e is drawn with weight exp(-skew·e/E), so low ids overflow and high ids may stay empty.
 */
export function randomChoices(rng: Rng, k: number, T: number, E: number, skew = 0): number[][] {
  const weights = Array.from({ length: E }, (_, e) => Math.exp((-skew * e) / E));
  const rows = Array.from({ length: k }, () => new Array<number>(T));
  for (let t = 0; t < T; t++) {
    const chosen = new Set<number>();
    for (let j = 0; j < k; j++) {
      const total = weights.reduce((s, w, e) => s + (chosen.has(e) ? 0 : w), 0);
      let u = rng.next() * total;
      let pick = -1;
      for (let e = 0; e < E && pick < 0; e++) {
        if (chosen.has(e)) continue;
        u -= weights[e];
        if (u <= 0) pick = e;
      }
      if (pick < 0) pick = [...Array(E).keys()].reverse().find((e) => !chosen.has(e)) as number;
      chosen.add(pick);
      rows[j][t] = pick;
    }
  }
  return rows;
}

/** Slots in priority order ('choice': all 1st choices, then all 2nd, ...; 'token': token by token). */
export function referenceSlots(choices: number[][], E: number, C: number, priority: 'choice' | 'token' = 'choice'): number[][] {
  const k = choices.length;
  const T = choices[0].length;
  const filled = new Array<number>(E).fill(0);
  const slots = choices.map((row) => row.map(() => E * C));
  const order: [number, number][] = [];
  if (priority === 'choice') for (let j = 0; j < k; j++) for (let t = 0; t < T; t++) order.push([j, t]);
  else for (let t = 0; t < T; t++) for (let j = 0; j < k; j++) order.push([j, t]);
  for (const [j, t] of order) {
    const e = choices[j][t];
    if (filled[e] < C) slots[j][t] = e * C + filled[e]++;
  }
  return slots;
}

export interface RefLayout {
  /** [k·T] row of assignment a = j·T + t, -1 dropped */
  rowOf: number[];
  /** [R] assignment in row r, -1 padding or unused */
  assignOf: number[];
  starts: number[];
  kept: number[];
  /** the buffer as the kernel lays it out */
  buffer: number[];
}

/** The padded packed layout for slots [k][T] (e·C + position, E·C dropped). */
export function referenceLayout(slots: number[][], E: number, C: number, tile: number, R: number): RefLayout {
  const flat = slots.flat();
  const kept = new Array<number>(E).fill(0);
  for (const s of flat) if (s < E * C) kept[Math.floor(s / C)]++;
  const starts: number[] = [];
  let at = 0;
  for (let e = 0; e < E; e++) {
    starts.push(at);
    at += Math.ceil(kept[e] / tile) * tile;
  }
  if (at > R) throw new Error(`reference layout: ${at} rows exceed the bound ${R}`);
  const rowOf = flat.map((s) => (s < E * C ? starts[Math.floor(s / C)] + (s % C) : -1));
  const assignOf = new Array<number>(R).fill(-1);
  rowOf.forEach((r, a) => {
    if (r >= 0) assignOf[r] = a;
  });
  return { rowOf, assignOf, starts, kept, buffer: [...rowOf, ...assignOf, ...starts, ...kept] };
}

/** Expert of row r (-1 for padding or unused rows). */
export function expertOfRow(l: RefLayout, r: number): number {
  for (let e = l.starts.length - 1; e >= 0; e--) if (l.starts[e] <= r) return r - l.starts[e] < l.kept[e] ? e : -1;
  return -1;
}

export function randomMat(rng: Rng, rows: number, cols: number): Mat {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround(rng.next() * 2 - 1)));
}

export const dotRows = (u: number[], v: number[]): number => u.reduce((s, x, i) => s + x * v[i], 0);

/** u · m for a row vector u [P] and m [P][Q]. */
export const vecMat = (u: number[], m: Mat): number[] => m[0].map((_, q) => u.reduce((s, x, p) => s + x * m[p][q], 0));

export const transpose = (m: Mat): Mat => m[0].map((_, j) => m.map((row) => row[j]));

export const zerosLike = (m: Mat): Mat => m.map((row) => row.map(() => 0));

/** The scale of assignment a = j·T + t in a [k][T] matrix. */
const at = (m: Mat, a: number): number => m[Math.floor(a / m[0].length)][a % m[0].length];

/** gatherRows: row r = scale[a]·x[t] for its assignment a = j·T + t, 0 for padding. */
export function refGather(l: RefLayout, x: Mat, scale: Mat): Mat {
  const T = x.length;
  return l.assignOf.map((a) => (a < 0 ? x[0].map(() => 0) : x[a % T].map((v) => at(scale, a) * v)));
}

/** combineRows: y[t] = Σ_j scale[j][t]·src[row(j·T + t)] over kept assignments. */
export function refCombine(l: RefLayout, src: Mat, scale: Mat): Mat {
  const [k, T] = [scale.length, scale[0].length];
  return Array.from({ length: T }, (_, t) => {
    const acc = src[0].map(() => 0);
    for (let j = 0; j < k; j++) {
      const r = l.rowOf[j * T + t];
      if (r >= 0) src[r].forEach((v, d) => (acc[d] += scale[j][t] * v));
    }
    return acc;
  });
}

/** rowDots: d[j][t] = src[row(j·T + t)] · y[t], 0 when dropped. */
export function refDots(l: RefLayout, src: Mat, y: Mat, k: number): Mat {
  const T = y.length;
  return Array.from({ length: k }, (_, j) => y.map((row, t) => (l.rowOf[j * T + t] < 0 ? 0 : dotRows(src[l.rowOf[j * T + t]], row))));
}
