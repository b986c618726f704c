/**
 * The conformance verdict (kernel-lib/conformance/run.ts: relativeError, checkCase) shown to reject
 * wrong answers, each at the edge of its tolerance (docs/conformance.md: relative 1e-4 for
 * tensors, absolute 1e-5 for scalars, exact for indices and counts), and the real fixtures run
 * on cpu judged right, then wrong once one number of the answer is changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readCase, type CaseOutput } from '../kernel-lib/conformance/case.ts';
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
