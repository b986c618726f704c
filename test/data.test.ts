// Tests for the Brown corpus data module. The corpus is parsed once (readBrown) and every corpus
// build below reuses those documents; caches go to a temporary directory.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BROWN_TAGS,
  BatchStream,
  SPLIT_NAMES,
  UNIVERSAL_TAGS,
  Vocab,
  coarseTag,
  fixedBatches,
  loadCorpus,
  parseBrownText,
  parseCategories,
  readBrown,
  resolveTag,
  splitDocuments,
  type Batch,
  type BrownDocument,
  type Corpus,
  type SplitData,
} from '../kernel-lib/data/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'switchyard-data-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const docs: BrownDocument[] = readBrown();
const cacheDir = join(tmp, 'cache');
/** The default corpus (seed 0, 10k vocabulary, lower case), built into the temp cache. */
const corpus: Corpus = loadCorpus({ documents: docs, cacheDir });

const words = (d: BrownDocument): string[] => d.sentences.flat().map((w) => w.word);
const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** A split seed that puts ca01 in the training split (found from the data, not hard-coded). */
const seedWithCa01InTrain = (() => {
  for (let seed = 1; seed < 1000; seed++) if (splitDocuments(docs, { seed }).train.includes('ca01')) return seed;
  throw new Error('no seed puts ca01 in train');
})();
/** Exact-words variant: every training word kept, case preserved, ca01 in train. */
let exact: Corpus | undefined;
const getExact = (): Corpus =>
  (exact ??= loadCorpus({ documents: docs, cacheDir, seed: seedWithCa01InTrain, vocabSize: 'all', lowercase: false }));

describe('brown reader', () => {
  test('reads 500 documents in file-id order with genres', () => {
    assert.equal(docs.length, 500);
    assert.deepEqual(
      docs.map((d) => d.id),
      docs.map((d) => d.id).sort(),
    );
    assert.equal(docs[0].id, 'ca01');
    assert.equal(docs[0].genre, 'news');
    assert.equal(docs.at(-1)!.id, 'cr09');
    assert.equal(new Set(docs.map((d) => d.genre)).size, 15);
    assert.deepEqual(docs[0].sentences[0].slice(0, 3), [
      { word: 'The', tag: 'at' },
      { word: 'Fulton', tag: 'np-tl' },
      { word: 'County', tag: 'nn-tl' },
    ]);
    const tokens = docs.reduce((n, d) => n + d.sentences.reduce((m, s) => m + s.length, 0), 0);
    assert.ok(tokens > 1_150_000 && tokens < 1_170_000, `token count ${tokens}`);
  });

  test('splits word/tag on the last slash', () => {
    assert.deepEqual(parseBrownText('\t1-1/2/cd and/OR/cc\n\n', 'zz01'), [
      [
        { word: '1-1/2', tag: 'cd' },
        { word: 'and/OR', tag: 'cc' },
      ],
    ]);
    assert.ok(docs.some((d) => d.sentences.some((s) => s.some((w) => w.word.includes('/')))));
  });

  test('malformed input errors name the file and line', () => {
    assert.throws(() => parseBrownText('\tok/nn\n\n\tfine/jj broken\n', 'cx42'), /'broken' in cx42 line 3/);
    assert.throws(() => parseBrownText('\t/nn\n', 'cx43'), /'\/nn' in cx43 line 1/);
    assert.throws(() => parseBrownText('\tword/\n', 'cx44'), /'word\/' in cx44 line 1/);
    assert.throws(() => parseCategories('ca01 news\nca02\n'), /line 2/);
    assert.throws(() => readBrown({ dir: join(tmp, 'no-such-corpus') }), /no-such-corpus/);
  });
});

describe('universal tags', () => {
  test('spot checks against en-brown.map', () => {
    const expected: [string, string][] = [
      ['at', 'DET'],
      ['np-tl', 'NOUN'],
      ['nn-hl', 'NOUN'],
      ['vbd', 'VERB'],
      ['in', 'ADP'],
      ['.', '.'],
      ['cd', 'NUM'],
      ['cc', 'CONJ'],
      ['rp', 'PRT'],
      ['jj', 'ADJ'],
      ['rb', 'ADV'],
      ['pps', 'PRON'],
      ['bez*', 'VERB'],
      ['np$', 'NOUN'],
      ['fw-nn', 'X'],
      ['fw-at-hl', 'X'],
      ['``', '.'],
      ['NP-TL', 'NOUN'],
    ];
    for (const [brown, universal] of expected) assert.equal(coarseTag(brown), universal, brown);
  });

  test('contractions: NLTK maps pps+bez to PRT, the head scheme to PRON', () => {
    assert.equal(coarseTag('pps+bez'), 'PRT');
    assert.equal(coarseTag('pps+bez', 'head'), 'PRON');
    assert.equal(coarseTag('ppss+md-nc', 'head'), 'PRON');
    assert.equal(coarseTag('vb+ppo'), 'VERB');
    assert.equal(coarseTag('fw-in+at', 'head'), 'X');
  });

  test('tags outside the map are derived or X', () => {
    assert.deepEqual(resolveTag('nr-tl'), { tag: 'NOUN', how: 'derived' });
    assert.deepEqual(resolveTag('np-tl'), { tag: 'NOUN', how: 'map' });
    assert.deepEqual(resolveTag('zzz'), { tag: 'X', how: 'unknown' });
    assert.equal(BROWN_TAGS.length, 472);
    for (const t of BROWN_TAGS) assert.notEqual(resolveTag(t).how, 'unknown', t);
    assert.equal(new Set(UNIVERSAL_TAGS).size, 12);
  });

  test('every corpus tag is known and the share of X is small', () => {
    assert.deepEqual(corpus.stats.unknownTags, {});
    assert.ok(corpus.stats.xShare < 0.02, `X share ${corpus.stats.xShare}`);
    assert.ok(corpus.stats.xShare > 0, 'foreign words exist');
  });
});

describe('corpus arrays', () => {
  test('arrays are aligned and <eos> ends every sentence', () => {
    for (const name of SPLIT_NAMES) {
      const s = corpus.splits[name];
      const n = s.ids.length;
      assert.equal(n, s.stats.positions);
      for (const a of [s.tags, s.coarse, s.genre, s.doc]) assert.equal(a.length, n, name);
      let eos = 0;
      for (let i = 0; i < n; i++) {
        if (s.ids[i] === corpus.vocab.eos) {
          eos++;
          assert.equal(corpus.tags[s.tags[i]], '.');
          assert.equal(UNIVERSAL_TAGS[s.coarse[i]], '.');
        }
        assert.equal(corpus.coarseOfTag[s.tags[i]], s.coarse[i]);
      }
      assert.equal(eos, s.stats.sentences, name);
      assert.equal(s.ids[n - 1], corpus.vocab.eos);
      assert.equal(s.stats.positions, s.stats.words + s.stats.sentences);
    }
    const totalWords = SPLIT_NAMES.reduce((acc, n) => acc + corpus.splits[n].stats.words, 0);
    assert.equal(totalWords, corpus.stats.words);
  });

  test('decoding a slice reproduces ca01 (words, fine tags, universal tags, genre, doc)', () => {
    const c = getExact();
    const s = c.splits.train;
    const d = c.docIds.indexOf('ca01');
    const start = s.doc.indexOf(d);
    assert.ok(start >= 0, 'ca01 is in train');
    const expected = docs[0].sentences.slice(0, 3).flatMap((sent) => [...sent, { word: '<eos>', tag: '.' }]);
    const n = expected.length;
    assert.deepEqual(c.vocab.decode(s.ids.subarray(start, start + n)), expected.map((w) => w.word));
    assert.deepEqual([...s.tags.subarray(start, start + n)].map((t) => c.tags[t]), expected.map((w) => w.tag));
    assert.deepEqual(
      [...s.coarse.subarray(start, start + n)].map((t) => UNIVERSAL_TAGS[t]),
      expected.map((w) => coarseTag(w.tag)),
    );
    assert.deepEqual(c.vocab.decode(s.ids.subarray(start, start + 4)), ['The', 'Fulton', 'County', 'Grand']);
    assert.ok(s.genre.subarray(start, start + n).every((g) => c.genres[g] === 'news'));
    assert.ok(s.doc.subarray(start, start + n).every((x) => x === d));
  });

  test('the default (lower-case) corpus encodes ca01 as lower case or <unk>', () => {
    const split = SPLIT_NAMES.find((n) => corpus.splits[n].docIds.includes('ca01'))!;
    const s = corpus.splits[split];
    const start = s.doc.indexOf(corpus.docIds.indexOf('ca01'));
    const first = docs[0].sentences[0];
    const want = first.map((w) => (corpus.vocab.has(w.word) ? w.word.toLowerCase() : '<unk>'));
    assert.deepEqual(corpus.vocab.decode(s.ids.subarray(start, start + first.length)), want);
    assert.equal(corpus.vocab.decode([s.ids[start]])[0], 'the');
  });

  test('missing split names the bad value', () => {
    assert.throws(() => corpus.split('dev'), /'dev'/);
    assert.equal(corpus.split('test'), corpus.splits.test);
  });
});

describe('document split', () => {
  const ids = (s: Record<string, string[]>): string[] => SPLIT_NAMES.flatMap((n) => s[n]);

  test('disjoint, covers all documents, every genre in every split', () => {
    const s = splitDocuments(docs, { seed: 0 });
    const all = ids(s);
    assert.equal(all.length, 500);
    assert.equal(new Set(all).size, 500);
    const genreOf = new Map(docs.map((d) => [d.id, d.genre]));
    const genres = new Set(genreOf.values());
    for (const name of SPLIT_NAMES) {
      assert.deepEqual(new Set(s[name].map((id) => genreOf.get(id))), genres, name);
    }
    assert.ok(s.train.length > 380 && s.validation.length >= 45 && s.test.length >= 45);
    assert.deepEqual(
      SPLIT_NAMES.map((n) => corpus.splits[n].docIds),
      SPLIT_NAMES.map((n) => s[n]),
    );
  });

  test('fixed by seed, independent of input order', () => {
    assert.deepEqual(splitDocuments(docs, { seed: 7 }), splitDocuments(docs, { seed: 7 }));
    assert.deepEqual(splitDocuments([...docs].reverse(), { seed: 7 }), splitDocuments(docs, { seed: 7 }));
    assert.notDeepEqual(splitDocuments(docs, { seed: 7 }), splitDocuments(docs, { seed: 8 }));
  });

  test('bad fractions and seeds name the value', () => {
    assert.throws(() => splitDocuments(docs, { fractions: { train: 0.8, validation: 0.1, test: 0.2 } }), /0\.8 \+ 0\.1 \+ 0\.2/);
    assert.throws(() => splitDocuments(docs, { fractions: { train: 1.1, validation: -0.05, test: -0.05 } }), /'train'.*1\.1/);
    assert.throws(() => splitDocuments(docs, { seed: 1.5 }), /1\.5/);
    assert.throws(() => loadCorpus({ documents: docs, cacheDir: null, fractions: { train: 0.7, validation: 0.1, test: 0.1 } }), /sum to 1/);
    assert.throws(() => splitDocuments([{ id: 'a', genre: 'g' }, { id: 'b', genre: 'g' }]), /genre 'g' has 2/);
  });
});

describe('vocabulary', () => {
  test('built from the training split only', () => {
    const c = getExact();
    const trainWords = new Set(c.splits.train.docIds.flatMap((id) => words(docs.find((d) => d.id === id)!)));
    const heldOut = c.splits.validation.docIds.concat(c.splits.test.docIds);
    let word: string | undefined;
    let docId: string | undefined;
    for (const id of heldOut) {
      word = words(docs.find((d) => d.id === id)!).find((w) => !trainWords.has(w));
      if (word !== undefined) {
        docId = id;
        break;
      }
    }
    assert.ok(word !== undefined && docId !== undefined, 'some held-out word is not in train');
    assert.equal(c.vocab.size, c.stats.trainTypes + 3, "vocabSize 'all' keeps every training word");
    assert.equal(c.vocab.has(word), false);
    assert.equal(c.vocab.id(word), c.vocab.unk);
    for (const w of trainWords) assert.notEqual(c.vocab.id(w), c.vocab.unk, w);
    // and the corpus stream of that document encodes it as <unk>
    const split = c.splits.validation.docIds.includes(docId) ? c.splits.validation : c.splits.test;
    const doc = docs.find((d) => d.id === docId)!;
    const start = split.doc.indexOf(c.docIds.indexOf(docId));
    const pos = doc.sentences.flatMap((s) => [...s.map((w) => w.word), '<eos>']).indexOf(word);
    assert.equal(split.ids[start + pos], c.vocab.unk);
    assert.equal(c.splits.train.stats.unk, 0);
    assert.ok(c.splits.validation.stats.unk > 0);
  });

  test('size, order, case folding and tie-breaking are deterministic', () => {
    assert.equal(corpus.vocab.size, 10000);
    assert.deepEqual(corpus.vocab.tokens.slice(0, 4), ['<pad>', '<unk>', '<eos>', 'the']);
    const v = Vocab.build(['b', 'a', 'c', 'a', 'b', 'B', 'd'], { size: 5 });
    assert.deepEqual(v.tokens, ['<pad>', '<unk>', '<eos>', 'b', 'a']);
    const w = Vocab.build(['b', 'a', 'c', 'a', 'b', 'd'], { size: 5 });
    assert.deepEqual(w.tokens, ['<pad>', '<unk>', '<eos>', 'a', 'b']);
    assert.equal(v.id('B'), v.id('b'));
    const cased = Vocab.build(['The', 'the', 'the'], { lowercase: false, size: 'all' });
    assert.notEqual(cased.id('The'), cased.id('the'));
    assert.equal(cased.id('THE'), cased.unk);
    assert.deepEqual(Vocab.build(['x', 'y', 'x'], { size: 'all' }).tokens, Vocab.build(['y', 'x', 'x'], { size: 'all' }).tokens);
  });

  test('encode, decode, save and load', () => {
    const v = corpus.vocab;
    const enc = v.encode(['The', 'jury', 'qwzxv'], { eos: true });
    assert.ok(enc instanceof Int32Array);
    assert.deepEqual(v.decode(enc), ['the', 'jury', '<unk>', '<eos>']);
    assert.throws(() => v.decode([v.size]), new RegExp(`id ${v.size}`));
    const path = join(tmp, 'vocab', 'vocab.json');
    v.save(path);
    const loaded = Vocab.load(path);
    assert.deepEqual(loaded.tokens, v.tokens);
    assert.equal(loaded.lowercase, true);
    writeFileSync(path, '{"format":"something-else"}');
    assert.throws(() => Vocab.load(path), /vocab\.json/);
  });

  test('bad sizes name the value', () => {
    assert.throws(() => Vocab.build(['a'], { size: 0 }), /got 0$/);
    assert.throws(() => Vocab.build(['a'], { size: 3 }), /got 3$/);
    assert.throws(() => Vocab.build(['a'], { size: 2.5 }), /got 2\.5$/);
    assert.throws(() => Vocab.build(['a'], { size: -1 }), /got -1$/);
    assert.throws(() => loadCorpus({ documents: docs, cacheDir: null, vocabSize: 0 }), /size .* got 0/);
  });
});

describe('batches', () => {
  const train = corpus.splits.train;
  const val = corpus.splits.validation;
  const same = (a: Batch[], b: Batch[]): void => assert.deepEqual(a, b);

  test('targets are inputs shifted by one; side arrays are aligned', () => {
    const s = new BatchStream(train, { seqLen: 16, batchSize: 4, seed: 3 });
    for (const b of s.take(3)) {
      assert.equal(b.inputs.length, 64);
      assert.equal(b.targets.length, 64);
      for (let r = 0; r < 4; r++) {
        const st = b.starts[r];
        for (let t = 0; t < 16; t++) {
          const i = r * 16 + t;
          assert.equal(b.inputs[i], train.ids[st + t]);
          assert.equal(b.targets[i], train.ids[st + t + 1]);
          if (t < 15) assert.equal(b.targets[i], b.inputs[i + 1]);
          assert.equal(b.coarse[i], train.coarse[st + t + 1]);
          assert.equal(b.inputCoarse[i], train.coarse[st + t]);
          assert.equal(b.genre[i], train.genre[st + t + 1]);
        }
      }
    }
  });

  test('deterministic per seed; epochs use non-overlapping windows', () => {
    const opts = { seqLen: 512, batchSize: 16, seed: 11 };
    same(new BatchStream(val, opts).take(4), new BatchStream(val, opts).take(4));
    assert.notDeepEqual(new BatchStream(val, opts).next().inputs, new BatchStream(val, { ...opts, seed: 12 }).next().inputs);
    const s = new BatchStream(val, opts);
    const epoch0 = s.take(s.batchesPerEpoch).flatMap((b) => [...b.starts]);
    assert.equal(new Set(epoch0).size, epoch0.length);
    const phase = epoch0[0] % 512;
    assert.ok(epoch0.every((st) => st % 512 === phase && st + 513 <= val.ids.length));
    assert.equal(s.state().epoch, 1);
    assert.equal(s.next().epoch, 1);
  });

  test('resumable: saved state continues with the same batches, across epochs', () => {
    const opts = { seqLen: 512, batchSize: 16, seed: 5 };
    const a = new BatchStream(val, opts);
    a.take(a.batchesPerEpoch - 3);
    const state = JSON.parse(JSON.stringify(a.state()));
    const b = BatchStream.restore(val, state);
    same(b.take(8), a.take(8));
    assert.deepEqual(b.state(), a.state());
    assert.throws(() => BatchStream.restore(train, state), /'validation'/);
    assert.throws(() => BatchStream.restore(val, { ...state, step: 10_000 }), /step 10000/);
  });

  test('fixedBatches returns the same batches regardless of stream position', () => {
    const opts = { seqLen: 64, batchSize: 8, seed: 2 };
    const s = new BatchStream(val, opts);
    const first = s.fixedBatches(3);
    s.take(5);
    same(s.fixedBatches(3), first);
    same(fixedBatches(val, opts, 3), first);
    assert.notDeepEqual(fixedBatches(val, { ...opts, seed: 9 }, 3)[0].starts, first[0].starts);
  });

  test('bad inputs name the value', () => {
    assert.throws(() => new BatchStream(train, { seqLen: 0, batchSize: 4 }), /seqLen .* got 0/);
    assert.throws(() => new BatchStream(train, { seqLen: 8, batchSize: -2 }), /batchSize .* got -2/);
    assert.throws(() => new BatchStream(train, { seqLen: 8, batchSize: 2, seed: 0.5 }), /0\.5/);
    assert.throws(() => new BatchStream(val, { seqLen: 200_000, batchSize: 1 }), /'validation' has \d+ tokens/);
    const s: SplitData = corpus.split('train');
    assert.throws(() => new BatchStream(s, { seqLen: 8, batchSize: 2 }).take(-1), /-1/);
  });
});

describe('cache', () => {
  const firstPath = corpus.cache.path!;

  test('first load builds, the same options reuse the cache', () => {
    assert.equal(corpus.cache.status, 'built');
    assert.ok(existsSync(firstPath));
    const again = loadCorpus({ documents: docs, cacheDir });
    assert.equal(again.cache.status, 'hit');
    assert.equal(again.cache.path, firstPath);
    assert.deepEqual(again.vocab.tokens, corpus.vocab.tokens);
    assert.deepEqual(again.stats, corpus.stats);
    for (const name of SPLIT_NAMES) {
      for (const f of ['ids', 'tags', 'coarse', 'genre', 'doc'] as const) {
        assert.ok(bytes(again.splits[name][f]).equals(bytes(corpus.splits[name][f])), `${name}.${f}`);
      }
    }
  });

  test('changed options use a different cache entry', () => {
    const c = getExact();
    assert.notEqual(c.key, corpus.key);
    assert.notEqual(c.cache.path, firstPath);
    assert.ok(c.cache.status === 'built' || c.cache.status === 'hit');
    assert.equal(loadCorpus({ documents: docs, cacheDir, seed: seedWithCa01InTrain, vocabSize: 'all', lowercase: false }).cache.status, 'hit');
    assert.equal(loadCorpus({ documents: docs, cacheDir }).cache.status, 'hit');
  });

  test('a corrupt or truncated cache file is rebuilt, not trusted', () => {
    // A small corpus (4 documents per genre) keeps the rebuilds fast.
    const perGenre = new Map<string, number>();
    const small = docs.filter((d) => {
      const n = perGenre.get(d.genre) ?? 0;
      perGenre.set(d.genre, n + 1);
      return n < 4;
    });
    const opts = { documents: small, cacheDir: join(tmp, 'small'), vocabSize: 'all' as const };
    const original = loadCorpus(opts);
    assert.equal(original.cache.status, 'built');
    assert.equal(original.stats.documents, 60);
    const path = original.cache.path!;
    const good = readFileSync(path);

    const bad = Buffer.from(good);
    bad[bad.length - 100] ^= 0xff;
    writeFileSync(path, bad);
    const rebuilt = loadCorpus(opts);
    assert.equal(rebuilt.cache.status, 'rebuilt');
    assert.match(rebuilt.cache.reason ?? '', /checksum/);
    assert.ok(bytes(rebuilt.splits.train.ids).equals(bytes(original.splits.train.ids)));
    assert.ok(readFileSync(path).equals(good), 'the rewritten file matches the original');

    for (const broken of [good.subarray(0, 1000), Buffer.from('not a cache file')]) {
      writeFileSync(path, broken);
      assert.equal(loadCorpus(opts).cache.status, 'rebuilt');
      assert.equal(loadCorpus(opts).cache.status, 'hit');
    }
  });
});
