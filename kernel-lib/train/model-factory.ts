/** Builds the language model a training config describes. */
import { TransformerLM } from '../model/transformer.ts';
import { modelConfigOf } from '../model/config.ts';
import type { TrainConfig } from './config.ts';

export { modelConfigOf };

/** The Transformer of `cfg`, with V = the vocabulary actually built. */
export function createModel(cfg: TrainConfig, vocabSize: number): TransformerLM {
  return new TransformerLM(modelConfigOf(cfg, vocabSize), { seed: cfg.seed });
}
