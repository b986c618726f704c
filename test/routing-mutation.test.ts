/**
 * The router base and the routers' bias rules at their boundaries, with worked values (cpu
 * backend): a router bias changes which experts a token gets, never its gate (top1, topk, ties to
 * the lower index); Expert Choice refuses a bias before routing, naming it; the float32 cast and
 * the jitter run only where they change something (read from the kernels tfjs runs, tf.profile).
 * The float64 reference comparisons of biased layers are in the MoE suite (test/helpers/moe-suite.ts).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { getRouter, routerProbs, type RouteOptions, type TokenChoiceRouting } from '../kernel-lib/moe/routing/index.ts';

before(async () => {
  await useBackend('cpu', { log: false });
});

const opts = (o: Partial<RouteOptions>): RouteOptions => ({ numExperts: 4, k: 1, capacityFactor: 4, jitterEps: 0, training: false, ...o });
const close = (got: number, want: number, rel = 1e-5) => Math.abs(got - want) <= rel * Math.abs(want);

describe('router bias: it picks the experts, the probabilities weigh them', () => {
  // E = 4, D = E, routerWeight = 10·I. Token 0 is x = 0: logits 0, probs exactly 1/4 each.
  // Token 1 is e0 + 0.5·e1: logits [10, 5, 0, 0], probs [e^10, e^5, 1, 1] / Z, Z = e^10 + e^5 + 2.
  // Bias b = [-1, 0, 0.5, 0]: scores = probs + b:
  //   token 0: [-0.75, 0.25, 0.75, 0.25] → top1 expert 2; top2 experts 2, then 1 (1 and 3 tie: the lower index);
  //   token 1: [e^10/Z − 1 ≈ −0.0067, e^5/Z ≈ 0.0067, 0.5 + 1/Z, 1/Z] → top1 expert 2; top2 experts 2, then 1.
  // Without the bias both tokens go to expert 0 (token 0: a four-way tie, the lower index).
  // Capacity factor 4: no expert fills (top1 C = 2, topk C = T = 2), so every gate is kept.
  const Z = Math.exp(10) + Math.exp(5) + 2;
  const probs1 = [Math.exp(10) / Z, Math.exp(5) / Z, 1 / Z, 1 / Z];
  const inputs = () => ({
    x: tf.tensor2d([[0, 0, 0, 0], [1, 0.5, 0, 0]]) as tf.Tensor2D,
    w: tf.mul(tf.eye(4), 10) as tf.Tensor2D,
    bias: tf.tensor1d([-1, 0, 0.5, 0]),
  });

  test('top1: the argmax of probs + bias; the gate is probs[t, e] of the chosen expert, not its score', () => {
    const n0 = tf.memory().numTensors;
    const got = tf.tidy(() => {
      const { x, w, bias } = inputs();
      const r = getRouter('top1')(x, w, opts({ bias })) as TokenChoiceRouting;
      const plain = getRouter('top1')(x, w, opts({})) as TokenChoiceRouting;
      return {
        choices: r.choices.arraySync(),
        top1: r.top1.arraySync(),
        gates: r.gates.arraySync(),
        scores: r.scores.arraySync(),
        probs: r.probs.arraySync(),
        plainProbs: plain.probs.arraySync(),
        plainChoices: plain.choices.arraySync(),
        plainGates: plain.gates.arraySync(),
      };
    });
    assert.equal(tf.memory().numTensors, n0, 'tidy leaves no tensor');
    assert.deepEqual(got.choices, [[2, 2]]);
    assert.deepEqual(got.top1, [2, 2], 'top1 (the first choice, for the balance loss and the analyses) follows the bias too');
    assert.deepEqual(got.plainChoices, [[0, 0]], 'without the bias: expert 0 (token 0 by the lowest index of a four-way tie)');
    assert.deepEqual(got.probs, got.plainProbs, 'the bias leaves the probabilities as they are');
    assert.equal(got.gates[0][0], 0.25, 'token 0: probs[0, 2] = 1/4, not its score 0.75');
    assert.ok(close(got.gates[0][1], 1 / Z), `token 1: probs[1, 2] = 1/Z = ${1 / Z}, got ${got.gates[0][1]} (its score is 0.5 + 1/Z)`);
    assert.equal(got.plainGates[0][0], 0.25);
    assert.ok(close(got.plainGates[0][1], probs1[0]), `${got.plainGates[0][1]}`);
    assert.deepEqual(got.scores[0], [-0.75, 0.25, 0.75, 0.25], 'scores = probs + bias (exact here)');
    got.scores[1].forEach((s, e) => assert.ok(Math.abs(s - (probs1[e] + [-1, 0, 0.5, 0][e])) <= 1e-6, `score[1][${e}] = ${s}`));
  });

  test('topk (k = 2): the two largest of probs + bias, ties to the lower index; gates are the probs renormalised over the pair', () => {
    const n0 = tf.memory().numTensors;
    const got = tf.tidy(() => {
      const { x, w, bias } = inputs();
      const r = getRouter('topk')(x, w, opts({ k: 2, bias })) as TokenChoiceRouting;
      const plain = getRouter('topk')(x, w, opts({ k: 2 })) as TokenChoiceRouting;
      return { choices: r.choices.arraySync(), gates: r.gates.arraySync(), plainChoices: plain.choices.arraySync(), plainGates: plain.gates.arraySync() };
    });
    assert.equal(tf.memory().numTensors, n0, 'tidy leaves no tensor');
    // rows: first choices of tokens 0, 1; then second choices
    assert.deepEqual(got.choices, [[2, 2], [1, 1]]);
    assert.deepEqual(got.plainChoices, [[0, 0], [1, 1]], 'without the bias: 0 then 1 (token 0 by index among four equal probs)');
    // token 0: probs 1/4 and 1/4 → 1/2 each (the scores 0.75 and 0.25 would give 3/4, 1/4)
    assert.equal(got.gates[0][0], 0.5);
    assert.equal(got.gates[1][0], 0.5);
    // token 1: probs 1/Z (expert 2) and e^5/Z (expert 1) → 1/(1 + e^5) and e^5/(1 + e^5)
    assert.ok(close(got.gates[0][1], 1 / (1 + Math.exp(5)), 1e-4), `${got.gates[0][1]} vs ${1 / (1 + Math.exp(5))}`);
    assert.ok(close(got.gates[1][1], Math.exp(5) / (1 + Math.exp(5))), `${got.gates[1][1]}`);
    // without the bias: token 1's pair is experts 0, 1 → e^10/(e^10 + e^5) and e^5/(e^10 + e^5)
    assert.ok(close(got.plainGates[0][1], 1 / (1 + Math.exp(-5))), `${got.plainGates[0][1]}`);
    assert.ok(close(got.plainGates[1][1], 1 / (1 + Math.exp(5)), 1e-4), `${got.plainGates[1][1]}`);
  });

  test('expert choice refuses a router bias before routing, naming its shape and the router', () => {
    const x = tf.tensor2d([[0, 0, 0, 0], [1, 0.5, 0, 0]]);
    const w = tf.mul(tf.eye(4), 10) as tf.Tensor2D;
    const bias = tf.tensor1d([0.1, 0, 0, -0.1]);
    // A bias kept as a [1, E] row (a caller's slip from JS, which the types do not stop): the shape as given.
    const row = tf.tensor2d([[0.1, 0, 0, -0.1]]) as unknown as tf.Tensor1D;
    const ec = getRouter('expert-choice');
    try {
      const n0 = tf.memory().numTensors;
      assert.throws(() => ec(x, w, opts({ bias })), (err: Error) => {
        assert.match(err.message, /^expert-choice router: got a router bias float32\[4\]; router 'expert-choice' takes no router bias: each expert picks its tokens/);
        return true;
      });
      assert.throws(() => ec(x, w, opts({ bias: row })), (err: Error) => {
        assert.match(err.message, /^expert-choice router: got a router bias float32\[1,4\]; router 'expert-choice' takes no router bias/);
        return true;
      });
      assert.equal(tf.memory().numTensors, n0, 'refused before any tensor was made');
      // the same router without a bias routes: each expert takes C = ceil(4 · 2 / 4) = 2 tokens
      const routed = tf.tidy(() => {
        const r = ec(x, w, opts({}));
        return r.kind === 'expert-choice' ? r.capacity : -1;
      });
      assert.equal(routed, 2);
      assert.equal(tf.memory().numTensors, n0);
    } finally {
      tf.dispose([x, w, bias, row]);
    }
  });
});

describe('router base: the float32 cast and the jitter run only where they change something', () => {
  // T = 3 tokens, D = 5, E = 2: x is [3,5] and the router weight [5,2], shapes no other tensor of
  // routerProbs has, so a kernel's input shape says which of the two it reads.
  const xs = [[1, 0, 2, 0, 1], [0, 3, 1, 1, 0], [2, 1, 0, 0, 1]];
  const ws = [[1, -1], [0, 2], [1, 0], [-1, 1], [2, 0]];
  /** Runs routerProbs under tf.profile; returns the kernels it ran, the logits and numTensors after. */
  async function profiled(dtype: 'float32' | 'int32', o: Partial<RouteOptions>) {
    const x = tf.tensor2d(xs, [3, 5], dtype);
    const w = tf.tensor2d(ws, [5, 2], dtype);
    const n0 = tf.memory().numTensors;
    const info = await tf.profile(() => tf.tidy(() => routerProbs(x, w, { numExperts: 2, k: 1, capacityFactor: 1, jitterEps: 0, training: false, ...o }).logits));
    // tf.profile returns the engine's one profile object, which the next profile overwrites: copy now
    const kernels = info.kernels.map((k) => ({ name: k.name, inputs: JSON.stringify(k.inputShapes) }));
    const logits = info.result as tf.Tensor;
    const values = (await logits.array()) as number[][];
    logits.dispose();
    const after = tf.memory().numTensors;
    tf.dispose([x, w]);
    const reading = (name: string, shapes: number[][]) => kernels.filter((k) => k.name === name && k.inputs === JSON.stringify(shapes)).length;
    return { names: kernels.map((k) => k.name), reading, values, leaked: after - n0 };
  }
  // logits = x·w, by hand: [1+2+2, -1] = [5, -1]; [1-1, 6+1] = [0, 7]; [2+2, -2+2] = [4, 0]
  const want = [[5, -1], [0, 7], [4, 0]];

  test('float32 x and router weight reach matMul as they are (no Cast); int32 ones are cast once each, to the same logits', async () => {
    const f = await profiled('float32', {});
    assert.deepEqual(f.values, want);
    assert.equal(f.reading('Cast', [[3, 5]]), 0, `a float32 x is not cast (kernels: ${f.names})`);
    assert.equal(f.reading('Cast', [[5, 2]]), 0, `a float32 router weight is not cast (kernels: ${f.names})`);
    assert.equal(f.leaked, 0);
    const i = await profiled('int32', {});
    assert.deepEqual(i.values, want);
    assert.equal(i.reading('Cast', [[3, 5]]), 1, `an int32 x: one Cast (kernels: ${i.names})`);
    assert.equal(i.reading('Cast', [[5, 2]]), 1, `an int32 router weight: one Cast (kernels: ${i.names})`);
    assert.equal(i.leaked, 0);
  });

  test('training with ε = 0 draws no noise: exactly the kernels of evaluation; ε = 0.5 adds the one multiply of x by its noise', async () => {
    const evaluation = await profiled('float32', { training: false, jitterEps: 0.5 });
    const eps0 = await profiled('float32', { training: true, jitterEps: 0 });
    const jittered = await profiled('float32', { training: true, jitterEps: 0.5, seed: 3 });
    assert.deepEqual(eps0.names, evaluation.names);
    assert.deepEqual(eps0.values, want);
    assert.equal(evaluation.reading('Multiply', [[3, 5], [3, 5]]), 0, `${evaluation.names}`);
    assert.equal(jittered.reading('Multiply', [[3, 5], [3, 5]]), 1, `${jittered.names}`);
    assert.notDeepEqual(jittered.values, want, 'the jitter moved the logits (the check above sees a real multiply)');
    for (const r of [evaluation, eps0, jittered]) assert.equal(r.leaked, 0);
  });
});
