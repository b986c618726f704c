/**
 * Brown corpus data pipeline: reading (brown), universal tags (tags), document split (split),
 * vocabulary (vocab), the cached token streams (corpus) and LM batches (batches).
 */
export { brownPackageInfo, parseBrownText, parseCategories, readBrown } from './brown.ts';
export type { BrownDocument, BrownPackageInfo, TaggedWord } from './brown.ts';
export { BROWN_TAGS, TAG_SCHEMES, UNIVERSAL_TAGS, assertTagScheme, coarseTag, resolveTag, universalIndex } from './tags.ts';
export type { TagResolution, TagScheme, UniversalTag } from './tags.ts';
export { DEFAULT_FRACTIONS, SPLIT_NAMES, assertSplitName, splitDocuments, validateFractions } from './split.ts';
export type { DocumentSplit, SplitFractions, SplitName } from './split.ts';
export { EOS, PAD, SPECIAL_TOKENS, UNK, Vocab, validateVocabSize } from './vocab.ts';
export type { VocabJson, VocabOptions } from './vocab.ts';
export { CORPUS_FORMAT_VERSION, DEFAULT_CACHE_DIR, loadCorpus, resolveCorpusOptions } from './corpus.ts';
export type { CacheInfo, Corpus, CorpusOptions, CorpusStats, ResolvedCorpusOptions, SplitData, SplitStats } from './corpus.ts';
export { BatchStream, fixedBatches, wholeSplitBatches } from './batches.ts';
export { parseTextDocuments, readTextDocuments, tokenize, UNTAGGED } from './text.ts';
export type { Batch, BatchOptions, BatchState } from './batches.ts';
export { readArrayBundle, writeArrayBundle } from './cache.ts';
export type { BundleRead, StoredArray } from './cache.ts';
