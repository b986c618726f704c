/**
 * Presets: the model size, schedule and seeds every experiment uses at that scale. Each
 * experiment picks its own variations (expert counts, capacity factors, …) per preset.
 *
 * - `quick`: the tests, CI and `npm start`; every experiment end to end in about a minute on 2
 *   cores (wasm). Far too small for the paper's effects to show: its verdicts are honest about that.
 * - `cpu`: a laptop, each experiment within 40 minutes on 2 cores (wasm, two processes).
 * - `gpu`: one GPU through WebGPU.
 * Minutes are in `minutes`, from measurements (README: Experiments).
 */
import type { PresetDef, PresetName } from '../kernel-lib/exp/types.ts';

export const PRESETS: Record<PresetName, PresetDef> = {
  quick: {
    name: 'quick',
    description: 'tests and CI: tiny model, 120 steps per run; shows the machinery, not the effects',
    base: {
      vocabSize: 1000, seqLen: 32, batchSize: 8, dModel: 32, numHeads: 2, numLayers: 2, dFf: 64,
      lr: 3e-3, minLr: 3e-4, logEvery: 10, evalBatches: 4, routingBatches: 4,
    },
    steps: 120,
    schedule: { evalPoints: 4, warmupFraction: 0.1 },
    seeds: [0, 1],
    minutes: '0.2–1.4 per experiment on 2 idle cores (all eight: about 6.5)',
    // Seconds of training: the paper's claims say 'not assessed' (with the effect the runs could have detected);
    // checks run.
    assessesPaperClaims: false,
  },
  cpu: {
    name: 'cpu',
    description: 'a laptop: 4 blocks, D=64, F=256, vocabulary 2,000, 1,024 tokens per step; '
      + 'each experiment within 40 minutes on 2 cores',
    base: {
      vocabSize: 2000, seqLen: 64, batchSize: 16, dModel: 64, numHeads: 4, numLayers: 4, dFf: 256,
      lr: 2e-3, minLr: 2e-4, logEvery: 20, evalBatches: 8, routingBatches: 8,
    },
    // Each experiment sets its own steps to fit about an hour on 4 cores (its sweep.ts).
    steps: 1000,
    schedule: { evalPoints: 10, warmupFraction: 0.05 },
    seeds: [0, 1, 2],
    minutes: 'at most 40 per experiment on 2 cores (wasm, two processes); measured times in docs/results/',
    assessesPaperClaims: true,
  },
  gpu: {
    name: 'gpu',
    description: 'one GPU through WebGPU: 4 blocks, D=256, F=1024, 2,048 tokens per step, 3 seeds',
    base: {
      vocabSize: 8000, seqLen: 128, batchSize: 16, dModel: 256, numHeads: 4, numLayers: 4, dFf: 1024,
      lr: 1e-3, minLr: 1e-4, logEvery: 50, evalBatches: 16, routingBatches: 8,
    },
    // 1,200 steps of 2,048 tokens ≈ 2.2 epochs of Brown's training split (the reports show the train/validation gap).
    steps: 1200,
    schedule: { evalPoints: 12, warmupFraction: 0.03 },
    seeds: [0, 1, 2],
    minutes: 'not measured: no GPU was at hand; time one configuration with `bench train-step --backend webgpu`',
    assessesPaperClaims: true,
  },
};
