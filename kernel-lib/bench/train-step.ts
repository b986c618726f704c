/**
 * `bench train-step`: tokens/s of full training steps (forward, backward, clipping, AdamW) for a
 * dense LM and MoE LMs of equal active FLOPs per token, side by side in one process:
 * dense (FFN width F), Switch top-1 (experts of width F), top-2 (experts of width F/2, so two
 * experts cost one dense FFN). Token ids are synthetic: speed does not depend on the text.
 * On webgpu the MoE models can be timed under several kernel sets (kernel-sets.ts) in one run.
 */
import * as tf from '@tensorflow/tfjs';
import type { DeviceInfo } from '../backend/index.ts';
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig, type TrainConfig } from '../train/config.ts';
import { AdamW } from '../train/optimizer.ts';
import { createTrainStep } from '../train/step.ts';
import { flopsPerToken } from '../model/counts.ts';
import { createModel, modelConfigOf } from '../train/model-factory.ts';
import { kernelSetName, withKernelSet, type KernelSet } from './kernel-sets.ts';
import { timeInterleaved } from './timing.ts';

export interface TrainBenchOptions {
  dModel: number;
  numLayers: number;
  numHeads: number;
  dFf: number;
  numExperts: number;
  seqLen: number;
  batchSize: number;
  vocabSize: number;
  capacityFactor: number | null;
  /** MoE kernel sets timed side by side (webgpu); ['ours'] elsewhere. The dense model runs once. */
  kernels: KernelSet[];
  warmup: number;
  repeats: number;
}

export interface TrainBenchRow {
  model: 'dense' | 'top1' | 'top2';
  /** What ran the experts (kernel-sets.ts `kernelSetName`); `tfjs` for the dense model. */
  kernels: string;
  backend: string;
  device: string;
  gpu: boolean;
  experts: number;
  expertDff: number;
  capacityFactor: number | null;
  trainingFlopsPerToken: number;
  medianMs: number;
  tokensPerSec: number;
  /** tokensPerSec / dense tokensPerSec in this run. */
  vsDense: number;
}

export async function benchTrainStep(o: TrainBenchOptions, device: DeviceInfo, onRow?: (r: TrainBenchRow) => void): Promise<TrainBenchRow[]> {
  const base: Partial<TrainConfig> = {
    dModel: o.dModel, numLayers: o.numLayers, numHeads: o.numHeads, seqLen: o.seqLen, batchSize: o.batchSize,
    vocabSize: o.vocabSize, numExperts: o.numExperts, capacityFactor: o.capacityFactor, evalCapacityFactor: o.capacityFactor,
  };
  if (o.dFf % 2) throw new Error(`bench train-step: dFf must be even (top-2 experts get dFf/2), got ${o.dFf}`);
  const variants: { model: TrainBenchRow['model']; cfg: Partial<TrainConfig> }[] = [
    { model: 'dense', cfg: { ...base, sparseEvery: 0, dFf: o.dFf } },
    { model: 'top1', cfg: { ...base, router: 'top1', dFf: o.dFf } },
    { model: 'top2', cfg: { ...base, router: 'topk', k: 2, dFf: o.dFf, expertDff: o.dFf / 2 } },
  ];
  const rows: TrainBenchRow[] = [];
  const N = o.batchSize * o.seqLen;
  // Synthetic ids from a fixed seed: the same batch for every model.
  const ids = Int32Array.from({ length: N }, (_, i) => (i * 2654435761) % o.vocabSize >>> 0);
  const targets = Int32Array.from({ length: N }, (_, i) => ids[(i + 1) % N]);
  const built = variants.map((v) => {
    const cfg = resolveTrainConfig({ source: 'bench', values: v.cfg });
    const model = createModel(cfg, o.vocabSize);
    const params = model.namedVariables();
    const opt = new AdamW(params, { beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: DEFAULT_TRAIN_CONFIG.weightDecay });
    const stepper = createTrainStep(model, params, opt, { batchSize: o.batchSize, seqLen: o.seqLen, seed: 0, gradClip: 1 });
    let step = 0;
    return { v, cfg, model, opt, run: () => tf.tidy(() => tf.sum(stepper.run(ids, targets, step++, 1e-4)) as tf.Scalar) };
  });
  // The dense model once, each MoE model under each kernel set (the same model: sets alternate
  // on its weights), all in one round-robin.
  const configs = [{ b: built[0], set: 'ours' as KernelSet }, ...o.kernels.flatMap((set) => built.slice(1).map((b) => ({ b, set })))];
  try {
    // Round-robin timing: every model sees the same drift in machine speed.
    const timings = await timeInterleaved(configs.map(({ b, set }) => () => withKernelSet(set, b.run)), o.warmup, o.repeats);
    const dense = (N * 1000) / timings[0].medianMs;
    configs.forEach(({ b: { v, cfg }, set }, i) => {
      const tokensPerSec = (N * 1000) / timings[i].medianMs;
      const row: TrainBenchRow = {
        model: v.model,
        kernels: v.model === 'dense' ? 'tfjs' : kernelSetName(set),
        backend: device.backend,
        device: device.device,
        gpu: device.gpu,
        experts: v.model === 'dense' ? 0 : o.numExperts,
        expertDff: v.model === 'dense' ? cfg.dFf : (cfg.expertDff ?? cfg.dFf),
        capacityFactor: v.model === 'dense' ? null : o.capacityFactor,
        trainingFlopsPerToken: flopsPerToken(modelConfigOf(cfg, o.vocabSize)).training,
        medianMs: timings[i].medianMs,
        tokensPerSec,
        vsDense: tokensPerSec / dense,
      };
      rows.push(row);
      onRow?.(row);
    });
  } finally {
    for (const b of built) {
      b.model.dispose();
      b.opt.dispose();
    }
  }
  return rows;
}
