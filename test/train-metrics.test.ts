// A training step's metrics vector (kernel-lib/train/metrics.ts): what step.ts encodes is what
// the read-back decodes, field by field, with the layout declared in one place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { decodeStep, encodeForward, encodeStep, layoutOf, PendingSteps } from '../kernel-lib/train/metrics.ts';
import type { LmForward } from '../kernel-lib/train/lm.ts';
import type { RoutingMetrics } from '../kernel-lib/moe/layer.ts';

await tf.setBackend('cpu');

const layer = (base: number, E: number): RoutingMetrics => ({
  droppedFraction: tf.scalar(base + 0.1),
  entropy: tf.scalar(base + 0.2),
  balanceLoss: tf.scalar(base + 0.3),
  zLoss: tf.scalar(base + 0.4),
  meanTopProb: tf.scalar(base + 0.5),
  countsBefore: tf.tensor1d(Array.from({ length: E }, (_, e) => base + 10 + e)),
  countsKept: tf.tensor1d(Array.from({ length: E }, (_, e) => base + 20 + e)),
  capacity: 4,
});

test('encode then decode gives every field back, by name, for each MoE layer', async () => {
  const E = 3;
  const out = { logits: tf.zeros([1, 1, 2]), auxLoss: tf.scalar(0), balanceLoss: tf.scalar(7), zLoss: tf.scalar(8), moe: [{ layer: 1, metrics: layer(100, E) }, { layer: 3, metrics: layer(200, E) }] } as LmForward;
  const layout = layoutOf(out);
  assert.deepEqual(layout, { layers: [1, 3], experts: E });
  const vec = encodeStep(tf.scalar(5), tf.scalar(2.5), tf.scalar(true, 'bool'), encodeForward(tf.scalar(4), out));
  assert.equal(vec.shape[0], 6 + 2 * (5 + 2 * E));
  const { head, moe } = decodeStep((await vec.data()) as Float32Array, layout);
  assert.deepEqual(head, { loss: 5, gradNorm: 2.5, finite: true, crossEntropy: 4, balanceLoss: 7, zLoss: 8 });
  assert.deepEqual(Object.keys(head), ['loss', 'gradNorm', 'finite', 'crossEntropy', 'balanceLoss', 'zLoss'], 'the order of a metrics.jsonl row');
  const near = (xs: number[]) => xs.map((x) => Math.round(x * 1e4) / 1e4);
  assert.deepEqual(moe.map((m) => [m.layer, ...near([m.droppedFraction, m.entropy, m.balanceLoss, m.zLoss, m.meanTopProb]), m.countsBefore, m.countsKept]), [
    [1, 100.1, 100.2, 100.3, 100.4, 100.5, [110, 111, 112], [120, 121, 122]],
    [3, 200.1, 200.2, 200.3, 200.4, 200.5, [210, 211, 212], [220, 221, 222]],
  ]);
});

test('waiting vectors are read back together as rows in step order, and freed', async () => {
  const out = { logits: tf.zeros([1, 1, 2]), auxLoss: tf.scalar(0), balanceLoss: tf.scalar(0), zLoss: tf.scalar(0), moe: [] } as LmForward;
  const pending = new PendingSteps(64);
  const before = tf.memory().numTensors;
  for (const s of [0, 1, 2]) pending.push(s, 0.1 * s, tf.tidy(() => encodeStep(tf.scalar(s), tf.scalar(1), tf.scalar(s !== 1, 'bool'), encodeForward(tf.scalar(s), out))));
  assert.equal(tf.memory().numTensors, before + 3, 'one vector waits per step');
  const rows = await pending.read(layoutOf(out));
  assert.deepEqual(rows.map((r) => [r.step, r.loss, r.finite, r.lr]), [[1, 0, true, 0], [2, 1, false, 0.1], [3, 2, true, 0.2]]);
  assert.deepEqual(Object.keys(rows[0]), ['step', 'loss', 'gradNorm', 'finite', 'crossEntropy', 'balanceLoss', 'zLoss', 'lr', 'stepMs', 'cpuMs', 'tokensPerSec', 'moe']);
  assert.equal(tf.memory().numTensors, before, 'the read vectors were freed');
  assert.deepEqual(await pending.read(layoutOf(out)), [], 'nothing waits after a read');
});

test('router biases (biasUpdateRate > 0) end the vector and decode into their layers as routerBias; without them no key', async () => {
  const E = 3;
  const out = { logits: tf.zeros([1, 1, 2]), auxLoss: tf.scalar(0), balanceLoss: tf.scalar(7), zLoss: tf.scalar(8), moe: [{ layer: 1, metrics: layer(100, E) }, { layer: 3, metrics: layer(200, E) }] } as LmForward;
  const layout = { ...layoutOf(out), biasLayers: [3] };
  const vec = encodeStep(tf.scalar(5), tf.scalar(2.5), tf.scalar(true, 'bool'), encodeForward(tf.scalar(4), out), [tf.tensor1d([0.5, -0.25, 0])]);
  assert.equal(vec.shape[0], 6 + 2 * (5 + 2 * E) + E);
  const { moe } = decodeStep((await vec.data()) as Float32Array, layout);
  assert.equal(moe[0].routerBias, undefined);
  assert.deepEqual(moe[1].routerBias, [0.5, -0.25, 0]);
  assert.deepEqual(Object.keys(moe[1]), ['layer', 'droppedFraction', 'entropy', 'balanceLoss', 'zLoss', 'meanTopProb', 'countsBefore', 'countsKept', 'routerBias'], 'the order of a metrics.jsonl layer');
  assert.deepEqual(Object.keys(decodeStep((await vec.data()).subarray(0, vec.shape[0] - E) as Float32Array, layoutOf(out)).moe[1]), ['layer', 'droppedFraction', 'entropy', 'balanceLoss', 'zLoss', 'meanTopProb', 'countsBefore', 'countsKept']);
});
