import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { resolveTrainConfig, DEFAULT_TRAIN_CONFIG } from '../kernel-lib/train/config.ts';
import { loadTrainConfig, parseOverrides } from '../kernel-lib/train/load-config.ts';
import { createModel } from '../kernel-lib/train/model-factory.ts';
import { learningRate } from '../kernel-lib/train/schedule.ts';
import { readMetrics, train, TrainingDiverged, type StepMetrics } from '../kernel-lib/train/trainer.ts';
import type { LanguageModel } from '../kernel-lib/train/lm.ts';
import { tinyConfig } from './helpers/train-config.ts';

let corpus: Corpus;
before(async () => {
  await useBackend('wasm', { log: false });
  corpus = loadCorpus({ seed: 0, vocabSize: 400 });
});

const lossesOf = (runDir: string) => readMetrics(runDir).train.map((r) => [r.step, r.loss, r.gradNorm]);

describe('trainer', () => {
  test('a stopped and resumed run equals an uninterrupted one (data order, noise, losses, weights)', async () => {
    const straight = tinyConfig({ name: 'straight' });
    const a = await train(straight, { corpus });
    assert.equal(a.status, 'completed');
    const interrupted = tinyConfig({ name: 'interrupted', outDir: straight.outDir });
    const b1 = await train(interrupted, { corpus, stopAfterSteps: 6 });
    assert.equal(b1.status, 'stopped');
    assert.equal(b1.steps, 6);
    const b2 = await train(interrupted, { corpus });
    assert.equal(b2.status, 'completed');
    const la = lossesOf(a.runDir);
    const lb = lossesOf(b2.runDir);
    assert.equal(la.length, 12);
    assert.deepEqual(lb, la, 'per-step loss and grad norm of the resumed run differ from the uninterrupted run');
    assert.equal(b2.finalEval!.loss, a.finalEval!.loss);
    // Same final weights: the final checkpoints are byte-identical.
    const bin = (dir: string) => readFileSync(join(dir, 'checkpoints', readdirSync(join(dir, 'checkpoints')).filter((f) => f.endsWith('.bin')).sort().pop()!));
    assert.ok(bin(a.runDir).equals(bin(b2.runDir)), 'final weights differ');
    // The record: config, environment (with the resumption), vocabulary, run summary.
    const env = JSON.parse(readFileSync(join(b2.runDir, 'environment.json'), 'utf8'));
    assert.equal(env.resumed.length, 1);
    assert.equal(env.resumed[0].step, 6);
    assert.equal(env.device.backend, 'wasm');
    assert.equal(JSON.parse(readFileSync(join(b2.runDir, 'config.json'), 'utf8')).name, 'interrupted');
    assert.ok(existsSync(join(b2.runDir, 'vocab.json')));
    assert.equal(JSON.parse(readFileSync(join(b2.runDir, 'run.json'), 'utf8')).status, 'completed');
  });

  test('loss falls, metrics carry per-layer routing, and no tensors accumulate across steps', async () => {
    const counts: number[] = [];
    const rows: StepMetrics[] = [];
    const before = tf.memory().numTensors;
    const res = await train(tinyConfig({ name: 'mem', steps: 40, logEvery: 5, lr: 1e-2, evalEvery: 20 }), {
      corpus,
      onMetrics: (r) => {
        rows.push(...r);
        counts.push(tf.memory().numTensors);
      },
    });
    assert.equal(tf.memory().numTensors, before, 'tensors left after training');
    assert.equal(counts.length, 8);
    assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor count changed across metric reads: ${counts.join(', ')}`);
    const first = rows.slice(0, 5).reduce((a, r) => a + r.crossEntropy, 0) / 5;
    const last = rows.slice(-5).reduce((a, r) => a + r.crossEntropy, 0) / 5;
    assert.ok(last < first - 0.5, `cross-entropy did not fall: ${first.toFixed(3)} → ${last.toFixed(3)}`);
    const r = rows[rows.length - 1];
    assert.equal(r.moe.length, 1, 'one MoE layer (every other of 2)');
    assert.equal(r.moe[0].layer, 1);
    assert.equal(r.moe[0].countsBefore.reduce((a, b) => a + b, 0), 64, 'B·S tokens routed');
    assert.ok(r.moe[0].countsKept.every((c) => c <= 16), 'kept ≤ C = ceil(1.0·64/4)');
    assert.ok(Math.abs(r.loss - (r.crossEntropy + 1e-2 * r.balanceLoss + 1e-3 * r.zLoss)) < 1e-4, 'loss = ce + α·balance + zCoef·z');
    assert.ok(r.tokensPerSec > 0 && r.stepMs > 0);
    assert.equal(res.finalEval!.step, 40);
    assert.equal(readMetrics(res.runDir).eval.length, 2);
    assert.ok(Math.abs(res.finalEval!.negLogPerplexity + res.finalEval!.loss) < 1e-12);
  });

  test('a non-finite loss stops the run, says where, and keeps the last good checkpoint', async () => {
    let calls = 0;
    const poisoned = (cfg: typeof DEFAULT_TRAIN_CONFIG, V: number): LanguageModel => {
      const inner = createModel(cfg, V);
      return {
        namedVariables: () => inner.namedVariables(),
        dispose: () => inner.dispose(),
        forward: (ids, o) => {
          const out = inner.forward(ids, o);
          if (o.training && ++calls === 7) return { ...out, logits: tf.mul(out.logits, NaN) as tf.Tensor3D };
          return out;
        },
      };
    };
    const cfg = tinyConfig({ name: 'nan', steps: 12, checkpointEvery: 5, logEvery: 4 });
    await assert.rejects(train(cfg, { corpus, createModel: poisoned }), (err: unknown) => {
      assert.ok(err instanceof TrainingDiverged, String(err));
      assert.match(err.message, /step 7/);
      assert.equal(err.result.status, 'diverged');
      assert.equal(err.result.diverged!.step, 7);
      return true;
    });
    const runDir = join(cfg.outDir, cfg.name);
    const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    assert.equal(record.status, 'diverged');
    assert.equal(record.diverged.step, 7);
    const latest = JSON.parse(readFileSync(join(runDir, 'checkpoints', 'latest.json'), 'utf8'));
    assert.equal(latest.step, 5, 'the checkpoint before divergence is kept as the latest');
    const rows = readMetrics(runDir).train;
    assert.equal(rows.find((r) => r.step === 7)!.finite, false);
    assert.ok(rows.filter((r) => r.step < 7).every((r) => r.finite));
  });

  test('learning-rate schedule: linear warm-up, cosine decay to minLr', () => {
    const o = { lr: 1, minLr: 0.1, warmupSteps: 10, steps: 110, decay: 'cosine' as const };
    assert.equal(learningRate(0, o), 0.1);
    assert.equal(learningRate(9, o), 1);
    assert.ok(Math.abs(learningRate(60, o) - 0.55) < 1e-12);
    assert.ok(Math.abs(learningRate(110, o) - 0.1) < 1e-12);
    assert.equal(learningRate(50, { ...o, decay: 'none' }), 1);
  });
});

describe('training config', () => {
  test('defaults resolve; overrides are typed', () => {
    assert.deepEqual(resolveTrainConfig(), DEFAULT_TRAIN_CONFIG);
    const o = parseOverrides(['--steps=5', '--capacityFactor=null', '--router', 'topk', '--resume=false', '--lr=3e-4']);
    assert.deepEqual(o, { steps: 5, capacityFactor: null, router: 'topk', resume: false, lr: 3e-4 });
    const cfg = resolveTrainConfig({ source: 'cli', values: o });
    assert.equal(cfg.capacityFactor, null);
  });

  test('bad keys and values are rejected with the key and value named', async () => {
    assert.throws(() => parseOverrides(['--stpes=5']), /unknown config key 'stpes'/);
    assert.throws(() => parseOverrides(['--steps=many']), /--steps: expected a number, got 'many'/);
    assert.throws(() => parseOverrides(['--resume=maybe']), /--resume: expected true or false/);
    assert.throws(() => parseOverrides(['steps=5']), /unexpected argument 'steps=5'/);
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { steps: 2.5 } }), /'steps' must be an integer, got 2.5/);
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { router: 'top3' } }), /'router' must be one of top1, topk, expert-choice, got 'top3'/);
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { lr: '1e-3' } as never }), /'lr' must be a number, got "1e-3"/);
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { capacityFactor: 'none' } as never }), /'capacityFactor' must be a number or null/);
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { batchSize: 0 } }), /'batchSize' must be ≥ 1, got 0/);
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { minLr: 1 } }), /'minLr' must be in \[0, lr=0.001\], got 1/);
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { name: '../escape' } }), /'name' must be one path component/);
    await assert.rejects(loadTrainConfig('no/such/config.ts', []), /config file no\/such\/config.ts does not exist/);
    await assert.rejects(loadTrainConfig('package.json', []), /unknown config key 'name'|unknown config key/);
  });

  test('the model config is validated with the training config (expert choice needs its flag)', () => {
    assert.throws(() => tinyConfig({ name: 'ec', router: 'expert-choice' }), /expert-choice|Expert Choice/);
    assert.equal(tinyConfig({ name: 'ec', router: 'expert-choice', allowExpertChoice: true }).router, 'expert-choice');
    assert.throws(() => tinyConfig({ numHeads: 3 }), /numHeads = 3 must divide dModel = 32/);
    assert.throws(() => tinyConfig({ expertDff: 0 }), /expertDff/);
  });

  test('resuming with a changed model config is refused, naming the keys, and leaks nothing', async () => {
    const cfg = tinyConfig({ name: 'change', steps: 4 });
    await train(cfg, { corpus });
    const before = tf.memory().numTensors;
    await assert.rejects(train({ ...cfg, dModel: 64, steps: 8 }, { corpus }), /its config differs in 'dModel' \(32 there, 64 now\)/);
    assert.equal(tf.memory().numTensors, before, 'a refused resume left tensors behind');
  });

  test('with resume off, an existing run is not overwritten', async () => {
    const cfg = tinyConfig({ name: 'keep', steps: 4 });
    const first = await train(cfg, { corpus, stopAfterSteps: 2 });
    const metrics = readFileSync(join(first.runDir, 'metrics.jsonl'), 'utf8');
    await assert.rejects(train({ ...cfg, resume: false }, { corpus }), /has checkpoints \(step 2\) and resume is off; nothing was changed/);
    assert.equal(readFileSync(join(first.runDir, 'metrics.jsonl'), 'utf8'), metrics, 'metrics of the existing run changed');
  });
});
