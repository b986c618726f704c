/** Builds the language model a training config describes. */
import { TransformerLM } from '../model/transformer.ts';
import type { ModelConfigInput } from '../model/config.ts';
import type { TrainConfig } from './config.ts';

/** The model fields of a training config (V comes from the vocabulary actually built). */
export function modelConfigOf(cfg: TrainConfig, vocabSize: number): ModelConfigInput {
  return {
    vocabSize,
    seqLen: cfg.seqLen,
    dModel: cfg.dModel,
    numHeads: cfg.numHeads,
    numLayers: cfg.numLayers,
    dFf: cfg.dFf,
    expertDff: cfg.expertDff,
    ffn: cfg.sparseEvery === 0 ? 'dense' : cfg.ffn,
    sparseEvery: cfg.sparseEvery,
    router: cfg.router,
    numExperts: cfg.numExperts,
    // top1 routes to exactly one expert and expert-choice ignores k; only topk takes the config's k.
    k: cfg.router === 'topk' ? cfg.k : 1,
    capacityFactor: cfg.capacityFactor,
    evalCapacityFactor: cfg.evalCapacityFactor,
    balanceCoef: cfg.balanceCoef,
    zCoef: cfg.zCoef,
    jitterEps: cfg.jitterEps,
    expertDropout: cfg.expertDropout,
    activation: cfg.activation,
    dropout: cfg.dropout,
    initScale: cfg.initScale,
    routerDtype: cfg.routerDtype,
    tiedEmbeddings: cfg.tiedEmbeddings,
    allowExpertChoice: cfg.allowExpertChoice,
  };
}

export function createModel(cfg: TrainConfig, vocabSize: number): TransformerLM {
  return new TransformerLM(modelConfigOf(cfg, vocabSize), { seed: cfg.seed });
}
