/**
 * Exact resume on wasm with top-2 routing (GShard: two experts per token, gates renormalised,
 * capacity factor 1 so second choices are dropped, priority 'token' as the LM uses): a run
 * stopped and resumed equals the uninterrupted one, step by step and in its final weights.
 * (train.test.ts does the same with top-1.)
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { readMetrics, train } from '../kernel-lib/train/trainer.ts';
import { lastCheckpoint, metricsOf } from './helpers/resume.ts';
import { tinyConfig } from './helpers/train-config.ts';

let corpus: Corpus;
before(async () => {
  await useBackend('wasm', { log: false });
  corpus = loadCorpus({ seed: 0, vocabSize: 400 });
});


test('top-2 on wasm: a stopped and resumed run equals an uninterrupted one (losses, routing metrics, weights)', async () => {
  const top2 = { router: 'topk' as const, k: 2, capacityFactor: 1.0, evalCapacityFactor: 1.0 };
  const straight = tinyConfig({ name: 'top2-straight', ...top2 });
  const a = await train(straight, { corpus });
  assert.equal(a.status, 'completed');
  const interrupted = tinyConfig({ name: 'top2-interrupted', outDir: straight.outDir, ...top2 });
  const b1 = await train(interrupted, { corpus, stopAfterSteps: 7 });
  assert.equal(b1.status, 'stopped');
  assert.equal(b1.steps, 7);
  const b2 = await train(interrupted, { corpus });
  assert.equal(b2.status, 'completed');
  const ma = metricsOf(a.runDir);
  assert.equal(ma.length, 12);
  // top-2 at capacity factor 1 drops assignments: the case exercises dropping, not only routing
  assert.ok(readMetrics(a.runDir).train.some((r) => r.moe.some((l) => l.droppedFraction > 0)), 'no assignment was dropped');
  assert.deepEqual(metricsOf(b2.runDir), ma, 'per-step loss, grad norm and routing of the resumed run differ from the uninterrupted run');
  assert.equal(b2.finalEval!.loss, a.finalEval!.loss);
  assert.ok(lastCheckpoint(a.runDir).equals(lastCheckpoint(b2.runDir)), 'final weights differ');
  assert.equal(JSON.parse(readFileSync(join(b2.runDir, 'config.json'), 'utf8')).k, 2);
});
