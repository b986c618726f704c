/**
 * The trainer's own call of the GPU-error guard (train/trainer.ts, at each scheduled metric read):
 * a WebGPU device error raised while a run is going stops the run with the reason. Deleting that
 * call leaves the run "completed" on untrustworthy numbers, and this test fails.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { takeGpuErrors, useBackend, type DeviceInfo } from '../kernel-lib/backend/index.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { train } from '../kernel-lib/train/trainer.ts';
import { tinyConfig } from './helpers/train-config.ts';

let corpus: Corpus;
let device: DeviceInfo;
before(async () => {
  // Asked for explicitly, so a software adapter (lavapipe in CI) is accepted. No adapter → this fails.
  device = await useBackend('webgpu');
  assert.equal(device.backend, 'webgpu');
  corpus = loadCorpus({ seed: 0, vocabSize: 400 });
});

after(() => assert.deepEqual(takeGpuErrors(), [], 'WebGPU device errors left unreported'));

/** A validation error on the device: tfjs-backend-webgpu's AddN binds one storage buffer per input, 12 exceed the limit of 8. */
async function provokeDeviceError(): Promise<void> {
  const xs = Array.from({ length: 12 }, () => tf.ones([4]));
  const s = tf.addN(xs);
  await s.data();
  tf.dispose([s, ...xs]);
}

test('a WebGPU device error stops the run at its next metric read, naming it', async () => {
  takeGpuErrors();
  await provokeDeviceError();
  await new Promise((r) => setTimeout(r, 50)); // the device reports asynchronously
  const cfg = tinyConfig({ name: 'gpu-guard', backend: 'webgpu', steps: 4, logEvery: 4, evalEvery: 0, checkpointEvery: 0, evalBatches: 1 });
  await assert.rejects(train(cfg, { corpus, device }), /training: the WebGPU device reported \d+ error\(s\), so results are invalid: /);
  assert.deepEqual(takeGpuErrors(), [], 'the guard took the errors it reported');
  // (A clean run completing is train.webgpu.test.ts's; a run right after a device error here is not
  // attempted: Dawn may not survive it.)
});
