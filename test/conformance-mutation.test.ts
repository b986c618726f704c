/**
 * The conformance verdict (kernel-lib/conformance/run.ts: relativeError, checkCase) shown to reject
 * wrong answers, each at the edge of its tolerance (docs/conformance.md: relative 1e-4 for
 * tensors, absolute 1e-5 for scalars, exact for indices and counts), and the real fixtures run
 * on cpu judged right, then wrong once one number of the answer is changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseCase, readCase, type CaseOutput } from '../kernel-lib/conformance/case.ts';
import { checkCase, relativeError, runCase, TOLERANCE } from '../kernel-lib/conformance/run.ts';

/** A reference answer with norms easy to work with: ‖y‖ = 5 (a 3-4-5 triangle), grads of norm 1. */
function expected(): CaseOutput {
  return {
    y: [
      [3, 0],
      [0, 4],
    ],
    expertIndex: [0, 1],
    expertCounts: [1, 1],
    droppedFraction: 0.25,
    balanceLoss: 1.5,
    zLoss: 0.5,
    grads: { x: [[1, 0], [0, 0]], routerWeight: [[0, 1], [0, 0]], w1: [[[1]], [[0]]], w2: [[[0]], [[1]]] },
  };
}
const clone = (o: CaseOutput): CaseOutput => structuredClone(o);

test('the tolerances are those of docs/conformance.md', () => assert.deepEqual(TOLERANCE, { relative: 1e-4, absolute: 1e-5 }));

test('relativeError: ‖got − expected‖/‖expected‖, absolute when expected is 0, Infinity on a size mismatch', () => {
  assert.equal(relativeError([[3, 0], [0, 4]], [[3, 0], [0, 4]]), 0);
  assert.equal(relativeError([[3, 0], [0, 5]], [[3, 0], [0, 4]]), 1 / 5); // ‖(0,0,0,1)‖ / 5
  assert.equal(relativeError([[6, 0], [0, 8]], [[3, 0], [0, 4]]), 1); // twice the answer
  assert.equal(relativeError([3, 4], [0, 0]), 5); // no norm to divide by: the absolute error
  assert.equal(relativeError([1, 2, 3], [1, 2]), Infinity);
  assert.equal(relativeError([1, 2], [1, 2, 3]), Infinity);
  assert.equal(relativeError(2, 4), 0.5); // a scalar is a one-element tensor
});

test('checkCase accepts the answer itself and one within every tolerance', () => {
  const e = expected();
  const same = checkCase(clone(e), e);
  assert.deepEqual(same, {
    pass: true,
    failures: [],
    errors: { y: 0, expertIndex: 0, expertCounts: 0, droppedFraction: 0, balanceLoss: 0, zLoss: 0, 'grads.x': 0, 'grads.routerWeight': 0, 'grads.w1': 0, 'grads.w2': 0 },
  });
  const g = clone(e);
  g.y[1][1] = 4 + 4.9e-4; // relative 0.98e-4 ≤ 1e-4
  g.droppedFraction += 0.9e-5;
  g.balanceLoss -= 0.9e-5;
  g.zLoss += 0.9e-5;
  g.grads!.w2[1][0][0] = 1 + 0.99e-4;
  const c = checkCase(g, e);
  assert.equal(c.pass, true, c.failures.join('; '));
  assert.ok(Math.abs(c.errors.y - 0.98e-4) < 1e-12, `${c.errors.y}`);
  assert.ok(Math.abs(c.errors.zLoss - 0.9e-5) < 1e-12, `${c.errors.zLoss}`);
});

test('checkCase rejects a tensor just past 1e-4 relative, naming the field and both numbers', () => {
  const e = expected();
  const g = clone(e);
  g.y[1][1] = 4 + 5.1e-4; // relative 1.02e-4
  const c = checkCase(g, e);
  assert.equal(c.pass, false);
  assert.deepEqual(c.failures, ['y: relative error 1.02e-4 > 0.0001']);
  for (const f of ['x', 'routerWeight', 'w1', 'w2'] as const) {
    const h = clone(e);
    // bump the one 1 of that gradient by 1.1e-4 (relative 1.1e-4 of a norm-1 tensor)
    if (f === 'w1') h.grads!.w1[0][0][0] += 1.1e-4;
    else if (f === 'w2') h.grads!.w2[1][0][0] += 1.1e-4;
    else if (f === 'x') h.grads!.x[0][0] += 1.1e-4;
    else h.grads!.routerWeight[0][1] += 1.1e-4;
    const ch = checkCase(h, e);
    assert.equal(ch.pass, false, f);
    assert.deepEqual(ch.failures, [`grads.${f}: relative error 1.10e-4 > 0.0001`]);
  }
});

test('checkCase rejects a scalar just past 1e-5 absolute, in either direction', () => {
  for (const f of ['droppedFraction', 'balanceLoss', 'zLoss'] as const) {
    for (const sign of [1, -1]) {
      const e = expected();
      const g = clone(e);
      g[f] = e[f] + sign * 1.1e-5;
      const c = checkCase(g, e);
      assert.equal(c.pass, false, `${f} ${sign}`);
      assert.equal(c.failures.length, 1);
      assert.match(c.failures[0], new RegExp(`^${f}: got ${g[f]}, expected ${e[f]} \\(\\|Δ\\| 1\\.10e-5 > 0\\.00001\\)$`));
      assert.ok(Math.abs(c.errors[f] - 1.1e-5) < 1e-12);
    }
  }
  // a NaN is never within tolerance
  const g = clone(expected());
  g.zLoss = NaN;
  assert.equal(checkCase(g, expected()).pass, false);
  const h = clone(expected());
  h.y[0][0] = NaN;
  assert.deepEqual(checkCase(h, expected()).failures, ['y: relative error NaN > 0.0001']);
});

test('checkCase: expert indices and counts must match exactly, length included', () => {
  const e = expected();
  const wrong: [keyof CaseOutput, number[], string][] = [
    ['expertIndex', [1, 1], 'expertIndex: got [1,1], expected [0,1]'],
    ['expertIndex', [0, 1, 0], 'expertIndex: got [0,1,0], expected [0,1]'],
    ['expertIndex', [0], 'expertIndex: got [0], expected [0,1]'],
    ['expertCounts', [1, 0], 'expertCounts: got [1,0], expected [1,1]'],
    ['expertCounts', [1, 1, 0], 'expertCounts: got [1,1,0], expected [1,1]'],
  ];
  for (const [f, v, msg] of wrong) {
    const g = clone(e);
    (g as unknown as Record<string, number[]>)[f] = v;
    const c = checkCase(g, e);
    assert.equal(c.pass, false, msg);
    assert.deepEqual(c.failures, [msg]);
    assert.equal(c.errors[f], 1);
  }
});

test('checkCase: gradients asked for and not computed fail; gradients not asked for are not judged', () => {
  const e = expected();
  const g = clone(e);
  delete g.grads;
  assert.deepEqual(checkCase(g, e).failures, ['grads: expected gradients, none computed (case has no cotangent?)']);
  const noGrads = clone(e);
  delete noGrads.grads;
  const withWrongGrads = clone(e);
  withWrongGrads.grads!.x[0][0] = 100;
  const c = checkCase(withWrongGrads, noGrads);
  assert.equal(c.pass, true);
  assert.deepEqual(Object.keys(c.errors), ['y', 'expertIndex', 'expertCounts', 'droppedFraction', 'balanceLoss', 'zLoss']);
  // several wrong fields: one line each, in field order
  const many = clone(e);
  many.y[0][0] = 30;
  many.expertCounts = [2, 0];
  many.zLoss = 1;
  assert.deepEqual(
    checkCase(many, e).failures.map((l) => l.split(':')[0]),
    ['y', 'expertCounts', 'zLoss'],
  );
});

test('the fixtures on cpu: the computed answer passes, the same answer with one number changed fails', async () => {
  await tf.setBackend('cpu');
  const dir = join(import.meta.dirname, 'fixtures', 'conformance');
  assert.ok(readdirSync(dir).includes('top2-basic.json'));
  const c = readCase(join(dir, 'top2-basic.json'));
  const got = await runCase(c);
  assert.equal(checkCase(got, c.expected!).pass, true, checkCase(got, c.expected!).failures.join('; '));
  const wrong = structuredClone(got);
  wrong.y[0][0] += 1e-2 * Math.max(1, Math.abs(wrong.y[0][0])) * Math.sqrt(wrong.y.flat().length);
  assert.equal(checkCase(wrong, c.expected!).pass, false);
  const otherExpert = structuredClone(got);
  otherExpert.expertIndex[0] = (got.expertIndex[0] + 1) % c.dims.E;
  assert.deepEqual(checkCase(otherExpert, c.expected!).failures.map((l) => l.split(':')[0]), ['expertIndex']);
});

// ---- parseCase: every rule of docs/conformance.md's case format, with the exact message

/** A valid case: T = 2 tokens, D = 2, E = 2 experts, F = 1, with a cotangent and a full answer. */
function goodCase(): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return {
    config: { router: 'topk', k: 2, capacityFactor: 1.5, activation: 'gelu', balanceCoef: 0.5, zCoef: 0.25 },
    x: [[1, 2], [3, 4]],
    routerWeight: [[1, 0], [0, 1]],
    w1: [[[1], [2]], [[3], [4]]],
    w2: [[[1, 2]], [[3, 4]]],
    cotangent: [[1, 0], [0, 1]],
    expected: {
      y: [[0, 1], [2, 3]],
      expertIndex: [1, 0],
      expertCounts: [2, 2],
      droppedFraction: 0,
      balanceLoss: 1,
      zLoss: 2,
      grads: { x: [[1, 1], [1, 1]], routerWeight: [[0, 0], [0, 0]], w1: [[[1], [1]], [[1], [1]]], w2: [[[1, 1]], [[1, 1]]] },
    },
  };
}
const errorOf = (raw: unknown): string => {
  try {
    parseCase(raw, 'c');
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};
const P = 'conformance case c: ';

test('parseCase: a valid case with every field, and the defaults of the optional config fields', () => {
  const c = parseCase(goodCase(), 'c');
  assert.deepEqual(c.dims, { T: 2, D: 2, E: 2, F: 1, S: 0, Fs: 0 });
  assert.deepEqual(c.config, { router: 'topk', k: 2, capacityFactor: 1.5, activation: 'gelu', balanceCoef: 0.5, zCoef: 0.25 });
  assert.equal(c.name, 'c');
  assert.deepEqual(c.cotangent, [[1, 0], [0, 1]]);
  assert.deepEqual(c.expected!.expertIndex, [1, 0]);
  const minimal = goodCase();
  minimal.config = { router: 'top1', capacityFactor: null };
  delete minimal.cotangent;
  delete minimal.expected;
  const m = parseCase(minimal, 'm');
  assert.deepEqual(m.config, { router: 'top1', k: 1, capacityFactor: null, activation: 'relu', balanceCoef: 0, zCoef: 0 });
  assert.equal(m.cotangent, undefined);
  assert.equal(m.expected, undefined);
  // expert choice ignores k (each expert picks tokens), even one above E
  const ec = goodCase();
  ec.config = { router: 'expert-choice', k: 5, capacityFactor: 1 };
  assert.equal(parseCase(ec, 'e').config.k, 1);
  // an answer without gradients is fine when the case has no cotangent
  const noGrads = goodCase();
  delete noGrads.cotangent;
  delete noGrads.expected.grads;
  assert.equal(parseCase(noGrads, 'n').expected!.grads, undefined);
});

test('parseCase refuses a malformed case, naming the case, the field and the value', () => {
  const cases: [string, (o: Record<string, any>) => unknown, string][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ['not an object', () => null, 'must be a JSON object'],
    ['an array', () => [], 'must be a JSON object'],
    ['unknown field', (o) => ((o.extra = 1), o), "unknown field 'extra' (known: config, x, routerWeight, w1, w2, cotangent, routerBias, sharedW1, sharedW2, expected)"],
    ['unknown fields', (o) => ((o.a = 1), (o.b = 2), o), "unknown fields 'a', 'b' (known: config, x, routerWeight, w1, w2, cotangent, routerBias, sharedW1, sharedW2, expected)"],
    ['missing x', (o) => (delete o.x, o), "missing field 'x'"],
    ['missing w2', (o) => (delete o.w2, o), "missing field 'w2'"],
    ['config not an object', (o) => ((o.config = 'top1'), o), "'config' must be an object"],
    ['config array', (o) => ((o.config = []), o), "'config' must be an object"],
    ['unknown config key', (o) => ((o.config.seed = 1), o), "unknown field 'config.seed' (known: router, k, capacityFactor, activation, balanceCoef, zCoef)"],
    ['router', (o) => ((o.config.router = 'top2'), o), "config.router 'top2' is not one of top1, topk, expert-choice"],
    ['k 0', (o) => ((o.config.k = 0), o), 'config.k must be an integer ≥ 1, got 0'],
    ['k 1.5', (o) => ((o.config.k = 1.5), o), 'config.k must be an integer ≥ 1, got 1.5'],
    ['k string', (o) => ((o.config.k = '2'), o), 'config.k must be an integer ≥ 1, got "2"'],
    ['capacityFactor 0', (o) => ((o.config.capacityFactor = 0), o), 'config.capacityFactor must be a number > 0 or null, got 0'],
    ['capacityFactor string', (o) => ((o.config.capacityFactor = '1'), o), 'config.capacityFactor must be a number > 0 or null, got "1"'],
    ['capacityFactor missing', (o) => (delete o.config.capacityFactor, o), 'config.capacityFactor must be a number > 0 or null, got undefined'],
    ['activation', (o) => ((o.config.activation = 'tanh'), o), "config.activation 'tanh' is not one of relu, gelu"],
    ['balanceCoef', (o) => ((o.config.balanceCoef = 'x'), o), 'config.balanceCoef must be a number, got "x"'],
    ['zCoef', (o) => ((o.config.zCoef = Infinity), o), 'config.zCoef must be a number, got null'], // JSON has no Infinity: it prints as null
    ['empty x', (o) => ((o.x = []), o), 'x is empty'],
    ['empty rows', (o) => ((o.x = [[], []]), o), 'x has rows of 0 entries, but routerWeight, w1 and w2 have D = 2: x must be [T, 2]'],
    ['x too wide', (o) => ((o.x = [[1, 2, 3], [4, 5, 6]]), o), 'x has rows of 3 entries, but routerWeight, w1 and w2 have D = 2: x must be [T, 2]'],
    ['weights disagree on D: checked field by field against x', (o) => (o.routerWeight.push([0, 0]), o), 'routerWeight has 3 entries, expected 2'],
    ['w1 disagrees', (o) => ((o.w1 = [[[1]], [[3]]]), o), 'w1[0] has 1 entries, expected 2'],
    ['x rank', (o) => ((o.x = [1, 2]), o), "x[0] must be an array (rank 2 expected for 'x'), got 1"],
    ['x not an array', (o) => ((o.x = 'ab'), o), `x must be an array (rank 2 expected for 'x'), got "ab"`],
    ['Infinity', (o) => ((o.routerWeight[1][1] = Infinity), o), 'routerWeight[1][1] must be a finite number, got null'],
    ['w1 experts', (o) => (o.w1.pop(), o), 'w1 has 1 entries, expected 2'],
    ['w2 F', (o) => ((o.w2[1] = [[1, 2], [3, 4]]), o), 'w2[1] has 2 entries, expected 1'],
    ['k above E', (o) => ((o.config.k = 3), o), 'config.k = 3 exceeds the number of experts E = 2'],
    ['top1 with k 2', (o) => ((o.config.router = 'top1'), o), 'config.k = 2 with router top1 (top1 routes to exactly 1 expert)'],
    ['cotangent rows', (o) => (o.cotangent.pop(), o), 'cotangent has 1 entries, expected 2'],
    // the answer
    ['expected not an object', (o) => ((o.expected = [1]), o), "'expected' must be an object with y, expertIndex, expertCounts, droppedFraction, balanceLoss, zLoss, grads, got [1]"],
    ['expected unknown key', (o) => ((o.expected.loss = 1), o), "unknown field 'expected.loss' (known: y, expertIndex, expertCounts, droppedFraction, balanceLoss, zLoss, grads)"],
    ['expected missing zLoss', (o) => (delete o.expected.zLoss, o), "missing field 'expected.zLoss'"],
    ['expected missing grads', (o) => (delete o.expected.grads, o), "missing field 'expected.grads'"],
    ['expected y shape', (o) => (o.expected.y.pop(), o), 'expected.y has 1 entries, expected 2'],
    ['expertIndex too large', (o) => ((o.expected.expertIndex = [2, 0]), o), 'expected.expertIndex[0] must be an expert index in [0, 2), got 2'],
    ['expertIndex negative', (o) => ((o.expected.expertIndex = [0, -1]), o), 'expected.expertIndex[1] must be an expert index in [0, 2), got -1'],
    ['expertIndex fraction', (o) => ((o.expected.expertIndex = [0.5, 0]), o), 'expected.expertIndex[0] must be an expert index in [0, 2), got 0.5'],
    ['expertCounts negative', (o) => ((o.expected.expertCounts = [2, -1]), o), 'expected.expertCounts[1] must be a count (integer ≥ 0), got -1'],
    ['expertCounts fraction', (o) => ((o.expected.expertCounts = [1.5, 2]), o), 'expected.expertCounts[0] must be a count (integer ≥ 0), got 1.5'],
    ['expertCounts length', (o) => ((o.expected.expertCounts = [1, 1, 2]), o), 'expected.expertCounts has 3 entries, expected 2'],
    ['droppedFraction', (o) => ((o.expected.droppedFraction = 'none'), o), 'expected.droppedFraction must be a finite number, got "none"'],
    ['balanceLoss', (o) => ((o.expected.balanceLoss = null), o), 'expected.balanceLoss must be a finite number, got null'],
    ['grads without cotangent', (o) => (delete o.cotangent, o), "'expected.grads' is given but the case has no 'cotangent' to take gradients along"],
    ['grads not an object', (o) => ((o.expected.grads = 1), o), "'expected.grads' must be an object with x, routerWeight, w1, w2"],
    ['grads unknown key', (o) => ((o.expected.grads.b = []), o), "unknown field 'expected.grads.b' (known: x, routerWeight, w1, w2)"],
    ['grads missing w1', (o) => (delete o.expected.grads.w1, o), "missing field 'expected.grads.w1'"],
    ['grads x shape', (o) => (o.expected.grads.x[0].pop(), o), 'expected.grads.x[0] has 1 entries, expected 2'],
    ['grads routerWeight shape', (o) => ((o.expected.grads.routerWeight = [[0, 0]]), o), 'expected.grads.routerWeight has 1 entries, expected 2'],
    ['grads w1 shape', (o) => ((o.expected.grads.w1[0] = [[1]]), o), 'expected.grads.w1[0] has 1 entries, expected 2'],
    ['grads w2 shape', (o) => ((o.expected.grads.w2[1][0] = [1]), o), 'expected.grads.w2[1][0] has 1 entries, expected 2'],
  ];
  for (const [label, edit, want] of cases) assert.equal(errorOf(edit(goodCase())), P + want, label);
});

test('readCase: the file name is the case name; unreadable and invalid files are named with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-case-'));
  const good = join(dir, 'good-case.json');
  writeFileSync(good, JSON.stringify(goodCase()));
  assert.equal(readCase(good).name, 'good-case.json');
  const missing = join(dir, 'missing.json');
  assert.throws(() => readCase(missing), { message: `conformance case ${missing}: cannot read (ENOENT)` });
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"x": [');
  assert.throws(() => readCase(broken), (e: Error) => e.message.startsWith(`conformance case ${broken}: not valid JSON (`) && e.message.endsWith(')'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...goodCase(), x: [] }));
  assert.throws(() => readCase(bad), { message: 'conformance case bad.json: x is empty' });
});

test('checkCase: an error exactly at the tolerance passes, just past it fails', () => {
  // against an all-zero reference the error is the absolute norm: √((1e-4)²) = 1e-4 exactly
  const e: CaseOutput = { ...expected(), y: [[0, 0], [0, 0]], droppedFraction: 0 };
  delete e.grads;
  const atTol = { ...structuredClone(e), y: [[1e-4, 0], [0, 0]], droppedFraction: 1e-5 };
  assert.equal(relativeError(atTol.y, e.y), 1e-4);
  assert.deepEqual(checkCase(atTol, e).failures, []);
});

test('parseCase: more answers refused (a NaN, a zero count is fine, a value too long to quote whole, a missing answer field without gradients)', () => {
  const nan = goodCase();
  nan.expected.droppedFraction = NaN;
  assert.equal(errorOf(nan), P + 'expected.droppedFraction must be a finite number, got null');
  const zero = goodCase();
  zero.expected.expertCounts = [0, 4];
  assert.deepEqual(parseCase(zero, 'z').expected!.expertCounts, [0, 4]);
  const long = goodCase();
  long.expected = 'x'.repeat(60);
  assert.equal(errorOf(long), P + `'expected' must be an object with y, expertIndex, expertCounts, droppedFraction, balanceLoss, zLoss, grads, got "${'x'.repeat(39)}`);
  const undef = goodCase();
  undef.expected = undefined;
  assert.equal(errorOf(undef), P + "'expected' must be an object with y, expertIndex, expertCounts, droppedFraction, balanceLoss, zLoss, grads, got undefined");
  const longRow = goodCase();
  longRow.x = [{ a: 'y'.repeat(60) }, [1, 2]];
  assert.equal(errorOf(longRow), P + `x[0] must be an array (rank 2 expected for 'x'), got {"a":"${'y'.repeat(34)}`);
  const noY = goodCase();
  delete noY.cotangent;
  delete noY.expected.grads;
  delete noY.expected.y;
  assert.equal(errorOf(noY), P + "missing field 'expected.y'");
  const idxShape = goodCase();
  idxShape.expected.expertIndex = [0];
  assert.equal(errorOf(idxShape), P + 'expected.expertIndex has 1 entries, expected 2');
  const noWeights = goodCase();
  noWeights.routerWeight = 5;
  assert.equal(errorOf(noWeights), P + "routerWeight must be an array (rank 2 expected for 'routerWeight'), got 5");
});

test('parseCase: a router bias and shared experts (the extension), kept only when given, refused by name when malformed', () => {
  // goodCase: T = 2, D = 2, E = 2, F = 1; one shared expert of width Fs = 3.
  const sharedW1 = [[[1, 2, 3], [4, 5, 6]]]; // [S=1][D=2][Fs=3]
  const sharedW2 = [[[1, 0], [0, 1], [1, 1]]]; // [S=1][Fs=3][D=2]
  const ext = () => {
    const o = goodCase();
    o.routerBias = [0.1, -0.1];
    o.sharedW1 = structuredClone(sharedW1);
    o.sharedW2 = structuredClone(sharedW2);
    o.expected.grads.sharedW1 = structuredClone(sharedW1);
    o.expected.grads.sharedW2 = structuredClone(sharedW2);
    return o;
  };
  const c = parseCase(ext(), 'c');
  assert.deepEqual(c.dims, { T: 2, D: 2, E: 2, F: 1, S: 1, Fs: 3 });
  assert.deepEqual([c.routerBias, c.sharedW1, c.sharedW2], [[0.1, -0.1], sharedW1, sharedW2]);
  // Without them the parsed case has no such keys at all (not keys holding undefined).
  const plain = parseCase(goodCase(), 'p');
  assert.deepEqual(['routerBias', 'sharedW1', 'sharedW2'].filter((k) => k in plain), []);
  const longBias = Array.from({ length: 30 }, (_, i) => i / 7);
  const noBias = "takes no router bias: each expert picks its tokens, balanced by construction; the bias is for token-choice routers (top1, topk)";
  const cases: [string, (o: Record<string, any>) => unknown, string][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    ['bias length', (o) => ((o.routerBias = [0, 0, 0]), o), 'routerBias has 3 entries, expected 2'],
    ['bias value', (o) => ((o.routerBias = [0, 'a']), o), 'routerBias[1] must be a finite number, got "a"'],
    ['bias with expert choice', (o) => ((o.config = { router: 'expert-choice', capacityFactor: 1 }), o), `routerBias [0.1,-0.1] is given, but router 'expert-choice' ${noBias}`],
    ['a long bias quoted to 80 characters', (o) => ((o.config = { router: 'expert-choice', capacityFactor: 1 }), (o.routerBias = longBias), o),
      `routerBias ${JSON.stringify(longBias).slice(0, 80)} is given, but router 'expert-choice' ${noBias}`],
    ['sharedW1 alone', (o) => (delete o.sharedW2, o), "'sharedW1' is given without 'sharedW2': shared experts need both (sharedW1 [S][D][Fs], sharedW2 [S][Fs][D])"],
    ['sharedW2 alone', (o) => (delete o.sharedW1, o), "'sharedW2' is given without 'sharedW1': shared experts need both (sharedW1 [S][D][Fs], sharedW2 [S][Fs][D])"],
    ['sharedW1 of the wrong width', (o) => ((o.sharedW1 = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]), o), 'sharedW1[0] has 3 rows, but x has D = 2: sharedW1 must be [S][2][Fs]'],
    ['sharedW1 null', (o) => ((o.sharedW1 = null), o), "sharedW1 must be an array (rank 3 expected for 'sharedW1'), got null"],
    ['sharedW1 a number', (o) => ((o.sharedW1 = 5), o), "sharedW1 must be an array (rank 3 expected for 'sharedW1'), got 5"],
    ['sharedW1 ragged', (o) => ((o.sharedW1 = [[[1, 2, 3], [4, 5]]]), o), 'sharedW1[0][1] has 2 entries, expected 3'],
    ['sharedW2 of the wrong width', (o) => ((o.sharedW2 = [[[1, 0], [0, 1]]]), o), 'sharedW2[0] has 2 entries, expected 3'],
    ['the shared gradients are asked for', (o) => (delete o.expected.grads.sharedW2, o), "missing field 'expected.grads.sharedW2' (the case has shared experts)"],
    ['without shared experts they are unknown', (o) => (delete o.sharedW1, delete o.sharedW2, o), "unknown fields 'expected.grads.sharedW1', 'expected.grads.sharedW2' (known: x, routerWeight, w1, w2)"],
    ['a shared gradient of the wrong shape', (o) => ((o.expected.grads.sharedW1 = [[[1, 2, 3]]]), o), 'expected.grads.sharedW1[0] has 1 entries, expected 2'],
    ['the other one', (o) => ((o.expected.grads.sharedW2 = [[[1, 0], [0, 1], [1]]]), o), 'expected.grads.sharedW2[0][2] has 1 entries, expected 2'],
  ];
  for (const [label, edit, want] of cases) assert.equal(errorOf(edit(ext())), P + want, label);
  // A case built in code (a notebook) may hold a hole where JSON never does: named, not a TypeError.
  const hole = goodCase();
  hole.x = [[1, 2], undefined];
  assert.equal(errorOf(hole), P + "x[1] must be an array (rank 2 expected for 'x'), got undefined");
  const fnBias = ext();
  fnBias.config = { router: 'expert-choice', capacityFactor: 1 };
  fnBias.routerBias = () => 0; // JSON.stringify gives undefined for it
  assert.equal(errorOf(fnBias), P + `routerBias undefined is given, but router 'expert-choice' ${noBias}`);
  // No weight is an array: x is not blamed for a width nothing states; the first weight is named.
  const noWeights = goodCase();
  noWeights.routerWeight = 5;
  noWeights.w1 = 5;
  noWeights.w2 = 5;
  assert.equal(errorOf(noWeights), P + "routerWeight must be an array (rank 2 expected for 'routerWeight'), got 5");
  const noShared = goodCase();
  noShared.expected.grads.sharedW1 = sharedW1;
  assert.equal(errorOf(noShared), P + "unknown field 'expected.grads.sharedW1' (known: x, routerWeight, w1, w2)");
});

test("checkCase judges the shared experts' gradients when the reference has them", () => {
  const e = expected();
  e.grads!.sharedW1 = [[[3], [4]]]; // norm 5
  e.grads!.sharedW2 = [[[1, 0]]];
  const right = checkCase(clone(e), e);
  assert.deepEqual([right.pass, right.errors['grads.sharedW1'], right.errors['grads.sharedW2']], [true, 0, 0]);
  const wrong = clone(e);
  wrong.grads!.sharedW1![0][1][0] = 4.001; // relative 0.001/5 = 2e-4 > 1e-4
  assert.deepEqual(checkCase(wrong, e).failures, ['grads.sharedW1: relative error 2.00e-4 > 0.0001']);
  const missing = clone(e);
  delete missing.grads!.sharedW2;
  assert.deepEqual(checkCase(missing, e).failures, ["grads.sharedW2: expected the shared experts' gradient, none computed"]);
  // A reference without them does not judge an answer that has them.
  const extra = checkCase(clone(e), expected());
  assert.deepEqual([extra.pass, 'grads.sharedW1' in extra.errors], [true, false]);
});
