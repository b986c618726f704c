/**
 * On the webgpu backend, training steps read nothing back from the GPU: the only reads are the
 * scheduled metric reads (one per `logEvery` steps), the evaluation (one) and the checkpoints
 * (one read per variable each: the starting point at step 0, and the end). Counted by wrapping the backend's read and readSync. Also: device errors,
 * which WebGPU reports asynchronously and tfjs ignores, are caught.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { takeGpuErrors, useBackend, type DeviceInfo } from '../kernel-lib/backend/index.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { createModel } from '../kernel-lib/train/model-factory.ts';
import type { TrainConfig } from '../kernel-lib/train/config.ts';
import { train } from '../kernel-lib/train/trainer.ts';
import { tinyConfig } from './helpers/train-config.ts';

let corpus: Corpus;
let device: DeviceInfo;
let reads = 0;
before(async () => {
  // Asked for explicitly, so a software adapter (lavapipe in CI) is accepted. No adapter → this fails.
  device = await useBackend('webgpu');
  assert.equal(device.backend, 'webgpu');
  const b = tf.backend() as unknown as { read: (id: object) => Promise<unknown>; readSync: (id: object) => unknown };
  const read = b.read.bind(b);
  const readSync = b.readSync.bind(b);
  b.read = (id) => {
    reads++;
    return read(id);
  };
  b.readSync = (id) => {
    reads++;
    return readSync(id);
  };
  corpus = loadCorpus({ seed: 0, vocabSize: 400 });
});

after(() => assert.deepEqual(takeGpuErrors(), [], 'WebGPU device errors'));

async function countReads(steps: number, name: string, extra: Partial<TrainConfig> = {}): Promise<{ reads: number; vars: number }> {
  const cfg = tinyConfig({ name, backend: 'webgpu', steps, logEvery: 5, evalEvery: 0, checkpointEvery: 0, evalBatches: 2, ...extra });
  let vars = 0;
  const start = reads;
  await train(cfg, {
    corpus,
    device,
    createModel: (c, V) => {
      const m = createModel(c, V);
      vars = Object.keys(m.namedVariables()).length;
      return m;
    },
  });
  return { reads: reads - start, vars };
}

/** Runs of 10 and 20 steps read exactly what is scheduled: metrics every 5 steps, one evaluation, two checkpoints. */
async function assertOnlyScheduledReads(label: string, overrides: Parameters<typeof countReads>[2] = {}): Promise<void> {
  const ten = await countReads(10, `${label}10`, overrides);
  const twenty = await countReads(20, `${label}20`, overrides);
  // A checkpoint reads the model variables + AdamW's m and v for each + its step counter; a fresh
  // run writes two: its starting point (step 0) and its end.
  const checkpointReads = 2 * (3 * ten.vars + 1);
  assert.equal(ten.reads, 2 + 1 + checkpointReads, `10 steps: expected 2 metric reads + 1 eval read + ${checkpointReads} checkpoint reads, counted ${ten.reads}`);
  assert.equal(twenty.reads - ten.reads, 2, `10 more steps added ${twenty.reads - ten.reads} reads; only their 2 metric reads were expected`);
}

test('training steps on webgpu make no GPU→CPU reads besides the scheduled ones', () => assertOnlyScheduledReads('reads'));

test('with dropless routing (top-2, no capacity limit) training steps make no GPU→CPU reads besides the scheduled ones', () =>
  // The experts' buffers are sized on the device (packed layout), not by reading the largest load.
  assertOnlyScheduledReads('dropless', { router: 'topk', k: 2, capacityFactor: null, evalCapacityFactor: null }));

test('WebGPU device errors are caught, not silently turned into garbage', async () => {
  // tfjs-backend-webgpu's AddN binds one storage buffer per input: 12 exceed the limit of 8.
  const xs = Array.from({ length: 12 }, () => tf.ones([4]));
  const s = tf.addN(xs);
  await s.data();
  await new Promise((r) => setTimeout(r, 50));
  tf.dispose([s, ...xs]);
  const errs = takeGpuErrors();
  assert.ok(errs.some((e) => /storage buffers|invalid/i.test(e)), `expected a validation error, got ${JSON.stringify(errs)}`);
});
