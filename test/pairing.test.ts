/**
 * The pairing guarantee the verdicts rest on (README: Experiments): runs of one sweep that share
 * a seed share the training data order, the evaluation batches and the initial weights of every
 * layer their models have in common, so per-seed differences between arms cancel the seed's own
 * luck. Tested on every experiment's sweep at every preset, and on the models themselves.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { EXPERIMENTS, PRESETS } from '../experiments/index.ts';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { BatchStream } from '../kernel-lib/data/batches.ts';
import type { SplitData } from '../kernel-lib/data/corpus.ts';
import { resolveSweep } from '../kernel-lib/exp/sweep-file.ts';
import type { PresetName } from '../kernel-lib/exp/types.ts';
import { TransformerLM } from '../kernel-lib/model/transformer.ts';
import type { ModelConfigInput } from '../kernel-lib/model/config.ts';
import { sizeOf } from '../experiments/common.ts';

/** Every setting the trainer builds the training stream and the evaluation sets from (trainer.ts). */
const DATA_KEYS = ['corpus', 'splitSeed', 'vocabSize', 'seqLen', 'batchSize', 'evalBatches', 'finalEvalBatches', 'routingBatches', 'steps', 'evalEvery'] as const;

describe('same seed ⇒ same data order, evaluation batches and shared-layer initial weights', () => {
  before(async () => {
    await useBackend('cpu', { log: false });
  });

  for (const [name, exp] of Object.entries(EXPERIMENTS)) {
    for (const preset of Object.keys(PRESETS) as PresetName[]) {
      test(`${name}/${preset}: arms with the same seed read the same data`, () => {
        const p = PRESETS[preset];
        const sweep = resolveSweep(exp, preset, { presetBase: p.base, steps: p.steps, schedule: p.schedule, backend: 'wasm' });
        const bySeed = new Map<number, typeof sweep.runs>();
        for (const r of sweep.runs) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r]);
        assert.ok(bySeed.size >= 2, 'a paired comparison needs at least two seeds');
        const groups = new Set(sweep.runs.map((r) => r.group));
        for (const [seed, runs] of bySeed) {
          assert.equal(runs.length, groups.size, `seed ${seed}: every arm must run it (${runs.map((r) => r.group).join(', ')})`);
          for (const r of runs) {
            assert.equal(r.config.seed, seed, `${r.id}: the run's seed is its config's`);
            for (const k of DATA_KEYS) assert.deepEqual(r.config[k], runs[0].config[k], `${r.id}: '${k}' differs from ${runs[0].id}'s, so the data differ`);
          }
        }
      });
    }
  }

  test('the training stream depends on the seed alone (given the split and the batch shape)', () => {
    const n = 5000;
    const split: SplitData = { name: 'train', docIds: ['a'], ids: Int32Array.from({ length: n }, (_, i) => (i * 7919) % 1000), tags: new Uint16Array(n), coarse: new Uint8Array(n), genre: new Uint8Array(n), doc: new Uint16Array(n), stats: {} as SplitData['stats'] };
    const take = (seed: number) => new BatchStream(split, { seqLen: 16, batchSize: 4, seed }).take(6).map((b) => Array.from(b.inputs));
    assert.deepEqual(take(3), take(3));
    assert.notDeepEqual(take(3), take(4), 'another seed, another order');
  });

  test('a dense and a Switch model of one seed start with the same weights in every layer they share', () => {
    const base: ModelConfigInput = { vocabSize: 300, seqLen: 16, dModel: 32, numHeads: 2, numLayers: 4, dFf: 64 };
    const before = tf.memory().numTensors;
    const dense = new TransformerLM({ ...base, ffn: 'dense' }, { seed: 7 });
    const sw = new TransformerLM({ ...base, ffn: 'moe', router: 'top1', numExperts: 4, sparseEvery: 2 }, { seed: 7 });
    const other = new TransformerLM({ ...base, ffn: 'moe', router: 'top1', numExperts: 4, sparseEvery: 2 }, { seed: 8 });
    try {
      const d = dense.namedVariables();
      const s = sw.namedVariables();
      const o = other.namedVariables();
      const shared = Object.keys(d).filter((k) => k in s && String(d[k].shape) === String(s[k].shape));
      // Embeddings, every attention and layer norm, and the dense FFNs of the blocks left dense.
      assert.ok(shared.includes('embed/tokens') && shared.includes('block3/attn/wq') && shared.includes('block0/ffn/w1'), shared.join(', '));
      assert.ok(!shared.some((k) => k.startsWith('block1/ffn') || k.startsWith('block3/ffn')), 'the sparse blocks have no dense FFN');
      for (const k of shared) assert.deepEqual(Array.from(d[k].dataSync()), Array.from(s[k].dataSync()), `${k} differs between dense and Switch of one seed`);
      for (const k of shared.filter((x) => !/(^|\/)ln[^/]*\/(gain|bias)$/.test(x))) {
        assert.notDeepEqual(Array.from(s[k].dataSync()), Array.from(o[k].dataSync()), `${k} is the same under another seed`);
      }
    } finally {
      dense.dispose();
      sw.dispose();
      other.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'the models leave no tensor behind');
  });
});

describe('FLOP matching of the scaling arms (flopsPerToken)', () => {
  for (const preset of ['quick', 'cpu', 'gpu'] as PresetName[]) {
    test(`scaling/${preset}: Switch = dense + routers; dense-2f = top-2 − the top-2 router's extra columns`, () => {
      const p = PRESETS[preset];
      const sweep = resolveSweep(EXPERIMENTS.scaling, preset, { presetBase: p.base, steps: p.steps, schedule: p.schedule, backend: 'wasm' });
      const first = (group: string) => sweep.runs.find((r) => r.group === group) ?? assert.fail(`no ${group} arm`);
      const flops = (group: string) => sizeOf(first(group)).flops;
      const { dModel: D, numLayers: L } = first('dense').config;
      const sparseLayers = (every: number) => Math.floor(L / every); // blocks every-1, 2·every-1, … (1-based: every other block)
      let switchArms = 0;
      for (const g of new Set(sweep.runs.map((r) => r.group))) {
        const m = /^switch-e(\d+)(-all)?$/.exec(g);
        if (!m) continue;
        switchArms++;
        const E = Number(m[1]);
        // A router is a D×E matmul: 2·D·E forward FLOPs per token per sparse layer, ×3 for training.
        assert.equal(flops(g) - flops('dense'), 3 * 2 * D * E * sparseLayers(m[2] ? 1 : 2), `${g}`);
      }
      assert.ok(switchArms >= 2, 'at least two Switch arms');
      if (preset === 'cpu') {
        assert.ok(!sweep.runs.some((r) => r.group === 'dense-2f'), 'cpu runs no top-2');
        return;
      }
      const top2 = [...new Set(sweep.runs.map((r) => r.group))].find((g) => g.startsWith('top2-e')) ?? assert.fail('no top-2 arm');
      const E = Number(top2.slice('top2-e'.length));
      // dense-2f is one always-chosen expert of width 2F (router D×1) where top-2 has E experts of width F (router D×E).
      assert.equal(flops(top2) - flops('dense-2f'), 3 * 2 * D * (E - 1) * sparseLayers(2));
      assert.equal(first('dense-2f').config.expertDff, 2 * first('dense').config.dFf);
    });
  }
});
