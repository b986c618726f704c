// The decoder-only Transformer LM (kernel-lib/model) on the backend named by
// SWITCHYARD_TEST_BACKEND (default cpu; test/model.{wasm,webgpu}.test.ts set it): shapes,
// causality (including under capacity dropping), config validation, parameter/FLOP counts against
// the actual variables, a tiny overfitting run and tensor-leak checks. Every model here is tiny.
// Tensors are read back asynchronously only (data()/array()): tfjs-backend-webgpu has no
// synchronous read under Node (readSync needs an OffscreenCanvas).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { takeGpuErrors, useBackend } from '../kernel-lib/backend/index.ts';
import { moeForward, resolveMoeConfig, type MoeParams } from '../kernel-lib/moe/index.ts';
import {
  TransformerLM,
  activeExperts,
  describeModel,
  flopsPerToken,
  moeConfigFor,
  moeLayerIndices,
  parameterCounts,
  resolveModelConfig,
  type LmForwardOptions,
  type LmOutput,
  type ModelConfigInput,
} from '../kernel-lib/model/index.ts';
import { Rng } from '../kernel-lib/util/seed.ts';

const V = 50;
/** Tiny shared shape: 2 blocks, block 1 sparse (sparseEvery 2). */
const TINY = { vocabSize: V, seqLen: 8, dModel: 16, numHeads: 2, numLayers: 2, dFf: 32, numExperts: 4 } as const;
const DENSE: ModelConfigInput = { ...TINY, ffn: 'dense' };
const TOP1: ModelConfigInput = { ...TINY, router: 'top1' };
const TOP2: ModelConfigInput = { ...TINY, router: 'topk', k: 2 };
const KINDS: [string, ModelConfigInput][] = [
  ['dense', DENSE],
  ['top1 (Switch)', TOP1],
  ['topk k=2', TOP2],
];

/** int32[B,S] ids drawn from a seeded stream. */
function randomIds(B: number, S: number, seed: number, vocab = V): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: B }, () => Array.from({ length: S }, () => rng.int(vocab)));
}

const ids2d = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');

/** Runs fn in a tidy, reads what it returned asynchronously, then disposes that too. */
async function readTidy<T extends tf.TensorContainer, R>(fn: () => T, read: (kept: T) => Promise<R>): Promise<R> {
  const kept = tf.tidy(fn);
  try {
    return await read(kept);
  } finally {
    tf.dispose(kept);
  }
}

/** The single value of a scalar (or first element), read asynchronously. */
const first = async (t: tf.Tensor): Promise<number> => (await t.data())[0];

/** model.forward on fresh ids (disposed here); the outputs are the caller's to dispose (disposeOutput). */
function forwardOn(model: TransformerLM, rows: number[][], opts: LmForwardOptions): LmOutput {
  const ids = ids2d(rows);
  try {
    return model.forward(ids, opts);
  } finally {
    ids.dispose();
  }
}
const disposeOutput = (out: LmOutput) => tf.dispose(out as unknown as tf.TensorContainer);

/** Runs forward and reads back what the tests need; every output is disposed. */
async function run(model: TransformerLM, rows: number[][], opts: { training: boolean; seed?: number }) {
  const out = forwardOn(model, rows, opts);
  try {
    return {
      logits: (await out.logits.array()) as number[][][],
      dropped: await Promise.all(out.moe.map((m) => first(m.metrics.droppedFraction))),
    };
  } finally {
    disposeOutput(out);
  }
}

const maxAbsDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Mean next-token cross-entropy: logits float32[B,S,V], targets int32[B,S]. */
function crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  const [B, S, Vv] = logits.shape;
  const flat = tf.reshape(logits, [B * S, Vv]); // [B·S,V]
  return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(targets, [B * S]), Vv), flat) as tf.Scalar;
}

async function withModel<T>(cfg: ModelConfigInput, fn: (m: TransformerLM) => T | Promise<T>, seed = 1): Promise<T> {
  const m = new TransformerLM(cfg, { seed });
  try {
    return await fn(m);
  } finally {
    m.dispose();
  }
}

// test/model.{wasm,webgpu}.test.ts run this same file on the other backends.
const BACKEND = process.env.SWITCHYARD_TEST_BACKEND ?? 'cpu';
before(async () => {
  const info = await useBackend(BACKEND, { log: false });
  assert.equal(info.backend, BACKEND);
});
after(() => assert.deepEqual(takeGpuErrors(), [], 'WebGPU device errors'));

describe('TransformerLM forward', () => {
  for (const [label, cfg] of KINDS) {
    test(`${label}: output shapes, losses and per-layer metrics`, async () => {
      await withModel(cfg, async (m) => {
        const sparse = moeLayerIndices(m.config);
        assert.deepEqual(m.moeLayers(), sparse);
        for (const training of [false, true]) {
          const S = 6; // shorter than seqLen is fine
          const out: LmOutput = forwardOn(m, randomIds(3, S, 7), { training, seed: 3, returnExpertIndex: true });
          try {
            assert.deepEqual(out.logits.shape, [3, S, V]);
            assert.equal(out.logits.dtype, 'float32');
            assert.ok(((await out.logits.data()) as Float32Array).every(Number.isFinite), 'logits finite (mask bias is finite)');
            for (const s of [out.auxLoss, out.balanceLoss, out.zLoss]) assert.deepEqual(s.shape, []);
            assert.deepEqual(
              out.moe.map((x) => x.layer),
              sparse,
            );
            if (sparse.length === 0) {
              assert.equal(await first(out.auxLoss), 0);
            } else {
              const c = resolveModelConfig(cfg);
              const bal = (await Promise.all(out.moe.map((x) => first(x.metrics.balanceLoss)))).reduce((a, v) => a + v, 0);
              const z = (await Promise.all(out.moe.map((x) => first(x.metrics.zLoss)))).reduce((a, v) => a + v, 0);
              assert.ok(Math.abs((await first(out.balanceLoss)) - bal) < 1e-6, 'balanceLoss = Σ layers');
              assert.ok(Math.abs((await first(out.zLoss)) - z) < 1e-6, 'zLoss = Σ layers');
              assert.ok(Math.abs((await first(out.auxLoss)) - (c.balanceCoef * bal + c.zCoef * z)) < 1e-6, 'auxLoss = α·balance + β·z');
              for (const { metrics } of out.moe) {
                assert.deepEqual(metrics.expertIndex?.shape, [3 * S], 'routing group = all B·S tokens');
                assert.deepEqual(metrics.countsBefore.shape, [TINY.numExperts]);
              }
            }
          } finally {
            disposeOutput(out);
          }
        }
      });
    });
  }

  test('forward runs in its own tidy: only the outputs survive', async () => {
    await withModel(TOP2, (m) => {
      const ids = ids2d(randomIds(2, 8, 1));
      m.forward(ids, { training: false }).logits.dispose(); // warm-up
      const before = tf.memory().numTensors;
      const out = m.forward(ids, { training: true, seed: 1 });
      assert.ok(tf.memory().numTensors > before, 'outputs are live tensors');
      tf.dispose(out as unknown as tf.TensorContainer);
      assert.equal(tf.memory().numTensors, before);
      ids.dispose();
    });
  });

  test('same seed → same weights and same training-mode noise; other seed → different', async () => {
    const cfg: ModelConfigInput = { ...TOP1, dropout: 0.2, jitterEps: 0.05 };
    const rows = randomIds(2, 8, 5);
    const logits = (seed: number, initSeed: number) => withModel(cfg, async (m) => (await run(m, rows, { training: true, seed })).logits.flat(2), initSeed);
    const a = await logits(9, 4);
    const b = await logits(9, 4);
    const c = await logits(10, 4);
    const d = await logits(9, 5);
    assert.equal(maxAbsDiff(a, b), 0);
    assert.ok(maxAbsDiff(a, c) > 1e-4, 'another noise seed changes the dropout masks');
    assert.ok(maxAbsDiff(a, d) > 1e-4, 'another init seed changes the weights');
  });

  test('stable variable names; two models coexist', () => {
    const m1 = new TransformerLM(TOP1);
    const m2 = new TransformerLM({ ...TOP1, tiedEmbeddings: false });
    try {
      const names = Object.keys(m1.namedVariables());
      assert.deepEqual(names, [
        'embed/tokens',
        'embed/positions',
        'block0/ln1/gain',
        'block0/ln1/bias',
        'block0/attn/wq',
        'block0/attn/wk',
        'block0/attn/wv',
        'block0/attn/wo',
        'block0/ln2/gain',
        'block0/ln2/bias',
        'block0/ffn/w1',
        'block0/ffn/w2',
        'block1/ln1/gain',
        'block1/ln1/bias',
        'block1/attn/wq',
        'block1/attn/wk',
        'block1/attn/wv',
        'block1/attn/wo',
        'block1/ln2/gain',
        'block1/ln2/bias',
        'block1/moe/router',
        'block1/moe/w1',
        'block1/moe/w2',
        'lnFinal/gain',
        'lnFinal/bias',
      ]);
      assert.deepEqual(m1.namedVariables()['block1/moe/w1'].shape, [4, 16, 32]);
      assert.deepEqual(m2.namedVariables()['head/w'].shape, [16, V]);
      assert.deepEqual(m1.variables(), Object.values(m1.namedVariables()));
    } finally {
      m1.dispose();
      m2.dispose();
    }
  });
});

describe('causality', () => {
  /**
   * Changes token j of the last sequence and checks that its positions < j, and every earlier
   * sequence of the batch (earlier in the routing group), keep their logits. Later sequences are
   * not compared: with a capacity limit a token's routing depends on the group's earlier tokens,
   * which include earlier sequences (batch dependence, not a leak from the future).
   */
  async function assertCausal(cfg: ModelConfigInput, training: boolean): Promise<number[]> {
    const B = 2;
    const S = 8;
    const rows = randomIds(B, S, 11);
    let dropped: number[] = [];
    await withModel(cfg, async (m) => {
      const base = await run(m, rows, { training, seed: 5 });
      dropped = base.dropped;
      for (const j of [1, 4, 7]) {
        const changed = rows.map((r) => [...r]);
        changed[B - 1][j] = (changed[B - 1][j] + 17) % V;
        const alt = await run(m, changed, { training, seed: 5 });
        for (let b = 0; b < B - 1; b++) {
          const d = maxAbsDiff(base.logits[b].flat(), alt.logits[b].flat());
          assert.ok(d <= 1e-5, `earlier sequence ${b} changed by ${d} when token ${j} of the last changed`);
        }
        for (let p = 0; p < j; p++) {
          const d = maxAbsDiff(base.logits[B - 1][p], alt.logits[B - 1][p]);
          assert.ok(d <= 1e-5, `position ${p} changed by ${d} when token ${j} changed`);
        }
        assert.ok(maxAbsDiff(base.logits[B - 1][j], alt.logits[B - 1][j]) > 1e-4, `position ${j} itself must change (the test has teeth)`);
      }
    });
    return dropped;
  }

  for (const [label, cfg] of KINDS) {
    test(`${label}: evaluation`, async () => {
      await assertCausal(cfg, false);
    });
  }

  for (const [label, cfg] of KINDS.slice(1)) {
    test(`${label}: training with dropping, dropout and jitter (priority 'token')`, async () => {
      const dropped = await assertCausal({ ...cfg, capacityFactor: 0.5, dropout: 0.1, jitterEps: 0.1, expertDropout: 0.1 }, true);
      assert.ok(dropped.length > 0 && dropped.every((f) => f > 0), `tokens must actually be dropped, got droppedFraction ${dropped}`);
    });
  }

  test("priority 'choice' with k = 2 leaks the future under dropping; 'token' does not", async () => {
    // E = 2, k = 2, T = 2, capacityFactor 0.5 → C = ceil(0.5·2·2/2) = 1 slot per expert.
    // Router = identity: token 0 = [1,0] prefers expert 0. Token 1 prefers expert 0 (a) or 1 (b).
    // 'choice': both 1st choices go first. In (b) token 1's 1st choice takes expert 1's only slot,
    // evicting token 0's 2nd choice; in (a) it is dropped instead and token 0 keeps expert 1.
    // So token 0's output depends on token 1. 'token': token 0 claims both slots either way.
    const params: MoeParams = {
      routerWeight: tf.tensor2d([
        [2, 0],
        [0, 2],
      ]),
      w1: tf.tensor3d([[[1, 0], [0, 1]], [[1, 0], [0, 1]]]),
      w2: tf.tensor3d([[[1, 0], [0, 1]], [[0, 3], [3, 0]]]),
    };
    const token0 = (priority: 'choice' | 'token', later: number[]) =>
      readTidy(
        () => {
          const cfg = resolveMoeConfig({ dModel: 2, dFf: 2, numExperts: 2, router: 'topk', k: 2, priority, capacityFactor: 0.5, evalCapacityFactor: 0.5 });
          return moeForward(cfg, params, tf.tensor2d([[1, 0.5], later]), { training: false }).y;
        },
        async (y) => Array.from((await y.data()).slice(0, 2)),
      );
    const choiceA = await token0('choice', [1, 0.1]);
    const choiceB = await token0('choice', [0.1, 1]);
    const tokenA = await token0('token', [1, 0.1]);
    const tokenB = await token0('token', [0.1, 1]);
    assert.ok(maxAbsDiff(choiceA, choiceB) > 0.1, `'choice' should leak: token 0 gave ${choiceA} vs ${choiceB}`);
    assert.ok(maxAbsDiff(tokenA, tokenB) <= 1e-6, `'token' must not leak: token 0 gave ${tokenA} vs ${tokenB}`);
    tf.dispose(params as unknown as tf.TensorContainer);
  });

  test("the model's MoE layers use priority 'token' (the MoE default is 'choice')", () => {
    assert.equal(resolveMoeConfig({ dModel: 4, dFf: 4 }).priority, 'choice');
    for (const cfg of [TOP1, TOP2]) assert.equal(moeConfigFor(resolveModelConfig(cfg)).priority, 'token');
  });
});

describe('expert choice', () => {
  test('refused without allowExpertChoice, with the reason', () => {
    assert.throws(() => resolveModelConfig({ ...TINY, router: 'expert-choice' }), /expert-choice.*allowExpertChoice|allowExpertChoice/s);
    assert.throws(() => new TransformerLM({ ...TINY, router: 'expert-choice' }), /later tokens/);
  });

  test('accepted with allowExpertChoice: true', async () => {
    await withModel({ ...TINY, router: 'expert-choice', allowExpertChoice: true, capacityFactor: 1 }, async (m) => {
      const r = await run(m, randomIds(2, 8, 3), { training: true, seed: 1 });
      assert.equal(r.logits.length, 2);
      assert.equal(r.logits[0][0].length, V);
    });
  });

  test('why: with allowExpertChoice the model does see the future', async () => {
    // Each expert keeps its top-C tokens of the group, so changing a later token can evict (or
    // admit) an earlier one. evalCapacityFactor 1: C = T/E, every expert is full.
    const cfg: ModelConfigInput = { ...TINY, router: 'expert-choice', allowExpertChoice: true, evalCapacityFactor: 1 };
    const rows = randomIds(2, 8, 11);
    const leak = await withModel(cfg, async (m) => {
      const base = (await run(m, rows, { training: false })).logits;
      let worst = 0;
      for (const j of [2, 4, 6, 7]) {
        const changed = rows.map((r) => [...r]);
        changed[1][j] = (changed[1][j] + 17) % V;
        const alt = (await run(m, changed, { training: false })).logits;
        const past = (l: number[][][]) => [...l[0].flat(), ...l[1].slice(0, j).flat()];
        worst = Math.max(worst, maxAbsDiff(past(base), past(alt)));
      }
      return worst;
    });
    assert.ok(leak > 1e-4, `expected earlier logits to move, largest change ${leak}`);
  });

  test('a dense model does not care about the router', () => {
    assert.doesNotThrow(() => resolveModelConfig({ ...TINY, ffn: 'dense', router: 'expert-choice' }));
  });
});

describe('parameter and FLOP counts', () => {
  const variants: [string, ModelConfigInput][] = [
    ...KINDS,
    ['top1 untied, 3 layers, sparseEvery 1', { ...TOP1, numLayers: 3, sparseEvery: 1, tiedEmbeddings: false }],
    ['top2, 4 layers', { ...TOP2, numLayers: 4 }],
    ['expert-choice cf 2', { ...TINY, router: 'expert-choice', allowExpertChoice: true, capacityFactor: 2 }],
  ];
  for (const [label, cfg] of variants) {
    test(`${label}: total = Σ variable sizes, embedding = Σ embedding variables`, async () => {
      const counts = parameterCounts(cfg);
      await withModel(cfg, (m) => {
        const named = m.namedVariables();
        const total = Object.values(named).reduce((s, v) => s + v.size, 0);
        const embedding = Object.entries(named)
          .filter(([n]) => n.startsWith('embed/') || n.startsWith('head/'))
          .reduce((s, [, v]) => s + v.size, 0);
        assert.equal(counts.total, total);
        assert.equal(counts.embedding, embedding);
        assert.equal(counts.nonEmbedding, total - embedding);
        if (m.moeLayers().length === 0) {
          assert.equal(counts.activePerToken, counts.total);
        } else {
          const c = m.config;
          const unused = (c.numExperts - activeExperts(c)) * 2 * c.dModel * c.dFf * m.moeLayers().length;
          assert.ok(counts.activePerToken < counts.total, 'sparse: active < total');
          assert.equal(counts.activePerToken, counts.total - unused);
        }
      });
    });
  }

  test('FLOPs: top-1 equals dense (same dFf) up to the router, top-2 is larger; training = 3× forward', () => {
    const dense = flopsPerToken(DENSE);
    const top1 = flopsPerToken(TOP1);
    const top2 = flopsPerToken(TOP2);
    const { dModel: D, numExperts: E, dFf: F } = TINY;
    // Hand count for the dense tiny model: 2 layers × (2·(4D² + 2DF) + 4·seqLen·D) + 2·D·V.
    assert.equal(dense.forward, 2 * (2 * (4 * D * D + 2 * D * F) + 4 * TINY.seqLen * D) + 2 * D * V);
    // Tolerance: exactly the router matmul, 2·D·E per MoE layer — here one layer, 256 of 10 816
    // FLOPs (2.4%: E/F is large in this toy; at D 512, F 2048, E 8 it would be 0.4‰ of a layer).
    assert.equal(top1.forward - dense.forward, 2 * D * E);
    assert.ok((top1.forward - dense.forward) / dense.forward < 0.03, 'router FLOPs are a small share');
    assert.equal(top2.forward - top1.forward, 2 * D * F * 2, 'one more expert: + 2·(2DF)');
    for (const f of [dense, top1, top2]) assert.equal(f.training, 3 * f.forward);
    assert.equal(activeExperts(resolveModelConfig({ ...TINY, router: 'expert-choice', allowExpertChoice: true, capacityFactor: 2 })), 2);
    assert.equal(activeExperts(resolveModelConfig({ ...TINY, router: 'expert-choice', allowExpertChoice: true, capacityFactor: null })), 4);
  });

  test('describeModel', () => {
    const line = describeModel(TOP2);
    assert.match(line, /2L d16 h2 ff32 V50 ctx8/);
    assert.match(line, /top-2 E4 in 1\/2 FFNs/);
    assert.match(describeModel(DENSE), /dense FFN/);
  });
});

describe('training', () => {
  test('a tiny Switch model overfits one fixed batch (CE halves within 150 Adam steps)', async (t) => {
    const cfg: ModelConfigInput = { vocabSize: V, seqLen: 8, dModel: 32, numHeads: 4, numLayers: 2, dFf: 64, router: 'top1', numExperts: 4 };
    await withModel(cfg, async (m) => {
      const ids = ids2d(randomIds(2, 8, 21));
      const targets = ids2d(randomIds(2, 8, 22)); // arbitrary targets: pure memorisation
      const evalCe = () => readTidy(() => crossEntropy(m.forward(ids, { training: false }).logits, targets), first);
      const ce0 = await evalCe();
      assert.ok(Math.abs(ce0 - Math.log(V)) < 0.5, `initial CE ${ce0} should be near ln V = ${Math.log(V)}`);
      const opt = tf.train.adam(1e-2);
      let step = 0;
      let ce = ce0;
      for (; step < 150 && ce > 0.4 * ce0; step++) {
        const loss = opt.minimize(
          () => {
            const out = m.forward(ids, { training: true, seed: step });
            return tf.add(crossEntropy(out.logits, targets), out.auxLoss) as tf.Scalar;
          },
          false,
          m.variables(),
        );
        assert.equal(loss, null);
        if (step % 5 === 4) ce = await evalCe();
      }
      ce = await evalCe();
      assert.ok(ce < 0.5 * ce0, `CE ${ce0.toFixed(3)} → ${ce.toFixed(3)} after ${step} steps`);
      t.diagnostic(`CE ${ce0.toFixed(3)} → ${ce.toFixed(3)} after ${step} Adam steps`);
      opt.dispose();
      tf.dispose([ids, targets]);
    });
  });

  test('gradients reach every variable and are finite', async () => {
    await withModel({ ...TOP2, dropout: 0.1 }, (m) =>
      readTidy(
        () => {
          const ids = ids2d(randomIds(2, 8, 2));
          return tf.variableGrads(() => {
            const out = m.forward(ids, { training: true, seed: 1 });
            return tf.add(crossEntropy(out.logits, ids), out.auxLoss) as tf.Scalar;
          }, m.variables()).grads;
        },
        async (grads) => {
          const named = m.namedVariables();
          for (const [name, v] of Object.entries(named)) {
            const g = grads[v.name];
            assert.ok(g, `no gradient for ${name}`);
            const data = (await g.data()) as Float32Array;
            assert.ok(data.every(Number.isFinite), `non-finite gradient for ${name}`);
            if (!name.startsWith('block1/moe/w')) assert.ok(data.some((x) => x !== 0), `zero gradient for ${name}`);
          }
        },
      ),
    );
  });

  test('no tensor leaks across forward + backward + Adam steps', async () => {
    for (const cfg of [TOP2, { ...TOP1, capacityFactor: null, dropout: 0.1, jitterEps: 0.01 }]) {
      await withModel(cfg, async (m) => {
        const ids = ids2d(randomIds(2, 8, 3));
        const opt: tf.Optimizer = tf.train.adam(1e-3); // the base type: AdamOptimizer.applyGradients is typed for variable maps only
        // Each read's tensor leaves its tidy (to be read asynchronously) and is disposed right
        // after the read, so between steps exactly the tensors a leak would add are counted.
        const step = async (s: number) => {
          await readTidy(
            () => {
              const { value, grads } = tf.variableGrads(() => {
                const out = m.forward(ids, { training: true, seed: s });
                return tf.add(crossEntropy(out.logits, ids), out.auxLoss) as tf.Scalar;
              }, m.variables());
              opt.applyGradients(grads);
              return value;
            },
            (value) => value.data(),
          );
          await readTidy(
            () => m.forward(ids, { training: false, returnExpertIndex: true }).logits,
            (logits) => logits.data(),
          );
        };
        await step(0); // warm-up: Adam creates its moment slots
        const before = tf.memory().numTensors;
        for (let s = 1; s <= 3; s++) {
          await step(s);
          assert.equal(tf.memory().numTensors, before, `step ${s}: tensor count moved`);
        }
        opt.dispose();
        ids.dispose();
      });
    }
  });
});

describe('validation', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['unknown key', { ...TINY, dmodel: 16 }, /unknown key 'dmodel'/],
    ['numHeads not dividing dModel', { ...TINY, numHeads: 3 }, /numHeads = 3 must divide dModel = 16/],
    ['k > numExperts', { ...TINY, router: 'topk', k: 5 }, /k = 5 exceeds numExperts = 4/],
    ['top1 with k = 2', { ...TINY, router: 'top1', k: 2 }, /router 'top1'.*k = 2/],
    ['sparseEvery negative', { ...TINY, sparseEvery: -1 }, /sparseEvery must be an integer ≥ 0, got -1/],
    ['sparseEvery beyond numLayers', { ...TINY, sparseEvery: 3 }, /sparseEvery = 3 with numLayers = 2/],
    ['capacityFactor 0', { ...TINY, capacityFactor: 0 }, /capacityFactor must be .* got 0/],
    ['evalCapacityFactor NaN', { ...TINY, evalCapacityFactor: NaN }, /evalCapacityFactor/],
    ['seqLen 0', { ...TINY, seqLen: 0 }, /seqLen must be an integer ≥ 1, got 0/],
    ['vocabSize missing', { seqLen: 8 }, /vocabSize must be an integer ≥ 1, got undefined/],
    ['dModel fractional', { ...TINY, dModel: 16.5 }, /dModel must be an integer/],
    ['unknown ffn', { ...TINY, ffn: 'sparse' }, /unknown ffn 'sparse'/],
    ['unknown router', { ...TINY, router: 'hash' }, /unknown router 'hash'/],
    ['unknown activation', { ...TINY, activation: 'swish' }, /unknown activation 'swish'/],
    ['dropout 1', { ...TINY, dropout: 1 }, /dropout must be a number in \[0, 1\), got 1/],
    ['initScale 0', { ...TINY, initScale: 0 }, /initScale/],
    ['tiedEmbeddings not boolean', { ...TINY, tiedEmbeddings: 'yes' }, /tiedEmbeddings must be true or false/],
  ];
  for (const [label, cfg, re] of bad) {
    test(`rejects ${label}`, () => {
      assert.throws(() => resolveModelConfig(cfg as unknown as ModelConfigInput), re);
    });
  }

  test('defaults: top1 resolves k = 1, topk k = 2; undefined fields take defaults; sparseEvery 0 = dense', () => {
    assert.equal(resolveModelConfig({ vocabSize: V }).k, 1);
    assert.equal(resolveModelConfig({ vocabSize: V, router: 'topk' }).k, 2);
    assert.equal(resolveModelConfig({ vocabSize: V, router: 'expert-choice', allowExpertChoice: true, numExperts: 1 }).k, 1);
    assert.equal(resolveModelConfig({ vocabSize: V, dropout: undefined }).dropout, 0);
    assert.deepEqual(moeLayerIndices(resolveModelConfig({ ...TINY, numLayers: 4 })), [1, 3]);
    assert.deepEqual(moeLayerIndices(resolveModelConfig({ ...TINY, sparseEvery: 0 })), []);
    assert.equal(parameterCounts({ ...TINY, sparseEvery: 0 }).total, parameterCounts(DENSE).total);
  });

  test('forward rejects ids wider than seqLen, non-int32 ids and wrong rank', async () => {
    await withModel(DENSE, async (m) => {
      tf.tidy(() => {
        assert.throws(() => m.forward(ids2d(randomIds(1, 9, 1)), { training: false }), /S = 9 positions, more than seqLen = 8/);
        assert.throws(() => m.forward(tf.zeros([1, 4]) as tf.Tensor2D, { training: false }), /int32/);
        assert.throws(() => m.forward(tf.zeros([4], 'int32') as unknown as tf.Tensor2D, { training: false }), /rank 1/);
      });
      // ids ≥ V are not checked by the model (that needs a read-back; see TransformerLM.forward):
      // the cpu and wasm gather kernels throw. tfjs-backend-webgpu's GatherV2 does not check ("Unlike
      // WebGL, WebGPU won't check if index is out of bound"); its shader yields a zero row instead.
      // So on webgpu the forward runs, and its logits stay finite.
      if (BACKEND === 'webgpu') {
        await readTidy(
          () => m.forward(ids2d([[0, V]]), { training: false }).logits,
          async (logits) => assert.ok(((await logits.data()) as Float32Array).every(Number.isFinite), 'logits finite for an id ≥ V on webgpu'),
        );
      } else {
        tf.tidy(() => {
          assert.throws(() => m.forward(ids2d([[0, V]]), { training: false }), /GatherV2/);
        });
      }
    });
    const m = new TransformerLM(DENSE);
    m.dispose();
    assert.throws(() => m.forward(ids2d([[0]]), { training: false }), /disposed/);
  });
});
