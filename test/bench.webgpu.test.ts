// The benchmarks' kernel sets on webgpu, in one process: every set gets its rows, rows
// multiplied follow each set's layout, and sizes a WebGPU binding cannot hold are refused
// before anything is allocated.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { takeGpuErrors, useBackend, type DeviceInfo } from '../kernel-lib/backend/index.ts';
import { ROW_TILE } from '../kernel-lib/kernels/contracts.ts';
import { parseKernelSets } from '../kernel-lib/bench/kernel-sets.ts';
import type { WebGpuBackendLike } from '../kernel-lib/backend/webgpu-program.ts';
import { benchMoeLayer, type MoeBenchOptions } from '../kernel-lib/bench/moe-layer.ts';

let device: DeviceInfo;
before(async () => {
  device = await useBackend('webgpu', { log: false });
});
after(() => assert.deepEqual(takeGpuErrors(), [], 'WebGPU device errors'));

const small: MoeBenchOptions = {
  tokens: 64, dModel: 8, dFf: 16, experts: [1, 4], router: 'top1', k: 1, capacityFactors: [1.25],
  kernels: ['register', 'tiled', 'builtin'], warmup: 0, repeats: 1, seed: 3,
};

test('bench moe-layer times every capacity factor and kernel set side by side; rows multiplied follow each layout', async () => {
  const tensors = tf.memory().numTensors;
  const rows = await benchMoeLayer({ ...small, capacityFactors: [1.25, null] }, device);
  assert.equal(tf.memory().numTensors, tensors, 'the benchmark leaves no tensors');
  const sets = ['register', 'tiled', 'builtin'];
  assert.deepEqual(
    rows.map((r) => [r.kind, r.capacityFactor, r.kernels, r.experts]),
    [['dense', null, 'tfjs', 1], ...[1.25, null].flatMap((cf) => sets.flatMap((set) => [1, 4].map((E) => ['moe', cf, set, E])))],
  );
  for (const r of rows.slice(1)) {
    const [filled, computed, E, C] = [r.filledSlots, r.rowsComputed, r.experts, r.capacity] as number[];
    const same = rows.filter((q) => q.kind === 'moe' && q.experts === E && q.capacityFactor === r.capacityFactor);
    assert.ok(same.every((q) => q.filledSlots === filled), 'routing does not depend on the kernels');
    if (r.capacityFactor === null) assert.deepEqual([filled, C], [small.tokens, small.tokens], 'dropless keeps every assignment; slots are numbered up to T');
    if (r.kernels === 'builtin') assert.equal(computed, E * C, 'tfjs ops multiply the whole capacity buffer');
    else {
      const tile = ROW_TILE[r.kernels as 'register' | 'tiled'];
      assert.equal(computed % tile, 0, `${r.kernels}: segments are padded to ${tile} rows`);
      assert.ok(computed >= filled && computed < filled + E * tile, `${r.kernels}: ${computed} rows for ${filled} kept: under one tile of padding per expert`);
    }
    if (E === 1) assert.equal(r.vsFewestExperts, 1, 'each group is compared with its own first expert count');
    if (r.capacityFactor === 1.25) assert.equal(r.vsFirstCapacityFactor, 1, 'the first capacity factor is its own reference');
  }
});

test('bench moe-layer refuses a size one WebGPU binding cannot hold, naming the buffer, before allocating', async () => {
  const tensors = tf.memory().numTensors;
  // One expert more than the adapter's limit allows for a [E,1024,1024] weight.
  const limit = (tf.backend() as unknown as WebGpuBackendLike).device.limits.maxStorageBufferBindingSize;
  const E = Math.floor(limit / (4 * 1024 * 1024)) + 1;
  await assert.rejects(benchMoeLayer({ ...small, dModel: 1024, dFf: 1024, experts: [E], kernels: ['ours'] }, device), new RegExp(`w1 \\[${E},1024,1024\\] needs a \\d+ MiB buffer, but this adapter binds at most \\d+ MiB`));
  assert.equal(tf.memory().numTensors, tensors);
});

test('--kernels names a bad set, a repeated set, and a webgpu set on another backend', () => {
  assert.deepEqual(parseKernelSets('ours,builtin', 'webgpu'), ['ours', 'builtin']);
  assert.throws(() => parseKernelSets('ours,fast', 'webgpu'), /unknown kernel set 'fast'/);
  assert.throws(() => parseKernelSets('tiled,tiled', 'webgpu'), /names a set twice/);
  assert.throws(() => parseKernelSets('builtin', 'wasm'), /'builtin' is a webgpu kernel set; backend wasm/);
});
