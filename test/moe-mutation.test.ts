/**
 * Rules of capacity and routing at their boundaries, with worked values (cpu backend): the
 * dropless capacity's rounding, the router registry, the router's float32 cast, the default
 * slot priority, and how dropless routing sizes its buffers on cpu and where the packed layout
 * runs. (The float64 reference comparisons are in the MoE suite, test/helpers/moe-suite.ts.)
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { registerWebGpuFlags } from '../kernel-lib/kernels/webgpu-flags.ts';
import { droplessCapacity, expertChoiceCapacity, PACK_LAYOUT, roundCapacity, tokenChoiceCapacity } from '../kernel-lib/moe/index.ts';
import { getRouter, routerProbs, type RouteOptions, type TokenChoiceRouting } from '../kernel-lib/moe/routing/index.ts';

before(async () => {
  await useBackend('cpu', { log: false });
});

/**
 * A router input whose routing is known: D = E, routerWeight = 10·I, token t is e_{first[t]}
 * plus 0.5 on `second[t]`, so its logits are 10 and 5 there: first[t], then second[t].
 */
function routed(first: number[], second: number[], E: number) {
  const T = first.length;
  const x = tf.tensor2d(
    first.flatMap((e, t) => Array.from({ length: E }, (_, j) => (j === e ? 1 : j === second[t] ? 0.5 : 0))),
    [T, E],
  );
  const w = tf.mul(tf.eye(E), 10) as tf.Tensor2D;
  return { x, w };
}
const opts = (o: Partial<RouteOptions>): RouteOptions => ({ numExperts: 4, k: 1, capacityFactor: 1, jitterEps: 0, training: false, ...o });
/** T = 20 tokens, 5 per expert of 4 (second choice: the next expert). */
function fivePerExpert() {
  const first = [0, 1, 2, 3].flatMap((e) => new Array<number>(5).fill(e));
  return routed(first, first.map((e) => (e + 1) % 4), 4);
}

describe('capacity', () => {
  test('roundCapacity: up to a multiple of 8 (or the given one), at least 1, at most T', () => {
    assert.equal(roundCapacity(5, 100), 8);
    assert.equal(roundCapacity(8, 100), 8);
    assert.equal(roundCapacity(9, 100), 16);
    assert.equal(roundCapacity(1, 100), 8);
    assert.equal(roundCapacity(0, 100), 1, 'an empty group still has one slot');
    assert.equal(roundCapacity(19, 20), 20, 'capped at T (24 > 20)');
    assert.equal(roundCapacity(17, 100), 24);
    assert.equal(roundCapacity(5, 100, 4), 8);
    assert.equal(roundCapacity(4, 100, 4), 4);
    assert.equal(roundCapacity(5, 3, 4), 3);
  });

  test('token-choice and expert-choice capacity at the ceiling and the T cap', () => {
    assert.equal(tokenChoiceCapacity(1.25, 1, 10, 4), 4); // ceil(3.125)
    assert.equal(tokenChoiceCapacity(1, 2, 8, 4), 4); // exactly 4: no rounding up
    assert.equal(tokenChoiceCapacity(1, 1, 10, 3), 4); // ceil(3.33)
    assert.equal(tokenChoiceCapacity(8, 2, 10, 4), 10); // 40 capped at T
    assert.equal(tokenChoiceCapacity(null, 2, 10, 4), null);
    assert.equal(expertChoiceCapacity(1.25, 10, 4), 4);
    assert.equal(expertChoiceCapacity(2, 8, 4), 4);
    assert.equal(expertChoiceCapacity(8, 10, 4), 10);
    assert.equal(expertChoiceCapacity(null, 10, 4), 10);
  });

  test('droplessCapacity: the largest load rounded up to 8 and capped at T; T where the load is not read', () => {
    assert.equal(droplessCapacity(11, 20), 16);
    assert.equal(droplessCapacity(5, 20), 8);
    assert.equal(droplessCapacity(19, 20), 20, '24 capped at T');
    assert.equal(droplessCapacity(0, 20), 1, 'an empty group still has one slot');
    assert.equal(droplessCapacity(null, 20), 20);
    assert.equal(droplessCapacity(null, 3), 3);
  });
});

describe('routers', () => {
  test('getRouter: the three routers by name; an unknown name is refused naming the choices', () => {
    for (const name of ['top1', 'topk', 'expert-choice'] as const) assert.equal(typeof getRouter(name), 'function');
    assert.notEqual(getRouter('top1'), getRouter('topk'));
    assert.throws(() => getRouter('top3' as never), { message: "unknown router 'top3' (choose top1, topk, expert-choice)" });
  });

  test('routerProbs casts an int32 input and router weight to float32 and routes as with float32', async () => {
    const xi = tf.tensor2d([[1, 0], [0, 2], [3, 1]], [3, 2], 'int32');
    const wi = tf.tensor2d([[1, -1], [0, 2]], [2, 2], 'int32');
    const o = opts({ numExperts: 2 });
    const pi = routerProbs(xi, wi, o);
    const pf = routerProbs(tf.cast(xi, 'float32') as tf.Tensor2D, tf.cast(wi, 'float32') as tf.Tensor2D, o);
    assert.equal(pi.logits.dtype, 'float32');
    // logits = x·w: [1,-1], [0,4], [3,-1]
    assert.deepEqual(await pi.logits.array(), [[1, -1], [0, 4], [3, -1]]);
    assert.deepEqual(await pi.probs.array(), await pf.probs.array());
    assert.deepEqual(await pi.top1.array(), [0, 1, 0]);
  });

  test("token choice without a priority option uses 'choice' order: every first choice before any second", async () => {
    // 3 tokens, E = 2, k = 2, C = 2: first choices 0, 0, 1; second choices 1, 1, 0.
    // 'choice' order: expert 0 takes t0, t1 (first choices); expert 1 takes t2 (first), then t0's second;
    // t1's second (expert 1) and t2's second (expert 0) are dropped (slot E·C = 4).
    const { x, w } = routed([0, 0, 1], [1, 1, 0], 2);
    const r = getRouter('topk')(x, w, opts({ numExperts: 2, k: 2, capacityFactor: 2 / 3 })) as TokenChoiceRouting;
    assert.equal(r.capacity, 2); // ceil(2/3 · 2 · 3 / 2) = 2
    assert.deepEqual(await r.slot.array(), [
      [0, 1, 2],
      [3, 4, 4],
    ]);
    // 'token' order gives t0 both its choices, then t1's: t2 loses both
    const rt = getRouter('topk')(x, w, opts({ numExperts: 2, k: 2, capacityFactor: 2 / 3, priority: 'token' })) as TokenChoiceRouting;
    assert.deepEqual(await rt.slot.array(), [
      [0, 1, 4],
      [2, 3, 4],
    ]);
  });

  test('dropless on cpu: capacity is the largest load rounded up to 8, capped at T', async () => {
    // top1 over E = 4: loads 11, 3, 3, 3 of T = 20 → 16; loads 5, 5, 5, 5 → 8; 19, 1, 0, 0 → 20 (24 capped)
    const cases: [number[], number][] = [
      [[11, 3, 3, 3], 16],
      [[5, 5, 5, 5], 8],
      [[19, 1, 0, 0], 20],
    ];
    for (const [loads, want] of cases) {
      const first = loads.flatMap((n, e) => new Array<number>(n).fill(e));
      const { x, w } = routed(first, first.map((e) => (e + 1) % 4), 4);
      const r = getRouter('top1')(x, w, opts({ capacityFactor: null })) as TokenChoiceRouting;
      assert.equal(r.capacity, want, `loads ${loads}`);
      assert.deepEqual(await r.countsKept.array(), loads, 'dropless keeps everything');
    }
  });

  test('dropless where the packed layout runs: C = T numbers the slots (no read back); on plain cpu the load sizes it', () => {
    const { x, w } = fivePerExpert();
    registerWebGpuFlags(true, {});
    tf.registerKernel({
      kernelName: PACK_LAYOUT,
      backendName: 'cpu',
      kernelFunc: () => {
        throw new Error('not called by routing');
      },
    });
    try {
      assert.equal((getRouter('top1')(x, w, opts({ capacityFactor: null })) as TokenChoiceRouting).capacity, 20);
      assert.equal((getRouter('topk')(x, w, opts({ k: 2, capacityFactor: null })) as TokenChoiceRouting).capacity, 20);
      // with a capacity factor the packed path changes nothing: ceil(1 · 20 / 4) = 5
      assert.equal((getRouter('top1')(x, w, opts({ capacityFactor: 1 })) as TokenChoiceRouting).capacity, 5);
    } finally {
      tf.unregisterKernel(PACK_LAYOUT, 'cpu');
    }
    // the same group on plain cpu: the largest load, 5, rounded up to 8
    assert.equal((getRouter('top1')(x, w, opts({ capacityFactor: null })) as TokenChoiceRouting).capacity, 8);
  });
});

describe('router input jitter and bfloat16 router', () => {
  // T = 64 tokens, D = E = 2, x[t] = [1, 0] + tiny, routerWeight = I: clean logits [1, 0]-ish;
  // with multiplicative jitter u ~ U[1 − ε, 1 + ε] on x, logit 0 becomes u_t0.
  const T = 64;
  const x = tf.tensor2d(Array.from({ length: T }, () => [1, 0.25]), [T, 2]);
  const w = tf.eye(2) as tf.Tensor2D;
  const logit0 = async (o: Partial<RouteOptions>) => ((await routerProbs(x, w, opts({ numExperts: 2, ...o })).logits.array()) as number[][]).map((r) => r[0]);

  test('no jitter in evaluation, nor with ε = 0: the logits are the clean ones', async () => {
    assert.deepEqual(await logit0({ training: false, jitterEps: 0.5 }), new Array(T).fill(1));
    assert.deepEqual(await logit0({ training: true, jitterEps: 0 }), new Array(T).fill(1));
  });

  test('training with ε = 0.5: each token\'s router input is scaled by its own factor in [0.5, 1.5], some below 1 and some above', async () => {
    const u = await logit0({ training: true, jitterEps: 0.5, seed: 7 });
    assert.ok(u.every((v) => v >= 0.5 && v <= 1.5), `${u}`);
    assert.ok(u.some((v) => v < 0.9) && u.some((v) => v > 1.1), `factors ${u.slice(0, 8)}…`);
    assert.ok(new Set(u).size > T / 2, 'the factors vary by token');
    assert.deepEqual(await logit0({ training: true, jitterEps: 0.5, seed: 7 }), u, 'seeded: the same noise again');
  });

  test("routerDtype 'bfloat16': logits and probabilities are bfloat16 values (low 16 bits of float32 zero); float32 keeps them", async () => {
    const xs = tf.tensor2d([[0.1234567, -0.7654321], [0.3141593, 0.2718282]], [2, 2]);
    const ws = tf.tensor2d([[1.1, 0.3], [-0.2, 0.9]], [2, 2]);
    const lowBits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer)).map((b) => b & 0xffff);
    const bf = routerProbs(xs, ws, opts({ numExperts: 2, routerDtype: 'bfloat16' }));
    assert.deepEqual(lowBits((await bf.logits.data()) as Float32Array), [0, 0, 0, 0]);
    assert.deepEqual(lowBits((await bf.probs.data()) as Float32Array), [0, 0, 0, 0]);
    const f32 = routerProbs(xs, ws, opts({ numExperts: 2 }));
    assert.ok(lowBits((await f32.probs.data()) as Float32Array).some((b) => b !== 0), 'float32 probabilities are not rounded');
    assert.ok(lowBits((await f32.logits.data()) as Float32Array).some((b) => b !== 0), 'float32 logits are not rounded');
  });
});
