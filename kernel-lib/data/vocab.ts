/**
 * Word-level vocabulary: the special tokens, then the most frequent words (ties broken by code-unit
 * order of the word, so it is deterministic). Build it from the TRAINING split only; every other
 * word encodes as `<unk>`.
 */
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../util/atomic.ts';

/** Padding token (id 0). Never produced by the corpus stream; there for consumers that pad. */
export const PAD = '<pad>';
/** Out-of-vocabulary token (id 1). */
export const UNK = '<unk>';
/** End-of-sentence token (id 2), appended after every sentence. */
export const EOS = '<eos>';
/** The special tokens, in id order. */
export const SPECIAL_TOKENS: readonly string[] = [PAD, UNK, EOS];

const FORMAT = 'switchyard-vocab';
const FORMAT_VERSION = 1;

/** Options for {@link Vocab.build}. */
export interface VocabOptions {
  /**
   * Total size INCLUDING the 3 special tokens: an integer ≥ 4, or `'all'` for every word seen.
   * If fewer distinct words exist, the vocabulary is smaller (see {@link Vocab.size}). Default 10000.
   */
  size?: number | 'all';
  /** Lower-case words before counting and encoding (default true). */
  lowercase?: boolean;
}

/** The JSON form written by {@link Vocab.save}. */
export interface VocabJson {
  format: typeof FORMAT;
  version: number;
  lowercase: boolean;
  /** All tokens in id order, special tokens first. */
  tokens: string[];
}

/** Throws unless `size` is a valid {@link VocabOptions.size}; the error names the bad value. */
export function validateVocabSize(size: unknown): void {
  if (size === 'all') return;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < SPECIAL_TOKENS.length + 1) {
    throw new Error(
      `vocab: size must be 'all' or an integer >= ${SPECIAL_TOKENS.length + 1} (it includes ${SPECIAL_TOKENS.join(' ')}), got ${String(size)}`,
    );
  }
}

/** A fixed word ↔ id mapping. */
export class Vocab {
  /** Id of `<pad>`. */
  readonly pad = 0;
  /** Id of `<unk>`. */
  readonly unk = 1;
  /** Id of `<eos>`. */
  readonly eos = 2;
  private readonly index: Map<string, number>;

  /**
   * @param tokens all tokens in id order; must start with {@link SPECIAL_TOKENS} and be distinct.
   * @param lowercase whether words are lower-cased before lookup.
   */
  constructor(
    readonly tokens: readonly string[],
    readonly lowercase: boolean,
  ) {
    SPECIAL_TOKENS.forEach((t, i) => {
      if (tokens[i] !== t) throw new Error(`vocab: token ${i} must be '${t}', got '${tokens[i]}'`);
    });
    this.index = new Map(tokens.map((t, i) => [t, i]));
    if (this.index.size !== tokens.length) throw new Error('vocab: tokens are not distinct');
  }

  /**
   * Counts words and keeps the most frequent.
   * @param words every word occurrence of the training data (as written; case is folded here).
   */
  static build(words: Iterable<string>, options: VocabOptions = {}): Vocab {
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    return Vocab.fromCounts(counts, options);
  }

  /**
   * Like {@link build}, from precomputed counts of words as written (case is folded here, adding up
   * the counts of words that fold together).
   */
  static fromCounts(counts: Iterable<readonly [string, number]>, options: VocabOptions = {}): Vocab {
    const size = options.size ?? 10000;
    validateVocabSize(size);
    const lowercase = options.lowercase ?? true;
    const folded = new Map<string, number>();
    for (const [w, c] of counts) {
      const k = lowercase ? w.toLowerCase() : w;
      folded.set(k, (folded.get(k) ?? 0) + c);
    }
    for (const t of SPECIAL_TOKENS) folded.delete(t);
    const ranked = [...folded].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const keep = size === 'all' ? ranked.length : size - SPECIAL_TOKENS.length;
    return new Vocab([...SPECIAL_TOKENS, ...ranked.slice(0, keep).map(([w]) => w)], lowercase);
  }

  /** Number of tokens, special tokens included. */
  get size(): number {
    return this.tokens.length;
  }

  /** Id of a word (case-folded if `lowercase`), or {@link unk}. */
  id(word: string): number {
    return this.index.get(this.lowercase ? word.toLowerCase() : word) ?? this.unk;
  }

  /** Whether the word has its own id. */
  has(word: string): boolean {
    return this.index.has(this.lowercase ? word.toLowerCase() : word);
  }

  /**
   * Encodes words; with `eos` appends `<eos>`.
   * @returns int32[words.length (+1)]
   */
  encode(words: readonly string[], options: { eos?: boolean } = {}): Int32Array {
    const out = new Int32Array(words.length + (options.eos ? 1 : 0));
    words.forEach((w, i) => (out[i] = this.id(w)));
    if (options.eos) out[words.length] = this.eos;
    return out;
  }

  /** Decodes ids to tokens; throws on an id outside [0, size). */
  decode(ids: ArrayLike<number>): string[] {
    const out: string[] = new Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const t = this.tokens[ids[i]];
      if (t === undefined) throw new Error(`vocab: id ${ids[i]} out of range [0, ${this.size})`);
      out[i] = t;
    }
    return out;
  }

  /** The JSON form (see {@link VocabJson}). */
  toJSON(): VocabJson {
    return { format: FORMAT, version: FORMAT_VERSION, lowercase: this.lowercase, tokens: [...this.tokens] };
  }

  /** Rebuilds a vocabulary from {@link toJSON}'s output; throws on anything else. */
  static fromJSON(json: unknown): Vocab {
    const j = json as Partial<VocabJson> | null;
    if (!j || j.format !== FORMAT || j.version !== FORMAT_VERSION) {
      throw new Error(`vocab: not a ${FORMAT} v${FORMAT_VERSION} object`);
    }
    if (typeof j.lowercase !== 'boolean' || !Array.isArray(j.tokens) || !j.tokens.every((t) => typeof t === 'string')) {
      throw new Error('vocab: malformed vocabulary JSON (lowercase must be boolean, tokens a string array)');
    }
    return new Vocab(j.tokens, j.lowercase);
  }

  /** Writes the vocabulary as JSON, atomically. */
  save(path: string): void {
    writeJsonAtomic(path, this.toJSON());
  }

  /** Reads a vocabulary written by {@link save}; errors name the file. */
  static load(path: string): Vocab {
    try {
      return Vocab.fromJSON(JSON.parse(readFileSync(path, 'utf8')));
    } catch (err) {
      throw new Error(`vocab: cannot load ${path}: ${(err as Error).message}`);
    }
  }
}
