// Issue 18's layer options on the cpu backend, beyond what the MoE suite checks on every backend
// against the float64 reference (test/helpers/moe-suite.ts, 'router bias and shared experts'):
// the configuration fields and their refusals, the conformance format's extension fields, the
// bias update rule, shared experts in the LM, and parameter and FLOP counts with shared and
// fine-grained experts.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { parseCase } from '../kernel-lib/conformance/case.ts';
import { checkCase, runCase } from '../kernel-lib/conformance/run.ts';
import { MoeLayer, moeForward, resolveMoeConfig, routerBiasUpdate, sharedExpertsFfn } from '../kernel-lib/moe/index.ts';
import { activeExperts, describeModel, flopsPerToken, parameterCounts, resolveModelConfig, TransformerLM, type ModelConfigInput } from '../kernel-lib/model/index.ts';
import { resolveTrainConfig } from '../kernel-lib/train/config.ts';
import { loadTrainConfig } from '../kernel-lib/train/load-config.ts';
import { FIXTURE_DIR } from './helpers/moe-suite.ts';

before(async () => {
  await useBackend('cpu', { log: false });
});

describe('configuration: numSharedExperts, sharedDff, biasUpdateRate', () => {
  test('defaults: no shared expert, their width dFf, no bias (at every level)', () => {
    for (const c of [resolveTrainConfig(), resolveModelConfig({ vocabSize: 10 }), resolveMoeConfig({ dModel: 4, dFf: 8 })]) {
      assert.equal(c.numSharedExperts, 0);
      assert.equal(c.sharedDff, null);
      assert.equal(c.biasUpdateRate, 0);
    }
    const layer = new MoeLayer({ dModel: 4, dFf: 8, numExperts: 2 }, { name: 'ext-defaults' });
    try {
      assert.equal(layer.routerBias, null, 'no bias without biasUpdateRate');
      assert.equal(layer.variables().length, 3);
      assert.equal(layer.params.sharedW1, undefined);
    } finally {
      layer.dispose();
    }
  });

  test('a router bias on expert choice is refused, naming the value, at every level', () => {
    assert.throws(
      () => resolveMoeConfig({ dModel: 4, dFf: 8, router: 'expert-choice', biasUpdateRate: 0.01 }),
      /^Error: MoE config: biasUpdateRate = 0.01 with router 'expert-choice' takes no router bias: each expert picks its tokens, balanced by construction; the bias is for token-choice routers \(top1, topk\)$/,
    );
    assert.throws(
      () => resolveTrainConfig({ source: 't', values: { router: 'expert-choice', allowExpertChoice: true, biasUpdateRate: 0.001 } }),
      /^Error: config: biasUpdateRate = 0.001 with router 'expert-choice' takes no router bias/,
    );
    assert.doesNotThrow(() => resolveMoeConfig({ dModel: 4, dFf: 8, router: 'topk', biasUpdateRate: 0.01 }));
  });

  test('bad values are refused naming the key and the value', () => {
    assert.throws(() => resolveMoeConfig({ dModel: 4, dFf: 8, numSharedExperts: -1 }), /MoE config: numSharedExperts must be an integer ≥ 0, got -1/);
    assert.throws(() => resolveMoeConfig({ dModel: 4, dFf: 8, numSharedExperts: 1.5 }), /numSharedExperts must be an integer ≥ 0, got 1.5/);
    assert.throws(() => resolveMoeConfig({ dModel: 4, dFf: 8, biasUpdateRate: -0.1 }), /biasUpdateRate must be a finite number ≥ 0, got -0.1/);
    assert.throws(() => resolveMoeConfig({ dModel: 4, dFf: 8, numSharedExperts: 1, sharedDff: 0 }), /sharedDff must be an integer ≥ 1 or null \(= dFf\), got 0/);
    assert.throws(() => resolveTrainConfig({ source: 'command line', values: { biasUpdateRate: 'fast' } }), /command line: 'biasUpdateRate' must be a number, got "fast"/);
  });

  test('sharedDff without a shared expert is refused (it would size nothing)', () => {
    assert.throws(() => resolveMoeConfig({ dModel: 4, dFf: 8, sharedDff: 16 }), /sharedDff = 16 sizes shared experts, but numSharedExperts = 0/);
    assert.throws(() => resolveTrainConfig({ source: 't', values: { sharedDff: 16 } }), /^Error: config: sharedDff = 16 sizes shared experts, but numSharedExperts = 0/);
  });

  test('the new keys are MoE settings: given for a dense model, refused', async () => {
    for (const flag of ['--numSharedExperts=1', '--biasUpdateRate=0.001', '--sharedDff=null']) {
      await assert.rejects(loadTrainConfig(undefined, ['--ffn=dense', flag]), /command line: '(numSharedExperts|biasUpdateRate|sharedDff)' set for a dense model/);
    }
  });
});

describe('the MoE layer with shared experts', () => {
  test('the shared experts add Σ_s relu(x·W1[s])·W2[s] to the routed output (one concatenated FFN)', async () => {
    const x = tf.tensor2d([[1, -2, 0.5], [0.25, 1, -1]]);
    const w1 = tf.tensor3d([[[1, 0], [0, 1], [1, 1]], [[-1, 2], [0.5, 0], [0, -1]]]); // [2,3,2]
    const w2 = tf.tensor3d([[[1, 0, 2], [0, 1, -1]], [[2, 1, 0], [-1, 0, 1]]]); // [2,2,3]
    try {
      const got = (await tf.tidy(() => sharedExpertsFfn(x, { sharedW1: w1, sharedW2: w2 }, 'relu')).array()) as number[][];
      const want = tf.tidy(() => tf.add(tf.matMul(tf.relu(tf.matMul(x, w1.slice([0, 0, 0], [1, 3, 2]).squeeze([0]))), w2.slice([0, 0, 0], [1, 2, 3]).squeeze([0])), tf.matMul(tf.relu(tf.matMul(x, w1.slice([1, 0, 0], [1, 3, 2]).squeeze([0]))), w2.slice([1, 0, 0], [1, 2, 3]).squeeze([0]))));
      assert.deepEqual(got, await want.array());
      want.dispose();
    } finally {
      tf.dispose([x, w1, w2]);
    }
  });

  test("bad shared weights or bias name the weight and both shapes", () => {
    tf.tidy(() => {
      const cfg = resolveMoeConfig({ dModel: 4, dFf: 6, numExperts: 3, numSharedExperts: 2, sharedDff: 5 });
      const base = { routerWeight: tf.zeros([4, 3]) as tf.Tensor2D, w1: tf.zeros([3, 4, 6]) as tf.Tensor3D, w2: tf.zeros([3, 6, 4]) as tf.Tensor3D };
      const x = tf.zeros([5, 4]);
      const ok = { sharedW1: tf.zeros([2, 4, 5]) as tf.Tensor3D, sharedW2: tf.zeros([2, 5, 4]) as tf.Tensor3D };
      assert.doesNotThrow(() => moeForward(cfg, { ...base, ...ok }, x, { training: false }));
      assert.throws(() => moeForward(cfg, base, x, { training: false }), /numSharedExperts = 2 but no sharedW1 float32\[2,4,5\] was given/);
      assert.throws(() => moeForward(cfg, { ...base, ...ok, sharedW1: tf.zeros([2, 4, 6]) as tf.Tensor3D }, x, { training: false }), /sharedW1 has shape \[2,4,6\], expected \[2,4,5\]/);
      assert.throws(() => moeForward(cfg, { ...base, ...ok, sharedW2: tf.zeros([1, 5, 4]) as tf.Tensor3D }, x, { training: false }), /sharedW2 has shape \[1,5,4\], expected \[2,5,4\]/);
      const plain = resolveMoeConfig({ dModel: 4, dFf: 6, numExperts: 3 });
      assert.throws(() => moeForward(plain, { ...base, ...ok }, x, { training: false }), /shared expert weights given \(sharedW1 \[2,4,5\]\), but numSharedExperts = 0/);
      assert.throws(() => moeForward(plain, { ...base, routerBias: tf.zeros([4]) as tf.Tensor1D }, x, { training: false }), /routerBias has shape \[4\], expected \[3\]/);
    });
  });

  test('shared experts are not in the counts, the dropped fraction or the losses', async () => {
    const plain = new MoeLayer({ dModel: 6, dFf: 8, numExperts: 4, router: 'topk', k: 2, capacityFactor: 0.5, evalCapacityFactor: 0.5 }, { seed: 7, name: 'ext-plain' });
    const shared = new MoeLayer({ dModel: 6, dFf: 8, numExperts: 4, router: 'topk', k: 2, capacityFactor: 0.5, evalCapacityFactor: 0.5, numSharedExperts: 2 }, { seed: 7, name: 'ext-shared' });
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 5);
    try {
      const read = (l: MoeLayer) => tf.tidy(() => {
        const m = l.apply(x, { training: false }).metrics;
        return [m.countsBefore, m.countsKept, m.droppedFraction, m.balanceLoss, m.zLoss];
      });
      const a = read(plain);
      const b = read(shared);
      assert.deepEqual(await Promise.all(b.map((t) => t.data())), await Promise.all(a.map((t) => t.data())), 'same router and experts (same seed): same routing metrics');
      assert.ok((await a[2].data())[0] > 0, 'the case drops');
      tf.dispose([...a, ...b]);
      assert.deepEqual(shared.params.sharedW1!.shape, [2, 6, 8], 'sharedDff null = dFf');
    } finally {
      tf.dispose(x);
      plain.dispose();
      shared.dispose();
    }
  });
});

describe('the router bias update (loss-free balancing)', () => {
  test('b_e += γ·sign(mean load − load_e): overloaded down, underloaded up, at the mean unchanged; a masked step changes no bit', async () => {
    const bias = tf.tensor1d([0.5, -0.25, 0, 1e-3]);
    const load = tf.tensor1d([5, 1, 2, 0]); // mean 2
    try {
      const γ = 0.125;
      const next = routerBiasUpdate(bias, load, γ);
      assert.deepEqual(Array.from(await next.data()), [0.5 - γ, -0.25 + γ, 0, Math.fround(Math.fround(1e-3) + γ)]);
      const kept = tf.tidy(() => routerBiasUpdate(bias, load, γ, tf.scalar(false, 'bool')));
      assert.deepEqual(new Uint32Array((await kept.data()).buffer), new Uint32Array((await bias.data()).buffer));
      tf.dispose([next, kept]);
      assert.throws(() => routerBiasUpdate(bias, tf.zeros([3]) as tf.Tensor1D, γ), /bias \[4\] and load \[3\] must both be \[E\]/);
      assert.throws(() => routerBiasUpdate(bias, load, -1), /rate γ must be a finite number ≥ 0, got -1/);
    } finally {
      tf.dispose([bias, load]);
    }
  });

  test("MoeLayer.updateRouterBias moves the layer's bias from a step's countsBefore, and the next call routes with it", async () => {
    const layer = new MoeLayer({ dModel: 6, dFf: 8, numExperts: 4, router: 'top1', capacityFactor: null, evalCapacityFactor: null, biasUpdateRate: 0.5 }, { seed: 3, name: 'ext-bias' });
    const x = tf.randomNormal([32, 6], 0, 1, 'float32', 9);
    try {
      assert.deepEqual(Array.from(await layer.routerBias!.data()), [0, 0, 0, 0]);
      const counts = async () => {
        const c = tf.tidy(() => layer.apply(x, { training: false }).metrics.countsBefore);
        const v = Array.from(await c.data());
        c.dispose();
        return v;
      };
      const before = await counts();
      const load = tf.tensor1d(before);
      layer.updateRouterBias(load);
      load.dispose();
      const mean = 32 / 4;
      assert.deepEqual(Array.from(await layer.routerBias!.data()), before.map((l) => 0.5 * Math.sign(mean - l)));
      const after = await counts();
      // A bias of ±0.5 outweighs any probability gap: every token leaves the overloaded experts.
      for (let e = 0; e < 4; e++) if (before[e] > mean) assert.equal(after[e], 0, `expert ${e} was overloaded (${before[e]}) and keeps ${after[e]}`);
    } finally {
      x.dispose();
      layer.dispose();
    }
  });
});

describe('conformance cases with the extension fields', () => {
  const good = () => ({
    config: { router: 'topk', k: 2, capacityFactor: 1.0, activation: 'relu', balanceCoef: 0.01, zCoef: 0.001 },
    x: [[1, 2], [3, 4], [5, 6]],
    routerWeight: [[1, 0, 0], [0, 1, 0]],
    w1: [[[1], [2]], [[3], [4]], [[5], [6]]],
    w2: [[[1, 2]], [[3, 4]], [[5, 6]]],
    routerBias: [0.1, 0, -0.1],
    sharedW1: [[[1, 2, 3], [4, 5, 6]]],
    sharedW2: [[[1, 0], [0, 1], [1, 1]]],
  });
  const rejects = (raw: unknown, ...parts: (string | RegExp)[]) =>
    assert.throws(
      () => parseCase(raw, 'case-x'),
      (err: Error) => {
        for (const p of ['case-x', ...parts]) assert.ok(typeof p === 'string' ? err.message.includes(p) : p.test(err.message), `${JSON.stringify(err.message)} should mention ${p}`);
        return true;
      },
    );

  test('a case with a bias and shared experts parses with S and Fs', () => {
    const c = parseCase(good(), 'ok');
    assert.deepEqual(c.dims, { T: 3, D: 2, E: 3, F: 1, S: 1, Fs: 3 });
    assert.deepEqual(c.routerBias, [0.1, 0, -0.1]);
  });

  test('a bias on expert choice is refused, naming the bias', () => {
    const raw = { ...good(), config: { ...good().config, router: 'expert-choice', k: 1 } };
    rejects(raw, 'routerBias [0.1,0,-0.1] is given', "router 'expert-choice' takes no router bias");
  });

  test('wrong shapes and values name the field', () => {
    rejects({ ...good(), routerBias: [0.1, 0] }, 'routerBias has 2 entries, expected 3');
    rejects({ ...good(), routerBias: [0.1, 'x', 0] }, 'routerBias[1] must be a finite number');
    rejects({ ...good(), sharedW2: undefined }, "'sharedW1' is given without 'sharedW2'");
    rejects({ ...good(), sharedW1: undefined }, "'sharedW2' is given without 'sharedW1'");
    rejects({ ...good(), sharedW1: [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]] }, 'sharedW1[0] has 3 rows, but x has D = 2');
    rejects({ ...good(), sharedW2: [[[1, 0], [0, 1]]] }, 'sharedW2[0] has 2 entries, expected 3');
    rejects({ ...good(), sharedW2: [[[1, 0], [0, 1], [1, 1]], [[1, 0], [0, 1], [1, 1]]] }, 'sharedW2 has 2 entries, expected 1');
    rejects({ ...good(), sharedBias: [1] }, "unknown field 'sharedBias'");
  });

  test("expected gradients of a case with shared experts must hold the shared experts'", () => {
    const raw = { ...good(), cotangent: [[1, 1], [1, 1], [1, 1]] };
    const expected = {
      y: [[0, 0], [0, 0], [0, 0]], expertIndex: [0, 1, 1], expertCounts: [1, 1, 1], droppedFraction: 0, balanceLoss: 1, zLoss: 1,
      grads: { x: [[0, 0], [0, 0], [0, 0]], routerWeight: [[0, 0, 0], [0, 0, 0]], w1: [[[0], [0]], [[0], [0]], [[0], [0]]], w2: [[[0, 0]], [[0, 0]], [[0, 0]]] },
    };
    rejects({ ...raw, expected }, "missing field 'expected.grads.sharedW1' (the case has shared experts)");
    const withShared = { ...expected, grads: { ...expected.grads, sharedW1: [[[0, 0, 0], [0, 0, 0]]], sharedW2: [[[0, 0], [0, 0]]] } };
    rejects({ ...raw, expected: withShared }, 'expected.grads.sharedW2[0] has 2 entries, expected 3');
    const { sharedW1: _s1, sharedW2: _s2, ...noShared } = raw;
    rejects({ ...noShared, expected: { ...expected, grads: { ...withShared.grads, sharedW2: [[[0, 0], [0, 0], [0, 0]]] } } }, "unknown fields 'expected.grads.sharedW1', 'expected.grads.sharedW2'");
  });

  // The worked cases (test/helpers/extension-cases.ts) are drawn so that the bias moves choices;
  // the format's example top1-bias.json is not: it passes without its bias as well.
  const biased = readdirSync(FIXTURE_DIR).filter((f) => f.startsWith('ext-') && 'routerBias' in JSON.parse(readFileSync(join(FIXTURE_DIR, f), 'utf8')));
  test('the fixtures hold worked bias cases', () => assert.ok(biased.length >= 5, biased.join(', ')));
  for (const file of biased) {
    test(`${file}: the bias decides (the case fails without it)`, async () => {
      const raw = JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8'));
      const { routerBias: _b, ...unbiased } = raw;
      const c = parseCase(unbiased, file);
      const check = checkCase(await runCase(c), c.expected!);
      assert.ok(!check.pass, 'passes without its bias');
      assert.ok(check.failures.some((f) => /^(expertIndex|expertCounts)/.test(f)), check.failures.join('; '));
    });
  }
});

describe('shared experts in the language model', () => {
  const cfg: ModelConfigInput = { vocabSize: 40, seqLen: 8, dModel: 16, numHeads: 2, numLayers: 2, dFf: 32, numExperts: 4, router: 'topk', k: 2, numSharedExperts: 2, sharedDff: 12 };

  test('named variables, gradients reaching the shared experts, describeModel', async () => {
    const m = new TransformerLM(cfg, { seed: 1, name: 'ext-lm' });
    try {
      const named = m.namedVariables();
      assert.deepEqual(named['block1/moe/shared_w1'].shape, [2, 16, 12]);
      assert.deepEqual(named['block1/moe/shared_w2'].shape, [2, 12, 16]);
      assert.equal(named['block0/moe/shared_w1'], undefined, 'block 0 is dense');
      const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3, 2, 1]], [2, 8], 'int32');
      const { value, grads } = tf.variableGrads(() => tf.mean(m.forward(ids, { training: true, seed: 1 }).logits) as tf.Scalar, m.variables());
      for (const n of ['shared_w1', 'shared_w2']) {
        const g = grads[named[`block1/moe/${n}`].name];
        assert.ok(g && (await tf.tidy(() => tf.max(tf.abs(g))).data())[0] > 0, `no gradient for ${n}`);
      }
      tf.dispose([ids, value, ...Object.values(grads)]);
      assert.match(describeModel(cfg), /top-2 E4 \+ 2 shared \(ff12\) in 1\/2 FFNs/);
    } finally {
      m.dispose();
    }
  });
});

describe('router biases in the language model', () => {
  test('namedState holds each MoE layer\'s bias (not a trained variable); updateState moves it, or with ok false leaves every bit', async () => {
    const m = new TransformerLM({ vocabSize: 40, seqLen: 8, dModel: 16, numHeads: 2, numLayers: 4, dFf: 32, numExperts: 4, biasUpdateRate: 0.25 }, { seed: 2, name: 'ext-lm-bias' });
    try {
      assert.deepEqual(Object.keys(m.namedState()), ['block1/moe/router_bias', 'block3/moe/router_bias']);
      assert.ok(!Object.keys(m.namedVariables()).some((n) => n.includes('router_bias')), 'the bias is not a trained weight');
      const load = tf.tensor1d([10, 2, 4, 0]); // mean 4
      const update = (ok: boolean) => tf.tidy(() => m.updateState([{ layer: 1, countsBefore: load }], tf.scalar(ok, 'bool')).map((b) => b.layer));
      assert.deepEqual(update(false), [1]);
      assert.deepEqual(Array.from(await m.namedState()['block1/moe/router_bias'].data()), [0, 0, 0, 0]);
      update(true);
      assert.deepEqual(Array.from(await m.namedState()['block1/moe/router_bias'].data()), [-0.25, 0.25, 0, 0.25]);
      assert.deepEqual(Array.from(await m.namedState()['block3/moe/router_bias'].data()), [0, 0, 0, 0], 'only the layer whose loads were given');
      load.dispose();
    } finally {
      m.dispose();
    }
  });
});

describe('parameter and FLOP counts with shared and fine-grained experts', () => {
  const base = { vocabSize: 50, seqLen: 8, dModel: 16, numHeads: 2, numLayers: 4, dFf: 32, sparseEvery: 2 } as const;
  const variants: [string, ModelConfigInput][] = [
    ['top1 E4 + 1 shared (width dFf)', { ...base, numExperts: 4, numSharedExperts: 1 }],
    ['top2 E8 of dFf/2 (fine-grained) + 1 shared of dFf/2', { ...base, router: 'topk', k: 2, numExperts: 8, expertDff: 16, numSharedExperts: 1, sharedDff: 16 }],
    ['top4 E16 of dFf/4 + 2 shared of 8, untied, every FFN sparse', { ...base, router: 'topk', k: 4, numExperts: 16, expertDff: 8, numSharedExperts: 2, sharedDff: 8, sparseEvery: 1, tiedEmbeddings: false }],
    ['expert-choice cf 2, E8 of 16, 3 shared', { ...base, router: 'expert-choice', allowExpertChoice: true, capacityFactor: 2, numExperts: 8, expertDff: 16, numSharedExperts: 3 }],
  ];
  for (const [label, cfg] of variants) {
    test(`${label}: total = Σ variable sizes; active = total − the routed experts a token skips`, () => {
      const counts = parameterCounts(cfg);
      const m = new TransformerLM(cfg, { seed: 0, name: `ext-count-${label.length}` });
      try {
        const total = Object.values(m.namedVariables()).reduce((s, v) => s + v.size, 0);
        assert.equal(counts.total, total);
        const c = m.config;
        const Fe = c.expertDff ?? c.dFf;
        const skipped = (c.numExperts - activeExperts(c)) * 2 * c.dModel * Fe * m.moeLayers().length;
        assert.equal(counts.activePerToken, counts.total - skipped, 'shared experts count as active');
      } finally {
        m.dispose();
      }
    });
  }

  test('FLOPs: each shared expert adds 2·(2·D·Fs) per MoE layer; m× finer experts with m× k cost the same as coarse ones, up to the router', () => {
    const { dModel: D } = base;
    const top1 = flopsPerToken({ ...base, numExperts: 4 });
    const withShared = flopsPerToken({ ...base, numExperts: 4, numSharedExperts: 2, sharedDff: 24 });
    const layers = 2; // blocks 1 and 3 of 4
    assert.equal(withShared.forward - top1.forward, layers * 2 * (2 * 2 * D * 24));
    assert.equal(withShared.training, 3 * withShared.forward);
    // E experts of F, top-1 vs 2E of F/2, top-2 vs 4E of F/4, top-4: the same expert FLOPs; the router grows by D·ΔE.
    const fine2 = flopsPerToken({ ...base, router: 'topk', k: 2, numExperts: 8, expertDff: 16 });
    const fine4 = flopsPerToken({ ...base, router: 'topk', k: 4, numExperts: 16, expertDff: 8 });
    assert.equal(fine2.forward - top1.forward, layers * 2 * D * (8 - 4));
    assert.equal(fine4.forward - top1.forward, layers * 2 * D * (16 - 4));
    // ... and the same total parameters, up to the router.
    assert.equal(parameterCounts({ ...base, router: 'topk', k: 4, numExperts: 16, expertDff: 8 }).total - parameterCounts({ ...base, numExperts: 4 }).total, layers * D * (16 - 4));
  });
});
