/**
 * Conformance cases (docs/conformance.md; fixtures in test/fixtures/conformance): one MoE layer
 * on one group, with the answer from an independent float64 implementation; optionally with a
 * router bias or shared experts (the format's extensions).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ACTIVATIONS, biasRefusedBecause, ROUTER_NAMES, type Activation, type RouterName } from '../moe/config.ts';

export interface CaseConfig {
  router: RouterName;
  k: number;
  capacityFactor: number | null;
  activation: Activation;
  balanceCoef: number;
  zCoef: number;
}

export interface CaseGrads {
  x: number[][];
  routerWeight: number[][];
  w1: number[][][];
  w2: number[][][];
  /** [S][D][Fs], when the case has shared experts */
  sharedW1?: number[][][];
  /** [S][Fs][D], with sharedW1 */
  sharedW2?: number[][][];
}

/** The output fields, as the reference writes them. */
export interface CaseOutput {
  y: number[][];
  expertIndex: number[];
  expertCounts: number[];
  droppedFraction: number;
  balanceLoss: number;
  zLoss: number;
  grads?: CaseGrads;
}

export interface ConformanceCase {
  name: string;
  config: CaseConfig;
  /** [T][D] */
  x: number[][];
  /** [D][E] */
  routerWeight: number[][];
  /** [E][D][F] */
  w1: number[][][];
  /** [E][F][D] */
  w2: number[][][];
  /** [T][D], when gradients are asked for */
  cotangent?: number[][];
  /** [E], token-choice routers only: added to probs to choose experts (extension) */
  routerBias?: number[];
  /** [S][D][Fs] shared experts' input projections (extension) */
  sharedW1?: number[][][];
  /** [S][Fs][D] shared experts' output projections, with sharedW1 */
  sharedW2?: number[][][];
  expected?: CaseOutput;
  /** S = 0 and Fs = 0 without shared experts. */
  dims: { T: number; D: number; E: number; F: number; S: number; Fs: number };
}

class CaseError extends Error {}

function fail(name: string, msg: string): never {
  throw new CaseError(`conformance case ${name}: ${msg}`);
}

/** Checks that `v` is a finite-number array of the given shape; returns it typed. */
function tensorField(name: string, field: string, v: unknown, shape: (number | null)[]): number[] {
  const dims: number[] = [];
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number' || !Number.isFinite(node)) fail(name, `${path} must be a finite number, got ${JSON.stringify(node)}`);
      return;
    }
    if (!Array.isArray(node)) fail(name, `${path} must be an array (rank ${shape.length} expected for '${field}'), got ${JSON.stringify(node)?.slice(0, 40)}`);
    const want = dims[depth] ?? shape[depth];
    if (want !== null && want !== undefined && node.length !== want) fail(name, `${path} has ${node.length} entries, expected ${want}`);
    if (dims[depth] === undefined) dims[depth] = node.length;
    if (node.length === 0) fail(name, `${path} is empty`);
    node.forEach((child, i) => walk(child, depth + 1, `${path}[${i}]`));
  };
  walk(v, 0, field);
  return dims;
}

const CASE_KEYS = ['config', 'x', 'routerWeight', 'w1', 'w2', 'cotangent', 'routerBias', 'sharedW1', 'sharedW2', 'expected'];
const CONFIG_KEYS = ['router', 'k', 'capacityFactor', 'activation', 'balanceCoef', 'zCoef'];
const EXPECTED_KEYS = ['y', 'expertIndex', 'expertCounts', 'droppedFraction', 'balanceLoss', 'zLoss', 'grads'];
const GRAD_KEYS = ['x', 'routerWeight', 'w1', 'w2'];
/** The gradients a case with shared experts adds. */
const SHARED_GRAD_KEYS = ['sharedW1', 'sharedW2'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Rejects keys outside `known` (a misspelt field would otherwise be silently ignored). */
function onlyKeys(name: string, where: string, o: Record<string, unknown>, known: string[]): void {
  const extra = Object.keys(o).filter((k) => !known.includes(k));
  if (extra.length) fail(name, `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${where}${k}'`).join(', ')} (known: ${known.join(', ')})`);
}

function finiteNumber(name: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(name, `${field} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/** Validates the `expected` answer against the case's dimensions; every field is required (docs/conformance.md). */
function parseExpected(name: string, v: unknown, dims: ConformanceCase['dims'], withGrads: boolean): CaseOutput {
  if (!isObject(v)) fail(name, `'expected' must be an object with ${EXPECTED_KEYS.join(', ')}, got ${JSON.stringify(v)?.slice(0, 40)}`);
  onlyKeys(name, 'expected.', v, EXPECTED_KEYS);
  const { T, D, E, F, S, Fs } = dims;
  for (const f of EXPECTED_KEYS) if (!(f in v) && (f !== 'grads' || withGrads)) fail(name, `missing field 'expected.${f}'`);
  tensorField(name, 'expected.y', v.y, [T, D]);
  tensorField(name, 'expected.expertIndex', v.expertIndex, [T]);
  tensorField(name, 'expected.expertCounts', v.expertCounts, [E]);
  (v.expertIndex as number[]).forEach((e, t) => {
    if (!Number.isInteger(e) || e < 0 || e >= E) fail(name, `expected.expertIndex[${t}] must be an expert index in [0, ${E}), got ${e}`);
  });
  (v.expertCounts as number[]).forEach((c, e) => {
    if (!Number.isInteger(c) || c < 0) fail(name, `expected.expertCounts[${e}] must be a count (integer ≥ 0), got ${c}`);
  });
  for (const f of ['droppedFraction', 'balanceLoss', 'zLoss']) finiteNumber(name, `expected.${f}`, v[f]);
  if ('grads' in v) {
    if (!withGrads) fail(name, `'expected.grads' is given but the case has no 'cotangent' to take gradients along`);
    const g = v.grads;
    const keys = S > 0 ? [...GRAD_KEYS, ...SHARED_GRAD_KEYS] : GRAD_KEYS;
    if (!isObject(g)) fail(name, `'expected.grads' must be an object with ${keys.join(', ')}`);
    onlyKeys(name, 'expected.grads.', g, keys);
    for (const f of keys) if (!(f in g)) fail(name, `missing field 'expected.grads.${f}'${S > 0 ? ' (the case has shared experts)' : ''}`);
    tensorField(name, 'expected.grads.x', g.x, [T, D]);
    tensorField(name, 'expected.grads.routerWeight', g.routerWeight, [D, E]);
    tensorField(name, 'expected.grads.w1', g.w1, [E, D, F]);
    tensorField(name, 'expected.grads.w2', g.w2, [E, F, D]);
    if (S > 0) {
      tensorField(name, 'expected.grads.sharedW1', g.sharedW1, [S, D, Fs]);
      tensorField(name, 'expected.grads.sharedW2', g.sharedW2, [S, Fs, D]);
    }
  }
  return v as unknown as CaseOutput;
}

/**
 * D appears in x, routerWeight, w1 and w2. When the three weights agree on it and x does not,
 * the error names x (the fields are otherwise checked in order, against x's width).
 */
function blameWidth(name: string, o: Record<string, unknown>): void {
  const at = (v: unknown, ...path: number[]): unknown => path.reduce<unknown>((n, i) => (Array.isArray(n) ? n[i] : undefined), v);
  const len = (v: unknown) => (Array.isArray(v) ? v.length : undefined);
  const dx = len(at(o.x, 0));
  const weights = [len(o.routerWeight), len(at(o.w1, 0)), len(at(o.w2, 0, 0))];
  if (dx !== undefined && weights[0] !== undefined && weights.every((d) => d === weights[0]) && dx !== weights[0]) {
    fail(name, `x has rows of ${dx} entries, but routerWeight, w1 and w2 have D = ${weights[0]}: x must be [T, ${weights[0]}]`);
  }
}

/** Checks sharedW1 [S][D][Fs] and sharedW2 [S][Fs][D] (both or neither); returns [S, Fs], [0, 0] without them. */
function sharedDims(name: string, o: Record<string, unknown>, D: number): [number, number] {
  const has1 = o.sharedW1 !== undefined;
  const has2 = o.sharedW2 !== undefined;
  if (!has1 && !has2) return [0, 0];
  if (has1 !== has2) fail(name, `'${has1 ? 'sharedW1' : 'sharedW2'}' is given without '${has1 ? 'sharedW2' : 'sharedW1'}': shared experts need both (sharedW1 [S][D][Fs], sharedW2 [S][Fs][D])`);
  const len = (v: unknown) => (Array.isArray(v) ? v.length : undefined);
  const d1 = len((o.sharedW1 as unknown[])?.[0]);
  if (d1 !== undefined && d1 !== D) fail(name, `sharedW1[0] has ${d1} rows, but x has D = ${D}: sharedW1 must be [S][${D}][Fs]`);
  const [S, , Fs] = tensorField(name, 'sharedW1', o.sharedW1, [null, D, null]);
  tensorField(name, 'sharedW2', o.sharedW2, [S, Fs, D]);
  return [S, Fs];
}

/** Parses and validates a case object; errors name the case, the field and the bad value. */
export function parseCase(raw: unknown, name: string): ConformanceCase {
  if (!isObject(raw)) fail(name, 'must be a JSON object');
  const o = raw;
  onlyKeys(name, '', o, CASE_KEYS);
  for (const f of ['config', 'x', 'routerWeight', 'w1', 'w2']) if (!(f in o)) fail(name, `missing field '${f}'`);
  const c = o.config;
  if (!isObject(c)) fail(name, `'config' must be an object`);
  onlyKeys(name, 'config.', c, CONFIG_KEYS);
  if (!(ROUTER_NAMES as readonly unknown[]).includes(c.router)) fail(name, `config.router '${String(c.router)}' is not one of ${ROUTER_NAMES.join(', ')}`);
  const k = c.k ?? 1;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) fail(name, `config.k must be an integer ≥ 1, got ${JSON.stringify(k)}`);
  const cf = c.capacityFactor;
  if (cf !== null && (typeof cf !== 'number' || !(cf > 0) || !Number.isFinite(cf))) fail(name, `config.capacityFactor must be a number > 0 or null, got ${JSON.stringify(cf)}`);
  const act = c.activation ?? 'relu';
  if (!(ACTIVATIONS as readonly unknown[]).includes(act)) fail(name, `config.activation '${String(act)}' is not one of ${ACTIVATIONS.join(', ')}`);
  for (const f of ['balanceCoef', 'zCoef']) {
    const v = c[f] ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(name, `config.${f} must be a number, got ${JSON.stringify(c[f])}`);
  }
  blameWidth(name, o);
  const [T, D] = tensorField(name, 'x', o.x, [null, null]);
  const [, E] = tensorField(name, 'routerWeight', o.routerWeight, [D, null]);
  const [, , F] = tensorField(name, 'w1', o.w1, [E, D, null]);
  tensorField(name, 'w2', o.w2, [E, F, D]);
  if (o.cotangent !== undefined) tensorField(name, 'cotangent', o.cotangent, [T, D]);
  if (c.router !== 'expert-choice' && (k as number) > E) fail(name, `config.k = ${k} exceeds the number of experts E = ${E}`);
  if (c.router === 'top1' && k !== 1) fail(name, `config.k = ${k} with router top1 (top1 routes to exactly 1 expert)`);
  if (o.routerBias !== undefined) {
    const why = biasRefusedBecause(c.router as RouterName);
    if (why) fail(name, `routerBias ${JSON.stringify(o.routerBias)?.slice(0, 80)} is given, but ${why}`);
    tensorField(name, 'routerBias', o.routerBias, [E]);
  }
  const [S, Fs] = sharedDims(name, o, D);
  const dims = { T, D, E, F, S, Fs };
  const expected = 'expected' in o ? parseExpected(name, o.expected, dims, o.cotangent !== undefined) : undefined;
  return {
    name,
    config: {
      router: c.router as RouterName,
      k: c.router === 'expert-choice' ? 1 : (k as number),
      capacityFactor: cf as number | null,
      activation: act as Activation,
      balanceCoef: (c.balanceCoef ?? 0) as number,
      zCoef: (c.zCoef ?? 0) as number,
    },
    x: o.x as number[][],
    routerWeight: o.routerWeight as number[][],
    w1: o.w1 as number[][][],
    w2: o.w2 as number[][][],
    cotangent: o.cotangent as number[][] | undefined,
    ...(o.routerBias !== undefined ? { routerBias: o.routerBias as number[] } : {}),
    ...(S > 0 ? { sharedW1: o.sharedW1 as number[][][], sharedW2: o.sharedW2 as number[][][] } : {}),
    expected,
    dims,
  };
}

/** Reads a case file; errors name the file. */
export function readCase(path: string): ConformanceCase {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`conformance case ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`conformance case ${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseCase(raw, basename(path));
}
