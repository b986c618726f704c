/** A tiny training config on the real Brown corpus, small enough for the cpu backend in tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTrainConfig, type TrainConfig } from '../../kernel-lib/train/config.ts';

export function tinyConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return resolveTrainConfig({
    source: 'test',
    values: {
      name: 'tiny',
      outDir: mkdtempSync(join(tmpdir(), 'switchyard-runs-')),
      backend: 'wasm',
      vocabSize: 400,
      seqLen: 16,
      batchSize: 4,
      dModel: 32,
      numHeads: 2,
      numLayers: 2,
      dFf: 64,
      router: 'top1',
      numExperts: 4,
      capacityFactor: 1.0,
      jitterEps: 0.01,
      dropout: 0.1,
      expertDropout: 0.1,
      steps: 12,
      warmupSteps: 3,
      lr: 3e-3,
      logEvery: 4,
      evalEvery: 0,
      evalBatches: 2,
      checkpointEvery: 0,
      progress: 'none',
      ...overrides,
    },
  });
}
