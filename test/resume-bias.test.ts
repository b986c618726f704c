/**
 * Loss-free balancing (issue 18, biasUpdateRate > 0) in training on wasm: the router biases move
 * after each step by γ·sign(mean load − load) from the step's loads, are reported per step in the
 * metrics, saved in every checkpoint, and restored on resume, so a run stopped (or killed with
 * SIGKILL) and resumed ends bit-identical to an uninterrupted one: per-step metrics with the
 * biases, the final evaluation, and the final checkpoint's bytes (weights, optimizer and biases).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { findResumePoint } from '../kernel-lib/train/checkpoint.ts';
import { readMetrics, train } from '../kernel-lib/train/trainer.ts';
import { startCli, tinyFlags } from './helpers/proc.ts';
import { lastCheckpoint, metricsOf } from './helpers/resume.ts';
import { tinyConfig } from './helpers/train-config.ts';

let corpus: Corpus;
before(async () => {
  await useBackend('wasm', { log: false });
  corpus = loadCorpus({ seed: 0, vocabSize: 400 });
});


describe('router biases in training (biasUpdateRate)', () => {
  const biased = { router: 'topk' as const, k: 2, capacityFactor: 1.0, evalCapacityFactor: 1.0, biasUpdateRate: 0.01, numSharedExperts: 1, sharedDff: 32 };

  test('each step moves every bias entry by exactly ±γ or 0, opposite to its load, and the metrics report it', async () => {
    const cfg = tinyConfig({ name: 'bias-rule', ...biased, numLayers: 2, sparseEvery: 1 });
    const r = await train(cfg, { corpus });
    assert.equal(r.status, 'completed');
    const rows = readMetrics(r.runDir).train;
    assert.equal(rows.length, 12);
    for (const layer of [0, 1]) {
      let prev = [0, 0, 0, 0];
      let moved = false;
      for (const row of rows) {
        const m = row.moe.find((l) => l.layer === layer)!;
        assert.ok(m.routerBias, `step ${row.step} layer ${layer}: no routerBias in the metrics`);
        const mean = m.countsBefore.reduce((a, b) => a + b, 0) / m.countsBefore.length;
        m.routerBias.forEach((b, e) => {
          const want = Math.fround(prev[e] + Math.fround(0.01 * Math.sign(mean - m.countsBefore[e])));
          assert.equal(b, want, `step ${row.step} layer ${layer} expert ${e}: load ${m.countsBefore[e]} (mean ${mean}), bias ${prev[e]} → ${b}`);
        });
        prev = m.routerBias;
        moved ||= prev.some((b) => b !== 0);
      }
      assert.ok(moved, `layer ${layer}: the biases never moved`);
    }
    // The checkpoint holds the biases as state: not among the optimizer's parameters.
    const point = findResumePoint<unknown>(join(r.runDir, 'checkpoints'))!;
    const names = point.manifest.tensors.map((t) => t.name);
    assert.ok(names.includes('block0/moe/router_bias') && names.includes('block1/moe/router_bias'), names.join(', '));
    assert.ok(!names.some((n) => n.startsWith('opt/') && n.includes('router_bias')), 'the optimizer holds state for the bias');
    assert.ok(names.includes('block1/moe/shared_w1') && names.includes('opt/m/block1/moe/shared_w1'), 'shared experts are trained weights');
  });

  test('a run stopped and resumed equals an uninterrupted one (metrics with the biases, final evaluation, checkpoint bytes)', async () => {
    const straight = tinyConfig({ name: 'bias-straight', ...biased });
    const a = await train(straight, { corpus });
    const interrupted = tinyConfig({ name: 'bias-interrupted', outDir: straight.outDir, ...biased });
    const b1 = await train(interrupted, { corpus, stopAfterSteps: 7 });
    assert.equal(b1.status, 'stopped');
    const b2 = await train(interrupted, { corpus });
    assert.equal(b2.status, 'completed');
    assert.deepEqual(metricsOf(b2.runDir), metricsOf(a.runDir), 'per-step metrics (biases included) of the resumed run differ');
    assert.equal(b2.finalEval!.loss, a.finalEval!.loss);
    assert.ok(lastCheckpoint(a.runDir).equals(lastCheckpoint(b2.runDir)), 'final weights, optimizer state or biases differ');
    // The bias changed what was computed: the same run without it differs.
    const plain = await train(tinyConfig({ name: 'bias-off', outDir: straight.outDir, ...biased, biasUpdateRate: 0 }), { corpus });
    assert.notDeepEqual(readMetrics(plain.runDir).train.map((r) => r.loss), readMetrics(a.runDir).train.map((r) => r.loss));
    assert.equal(readMetrics(plain.runDir).train[0].moe[0].routerBias, undefined, 'no bias, none reported');
  });

  test('SIGKILL mid-run, then the same command again: ends bit-identical to an uninterrupted run', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'switchyard-bias-kill-'));
    const steps = 200;
    const o = { steps, logEvery: 10, checkpointEvery: 25, finalEvalBatches: 2, ...biased };
    const run = startCli(['train', ...tinyFlags(outDir, 'killed', o)]);
    await run.waitForStderr(/step ([4-9]\d|1\d\d)\/200/, 120_000);
    run.proc.kill('SIGKILL');
    assert.equal(await run.exited, 137);
    const killedAt = findResumePoint<unknown>(join(outDir, 'killed', 'checkpoints'))!.manifest.step;
    assert.ok(killedAt > 0 && killedAt < steps, `killed with its last checkpoint at step ${killedAt}`);
    const resumed = startCli(['train', ...tinyFlags(outDir, 'killed', o)]);
    assert.equal(await resumed.exited, 0, resumed.stderr());
    assert.match(resumed.stderr(), new RegExp(`resumed .*killed at step ${killedAt}`));
    const straight = await train(tinyConfig({ name: 'straight', outDir, ...o, progress: 'none' }), { corpus });
    assert.deepEqual(metricsOf(join(outDir, 'killed')), metricsOf(straight.runDir), 'per-step metrics (biases included) differ');
    assert.equal(JSON.parse(readFileSync(join(outDir, 'killed', 'run.json'), 'utf8')).finalEval.loss, straight.finalEval!.loss);
    assert.ok(lastCheckpoint(join(outDir, 'killed')).equals(lastCheckpoint(straight.runDir)), 'final weights, optimizer state or biases differ');
  });
});
