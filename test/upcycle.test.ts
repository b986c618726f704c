/**
 * Sparse upcycling and warm starts (`initFrom`, kernel-lib/train/upcycle.ts), on wasm with a tiny
 * model: (a) the weight mapping: every expert and shared expert an exact copy of the dense FFN,
 * the router a fresh run's, every other weight the source's; (b) what the upcycled model computes
 * at step 0: top-k (gates renormalised to sum 1, nothing dropped) gives the dense model's logits,
 * top-1 gives p·FFN(x) (+ S·FFN(x) with S shared experts) in each MoE layer; (c) refusals that
 * name the path and the values and write nothing; (d) a run started from another, stopped and
 * resumed (with its source moved away: it resumes from its own checkpoint) ends bit-identical to
 * an uninterrupted one, and its records say where it started from.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { moeForward, denseFfn, type MoeParams } from '../kernel-lib/moe/index.ts';
import type { TransformerLM } from '../kernel-lib/model/index.ts';
import { findResumePoint, readCheckpointTensors } from '../kernel-lib/train/checkpoint.ts';
import type { TrainConfig } from '../kernel-lib/train/config.ts';
import { parseOverrides } from '../kernel-lib/train/load-config.ts';
import { createModel } from '../kernel-lib/train/model-factory.ts';
import type { TrainState } from '../kernel-lib/train/run-dir.ts';
import { train } from '../kernel-lib/train/trainer.ts';
import { planUpcycle, upcycleWeights } from '../kernel-lib/train/upcycle.ts';
import { cliSync, tinyFlags } from './helpers/proc.ts';
import { lastCheckpoint, metricsOf } from './helpers/resume.ts';
import { tinyConfig } from './helpers/train-config.ts';

const V = 400;
const outDir = mkdtempSync(join(tmpdir(), 'switchyard-upcycle-'));
/** Where the runs go; a final evaluation of 2 batches, not the whole validation split. */
const RUN = { outDir, finalEvalBatches: 2 };
let corpus: Corpus;
/** A finished dense run (12 steps), the source of the runs below. */
let denseDir: string;
before(async () => {
  await useBackend('wasm', { log: false });
  corpus = loadCorpus({ seed: 0, vocabSize: V });
  denseDir = (await train(tinyConfig({ name: 'dense', ...RUN, ffn: 'dense' }), { corpus })).runDir;
});
after(() => rmSync(outDir, { recursive: true, force: true }));

const values = (t: tf.Tensor) => Array.from(t.dataSync());
/** Slice `i` of a stacked [n, ...] weight. */
const sliceOf = (t: tf.Tensor, i: number) => tf.tidy(() => values(tf.squeeze(tf.slice(t, [i, ...t.shape.slice(1).map(() => 0)], [1, ...t.shape.slice(1)]), [0])));
/** The MoE-target settings: both blocks MoE, a shared expert and a router bias. */
const MOE = { sparseEvery: 1, numSharedExperts: 1, biasUpdateRate: 0.01 } as const;
const model = (o: Partial<TrainConfig>, seed: number): TransformerLM => createModel(tinyConfig({ ...o, seed }), V);

describe('(a) the weight mapping', () => {
  test('dense → MoE: experts and shared experts are the dense FFN exactly, routers a fresh run\'s, the rest the source\'s; no tensor left', () => {
    const dense = model({ ffn: 'dense' }, 1);
    const moe = model(MOE, 2);
    const fresh = model(MOE, 2); // what a fresh run with the new run's seed starts from
    try {
      const target = { ...moe.namedVariables(), ...moe.namedState() };
      const before = tf.memory().numTensors;
      const plan = upcycleWeights(dense.namedVariables(), target);
      assert.equal(tf.memory().numTensors, before, 'upcycleWeights left tensors behind');
      const src = dense.namedVariables();
      const ref = { ...fresh.namedVariables(), ...fresh.namedState() };
      for (const i of [0, 1]) {
        for (const w of ['w1', 'w2'] as const) {
          const ffn = values(src[`block${i}/ffn/${w}`]);
          for (let e = 0; e < 4; e++) assert.deepEqual(sliceOf(target[`block${i}/moe/${w}`], e), ffn, `block ${i} expert ${e} ${w}`);
          assert.deepEqual(sliceOf(target[`block${i}/moe/shared_${w}`], 0), ffn, `block ${i} shared expert ${w}`);
          assert.deepEqual(plan.steps[`block${i}/moe/${w}`], { how: 'fromDense', from: `block${i}/ffn/${w}`, copies: 4 });
        }
        for (const n of [`block${i}/moe/router`, `block${i}/moe/router_bias`]) {
          assert.deepEqual(values(target[n]), values(ref[n]), `${n} is not the fresh init`);
          assert.deepEqual(plan.steps[n], { how: 'fresh' });
        }
      }
      assert.ok(values(target['block0/moe/router']).some((x) => x !== 0), 'the router is initialised, not zero');
      const rest = Object.keys(target).filter((n) => !n.includes('/moe/'));
      assert.equal(rest.length, 2 + 2 * 8 + 2, 'embeddings, 2 blocks of LayerNorms and attention, final LayerNorm');
      for (const n of rest) assert.deepEqual(values(target[n]), values(src[n]), `${n} is not the source's`);
      assert.deepEqual(plan.unused, []);
    } finally {
      [dense, moe, fresh].forEach((m) => m.dispose());
    }
  });

  test('the same shapes: a warm start copying every weight and router bias (MoE → MoE, dense → dense)', () => {
    for (const o of [MOE, { ffn: 'dense' as const }]) {
      const a = model(o, 1);
      const b = model(o, 2);
      try {
        tf.tidy(() => Object.values(a.namedState()).forEach((v, i) => v.assign(tf.fill(v.shape, 0.5 + i))));
        const source = { ...a.namedVariables(), ...a.namedState() };
        const target = { ...b.namedVariables(), ...b.namedState() };
        const plan = upcycleWeights(source, target);
        for (const n of Object.keys(target)) {
          assert.deepEqual(plan.steps[n], { how: 'copy', from: n });
          assert.deepEqual(values(target[n]), values(source[n]), n);
        }
      } finally {
        a.dispose();
        b.dispose();
      }
    }
  });

  test('what does not fit is refused, naming the tensor and shapes, before anything is assigned', () => {
    const ffn = { 'block0/ffn/w1': [8, 16], 'block0/ffn/w2': [16, 8] };
    assert.throws(() => planUpcycle(ffn, { 'block0/moe/w1': [4, 8, 12], 'block0/moe/w2': [4, 12, 8], 'block0/moe/router': [8, 4] }), /'block0\/moe\/w1' is \[4,8,12\] here: 4 copies of the source's dense 'block0\/ffn\/w1' \[8,16\] need \[4,8,16\]/);
    assert.throws(() => planUpcycle({ 'block0/moe/w1': [4, 8, 16] }, { 'block0/ffn/w1': [8, 16] }), /no 'block0\/ffn\/w1' \[8,16\]: block 0 is an MoE layer there and dense here/);
    assert.throws(() => planUpcycle({ 'embed/tokens': [10, 8], 'head/w': [8, 10] }, { 'embed/tokens': [10, 8] }), /the source's 'head\/w' \[8,10\] would have no place in this model/);
    assert.throws(() => planUpcycle({ 'embed/tokens': [10, 8] }, { 'embed/tokens': [12, 8] }), /'embed\/tokens' is \[10,8\] in the source, \[12,8\] here/);
    assert.deepEqual(planUpcycle({ 'a': [2], 'opt/m/a': [2], 'block0/moe/router_bias': [4] }, { a: [2] }).unused, ['block0/moe/router_bias'], 'optimizer state is never taken; a router bias may be left');
    const d = model({ ffn: 'dense' }, 1);
    const m = model({ ...MOE, expertDff: 32 }, 2);
    try {
      const before = values(m.namedVariables()['embed/tokens']);
      assert.throws(() => upcycleWeights(d.namedVariables(), m.namedVariables()), /block0\/moe\/w1/);
      assert.deepEqual(values(m.namedVariables()['embed/tokens']), before, 'a refused mapping assigned weights');
    } finally {
      d.dispose();
      m.dispose();
    }
  });
});

describe('(b) the upcycled model at step 0', () => {
  test("top-k (gates renormalised over the k, nothing dropped): the MoE model's logits are the dense model's", () => {
    const o = { sparseEvery: 1, router: 'topk' as const, k: 2, evalCapacityFactor: null };
    const dense = model({ ffn: 'dense' }, 1);
    const moe = model(o, 2);
    try {
      const ids = tf.tidy(() => tf.randomUniform([4, 16], 0, V, 'int32', 7) as tf.Tensor2D);
      const logits = (m: TransformerLM) => tf.tidy(() => values(m.forward(ids, { training: false }).logits));
      const want = logits(dense);
      const maxDiff = (a: number[]) => Math.max(...a.map((x, i) => Math.abs(x - want[i])));
      assert.ok(maxDiff(logits(moe)) > 1e-3, 'before upcycling the models already agree: the check below would prove nothing');
      upcycleWeights(dense.namedVariables(), moe.namedVariables());
      assert.ok(maxDiff(logits(moe)) < 1e-5, `upcycled top-2 logits differ from dense by ${maxDiff(logits(moe))}`);
      ids.dispose();
    } finally {
      dense.dispose();
      moe.dispose();
    }
  });

  test('top-1 with a shared expert: each MoE layer gives (p + 1)·FFN(x), p the top router probability, not FFN(x)', () => {
    const dense = model({ ffn: 'dense' }, 1);
    const moe = model({ sparseEvery: 1, numSharedExperts: 1, evalCapacityFactor: null }, 2);
    try {
      upcycleWeights(dense.namedVariables(), moe.namedVariables());
      const v = moe.namedVariables();
      const d = dense.namedVariables();
      tf.tidy(() => {
        for (const i of [0, 1]) {
          const x = tf.randomNormal([64, 32], 0, 1, 'float32', 11 + i) as tf.Tensor2D; // [T,D]
          const params: MoeParams = { routerWeight: v[`block${i}/moe/router`] as tf.Tensor2D, w1: v[`block${i}/moe/w1`] as tf.Tensor3D, w2: v[`block${i}/moe/w2`] as tf.Tensor3D, sharedW1: v[`block${i}/moe/shared_w1`] as tf.Tensor3D, sharedW2: v[`block${i}/moe/shared_w2`] as tf.Tensor3D };
          const y = values(moeForward(moe.config, params, x, { training: false }).y); // [T,D]
          const ffn = denseFfn({ w1: d[`block${i}/ffn/w1`] as tf.Tensor2D, w2: d[`block${i}/ffn/w2`] as tf.Tensor2D }, x, 'relu'); // [T,D]
          const p = tf.max(tf.softmax(tf.matMul(x, params.routerWeight)), 1, true); // [T,1]
          const want = values(tf.mul(tf.add(p, 1), ffn));
          const plain = values(ffn);
          const diff = Math.max(...y.map((a, j) => Math.abs(a - want[j])));
          assert.ok(diff < 1e-5, `block ${i}: y − (p + 1)·FFN(x) up to ${diff}`);
          assert.ok(Math.max(...y.map((a, j) => Math.abs(a - plain[j]))) > 1e-2, `block ${i}: y equals FFN(x): the gate would not be checked`);
          const pv = values(p);
          assert.ok(Math.min(...pv) > 0.25 && Math.max(...pv) < 1, 'p in (1/E, 1)');
        }
      });
    } finally {
      dense.dispose();
      moe.dispose();
    }
  });
});

describe('(c) refusals name the path and the values, and write nothing', () => {
  const refused = async (name: string, o: Partial<TrainConfig>, re: RegExp, existing = false) => {
    const runDir = join(outDir, name);
    if (existing) mkdirSync(runDir);
    // Another vocabulary size needs its own corpus (built here, from the cache).
    await assert.rejects(train(tinyConfig({ name, ...RUN, ...MOE, ...o }), o.vocabSize ? {} : { corpus }), re);
    if (existing) assert.deepEqual(readdirSync(runDir), [], `${runDir} was written to`);
    else assert.ok(!existsSync(runDir), `${runDir} was created`);
  };

  test('a missing directory, one without a checkpoint, an unfinished run', async () => {
    const missing = join(outDir, 'nope');
    await refused('r-missing', { initFrom: missing }, new RegExp(`^Error: initFrom '${missing}' \\(${missing}\\): no such run directory; nothing was written$`));
    mkdirSync(join(outDir, 'empty'));
    await refused('r-empty', { initFrom: join(outDir, 'empty') }, /initFrom '.*\/empty' .*: no checkpoint: not a run directory, or a run that never started/, true);
    const stopped = await train(tinyConfig({ name: 'stopped', ...RUN, ffn: 'dense' }), { corpus, stopAfterSteps: 6 });
    await refused('r-stopped', { initFrom: stopped.runDir }, /initFrom '.*\/stopped' .*: not a finished run: its run\.json says stopped at step 6; nothing was written/);
  });

  test('shapes that do not fit: each value named, with the source', async () => {
    await refused('r-dmodel', { initFrom: denseDir, dModel: 48 }, new RegExp(`initFrom '${denseDir}' \\(${denseDir}\\): its model does not fit this run's: dModel = 32 there, 48 here; nothing was written`), true);
    await refused('r-width', { initFrom: denseDir, expertDff: 32, sharedDff: 32 }, /blocks 0, 1: expert width \(expertDff \?\? dFf\) = 32 here must be the dense FFN's dFf = 64 there .*; blocks 0, 1: shared expert width \(sharedDff \?\? dFf\) = 32 here/);
    await refused('r-many', { initFrom: denseDir, numHeads: 4, numLayers: 3, tiedEmbeddings: false }, /numHeads = 2 there, 4 here; numLayers = 2 there, 3 here; tiedEmbeddings = true there, false here;/);
    await refused('r-vocab', { initFrom: denseDir, vocabSize: 300 }, /vocabulary 400 there, 300 here/);
    await refused('r-down', { initFrom: denseDir, ffn: 'dense', dFf: 32 }, /blocks 0, 1: dFf = 64 there, 32 here/);
  });

  test('on the command line: --initFrom is parsed, and a bad one exits 2 naming it', () => {
    assert.deepEqual(parseOverrides(['--initFrom=runs/dense']), { initFrom: 'runs/dense' });
    const missing = join(outDir, 'cli-nope');
    const r = cliSync(['train', ...tinyFlags(outDir, 'cli-up', { initFrom: missing })]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`initFrom '${missing}' \\(${missing}\\): no such run directory; nothing was written`));
    assert.ok(!existsSync(join(outDir, 'cli-up')));
  });
});

describe('(d) a run started from another', () => {
  test('records where it started, starts the optimizer afresh, and resumed from its own checkpoint ends bit-identical', async () => {
    const o = { ...RUN, initFrom: denseDir, sparseEvery: 2, numSharedExperts: 1 };
    const straight = await train(tinyConfig({ name: 'up-straight', ...o }), { corpus });
    assert.equal(straight.status, 'completed');
    const r1 = await train(tinyConfig({ name: 'up-interrupted', ...o }), { corpus, stopAfterSteps: 7 });
    assert.equal(r1.status, 'stopped');
    // The resumed run needs no source: moved away, and named where it moved to (as a moved sweep folder would).
    renameSync(denseDir, `${denseDir}.moved`);
    let r2: Awaited<ReturnType<typeof train>>;
    try {
      r2 = await train(tinyConfig({ name: 'up-interrupted', ...o, initFrom: `${denseDir}.moved` }), { corpus });
    } finally {
      renameSync(`${denseDir}.moved`, denseDir);
    }
    assert.equal(r2.status, 'completed');
    assert.deepEqual(metricsOf(r2.runDir), metricsOf(straight.runDir), 'per-step metrics of the resumed run differ');
    assert.equal(r2.finalEval!.loss, straight.finalEval!.loss);
    assert.ok(lastCheckpoint(r2.runDir).equals(lastCheckpoint(straight.runDir)), 'final weights or optimizer state differ');

    // The records: config.json as given (last); environment.json, run.json and every checkpoint with the source it started from.
    const read = (dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
    assert.equal(read(straight.runDir, 'config.json').initFrom, denseDir);
    assert.equal(read(r2.runDir, 'config.json').initFrom, `${denseDir}.moved`);
    for (const rec of [read(r2.runDir, 'run.json').initFrom, read(r2.runDir, 'environment.json').initFrom, r2.initFrom, findResumePoint<TrainState>(join(r2.runDir, 'checkpoints'))!.manifest.state.initFrom]) {
      assert.equal(rec?.given, denseDir);
      assert.equal(rec?.path, denseDir);
      assert.equal(rec?.step, 12);
      assert.equal(rec?.kind, 'upcycle');
      assert.deepEqual(rec?.upcycledBlocks, [1]);
      assert.deepEqual(rec?.fresh, ['block1/moe/router']);
      assert.deepEqual(rec?.fromDense, ['block1/moe/w1', 'block1/moe/w2', 'block1/moe/shared_w1', 'block1/moe/shared_w2']);
    }
    assert.equal(read(straight.runDir, 'environment.json').resumed.length, 0);

    // Step 0 of the new run: the source's final weights in place, the optimizer fresh.
    const ckpt = join(straight.runDir, 'checkpoints');
    const zero = readCheckpointTensors(ckpt, JSON.parse(readFileSync(join(ckpt, 'ckpt-00000000.json'), 'utf8')), () => true);
    const srcPoint = findResumePoint<TrainState>(join(denseDir, 'checkpoints'))!;
    const src = readCheckpointTensors(join(denseDir, 'checkpoints'), srcPoint.manifest, (n) => !n.startsWith('opt/'));
    try {
      assert.equal(srcPoint.manifest.step, 12);
      assert.deepEqual(values(zero['opt/step']), [0]);
      assert.ok(Object.keys(zero).filter((n) => n.startsWith('opt/m/')).every((n) => values(zero[n]).every((x) => x === 0)), 'optimizer moments are not fresh');
      assert.deepEqual(values(zero['block0/ffn/w1']), values(src['block0/ffn/w1']), 'the dense block is the source\'s');
      assert.deepEqual(values(zero['embed/tokens']), values(src['embed/tokens']));
      for (let e = 0; e < 4; e++) assert.deepEqual(sliceOf(zero['block1/moe/w2'], e), values(src['block1/ffn/w2']), `expert ${e}`);
    } finally {
      tf.dispose([...Object.values(zero), ...Object.values(src)]);
    }
  });
});
