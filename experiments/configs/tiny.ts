// A tiny Switch LM that trains in about a minute on a CPU: for smoke tests and the README.
import type { TrainConfig } from '../../kernel-lib/train/config.ts';

const config: Partial<TrainConfig> = {
  name: 'tiny-switch',
  vocabSize: 2000,
  seqLen: 32,
  batchSize: 8,
  dModel: 64,
  numHeads: 4,
  numLayers: 2,
  dFf: 128,
  router: 'top1',
  numExperts: 4,
  capacityFactor: 1.25,
  steps: 200,
  warmupSteps: 20,
  lr: 3e-3,
  minLr: 3e-4,
  logEvery: 10,
  evalEvery: 100,
  evalBatches: 4,
  checkpointEvery: 100,
};
export default config;
