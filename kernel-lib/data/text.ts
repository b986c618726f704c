/**
 * A corpus of your own, for the language-model experiments: Brown (1.16M words) is too small for
 * long runs, since past one epoch a model with more parameters can win by memorising. The text
 * becomes documents of the same form as Brown's, so splitting, vocabulary, caching and batches
 * are shared. It carries no part-of-speech tags (every word is tagged `nil`, universal X), so the
 * specialisation analysis needs Brown.
 *
 * Formats:
 * - `.jsonl`: one document per line, `{"text": "…"}`, optionally with `"id"` and `"genre"`
 *   (genres stratify the split, as Brown's do).
 * - `.txt` (or any other name): documents separated by blank lines; a file with fewer than 30
 *   such documents is cut into documents of 100 lines, so the split has documents to share out.
 * Within a document each line is cut into sentences after `.`, `!` or `?`; words and
 * punctuation are separate tokens (as in Brown), case is kept (the vocabulary folds it).
 */
import { readFileSync, statSync } from 'node:fs';
import type { BrownDocument, TaggedWord } from './brown.ts';

/** The tag of every word of a plain-text corpus (Brown's `nil`: universal X). */
export const UNTAGGED = 'nil';

const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*|[^\s\p{L}\p{N}]/gu;
const SENTENCE_END = /(?<=[.!?]["')\]]?)\s+/u;
/** Fewer blank-line documents than this: cut into documents of LINES_PER_DOC lines instead. */
const MIN_DOCS = 30;
const LINES_PER_DOC = 100;

/** Words and punctuation of one sentence. */
export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

function sentencesOf(text: string): TaggedWord[][] {
  const out: TaggedWord[][] = [];
  for (const line of text.split(/\r?\n/)) {
    for (const s of line.split(SENTENCE_END)) {
      const words = tokenize(s);
      if (words.length) out.push(words.map((word) => ({ word, tag: UNTAGGED })));
    }
  }
  return out;
}

/** Parses a corpus file's text; `name` names it in errors. */
export function parseTextDocuments(text: string, name: string): BrownDocument[] {
  const docs: BrownDocument[] = [];
  if (name.endsWith('.jsonl')) {
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      let o: { text?: unknown; id?: unknown; genre?: unknown };
      try {
        o = JSON.parse(line);
      } catch (err) {
        throw new Error(`${name}:${i + 1}: not JSON (${(err as Error).message})`);
      }
      if (typeof o?.text !== 'string') throw new Error(`${name}:${i + 1}: each line needs a "text" string`);
      for (const f of ['id', 'genre'] as const) if (o[f] !== undefined && typeof o[f] !== 'string') throw new Error(`${name}:${i + 1}: "${f}" must be a string, got ${JSON.stringify(o[f])}`);
      docs.push({ id: (o.id as string | undefined) ?? `d${String(i + 1).padStart(7, '0')}`, genre: (o.genre as string | undefined) ?? 'text', sentences: sentencesOf(o.text) });
    });
  } else {
    let blocks = text.split(/\r?\n\s*\r?\n/).filter((b) => b.trim());
    if (blocks.length < MIN_DOCS) {
      const lines = text.split(/\r?\n/).filter((l) => l.trim());
      blocks = Array.from({ length: Math.ceil(lines.length / LINES_PER_DOC) }, (_, j) => lines.slice(j * LINES_PER_DOC, (j + 1) * LINES_PER_DOC).join('\n'));
    }
    blocks.forEach((b, i) => docs.push({ id: `d${String(i + 1).padStart(7, '0')}`, genre: 'text', sentences: sentencesOf(b) }));
  }
  const usable = docs.filter((d) => d.sentences.length > 0);
  if (usable.length < 3) throw new Error(`${name}: ${usable.length} document(s) with text; the split needs at least 3 (train, validation, test)`);
  return usable;
}

/** Reads a `.txt` or `.jsonl` corpus file; errors name the file. */
export function readTextDocuments(path: string): BrownDocument[] {
  let text: string;
  try {
    if (!statSync(path).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`corpus file ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseTextDocuments(text, path);
}
