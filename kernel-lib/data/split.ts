/**
 * Deterministic train/validation/test split of the Brown corpus BY DOCUMENT, stratified by genre:
 * each genre's documents are shuffled with a seeded {@link Rng} and cut by the fractions, so every
 * genre is represented in every split in (roughly) the same proportion, and no document is shared.
 */
import { Rng } from '../util/seed.ts';

/** The split names, in the order their token streams are laid out. */
export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;

/** One of `train`, `validation`, `test`. */
export type SplitName = (typeof SPLIT_NAMES)[number];

/** Fractions of each genre's documents that go to each split; they must sum to 1. */
export interface SplitFractions {
  train: number;
  validation: number;
  test: number;
}

/** The default 80/10/10 split. */
export const DEFAULT_FRACTIONS: Readonly<SplitFractions> = Object.freeze({ train: 0.8, validation: 0.1, test: 0.1 });

/** Document ids per split, each list sorted by id (file order). */
export type DocumentSplit = Record<SplitName, string[]>;

/** Throws unless `name` is a split name (the error names the bad value); returns it typed. */
export function assertSplitName(name: string): SplitName {
  if (!(SPLIT_NAMES as readonly string[]).includes(name)) {
    throw new Error(`split: unknown split '${name}' (expected one of ${SPLIT_NAMES.join(', ')})`);
  }
  return name as SplitName;
}

/** Throws unless every fraction is in (0, 1) and they sum to 1 (within 1e-9). */
export function validateFractions(f: SplitFractions): void {
  for (const name of SPLIT_NAMES) {
    const v = f[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v >= 1) {
      throw new Error(`split: fraction '${name}' must be a number in (0, 1), got ${v}`);
    }
  }
  const sum = f.train + f.validation + f.test;
  if (Math.abs(sum - 1) > 1e-9) {
    throw new Error(`split: fractions must sum to 1, got ${f.train} + ${f.validation} + ${f.test} = ${sum}`);
  }
}

/**
 * Splits documents by genre. Genres are processed in sorted order with ONE `Rng(seed)`; within a
 * genre the ids are sorted, shuffled, and cut into validation = max(1, round(n·validation)),
 * test = max(1, round(n·test)) and train = the rest (at least 1). The result depends only on the
 * set of (id, genre) pairs, the seed and the fractions, not on the input order.
 * @param docs documents (only `id` and `genre` are used).
 * @param options.seed integer seed (default 0); options.fractions (default 0.8/0.1/0.1).
 * @throws on a bad seed, bad fractions, duplicate ids, or a genre too small to give every split
 *   a document (the error names the genre and its size).
 */
export function splitDocuments(
  docs: readonly { id: string; genre: string }[],
  options: { seed?: number; fractions?: SplitFractions } = {},
): DocumentSplit {
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new Error(`split: seed must be an integer, got ${seed}`);
  const fractions = options.fractions ?? DEFAULT_FRACTIONS;
  validateFractions(fractions);

  const byGenre = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.id)) throw new Error(`split: duplicate document id '${d.id}'`);
    seen.add(d.id);
    const list = byGenre.get(d.genre);
    if (list) list.push(d.id);
    else byGenre.set(d.genre, [d.id]);
  }

  const rng = new Rng(seed);
  const out: DocumentSplit = { train: [], validation: [], test: [] };
  for (const genre of [...byGenre.keys()].sort()) {
    const ids = rng.shuffle(byGenre.get(genre)!.sort());
    const n = ids.length;
    const nVal = Math.max(1, Math.round(n * fractions.validation));
    const nTest = Math.max(1, Math.round(n * fractions.test));
    if (n - nVal - nTest < 1) {
      throw new Error(`split: genre '${genre}' has ${n} document(s), too few for one train, validation and test document each`);
    }
    out.validation.push(...ids.slice(0, nVal));
    out.test.push(...ids.slice(nVal, nVal + nTest));
    out.train.push(...ids.slice(nVal + nTest));
  }
  for (const name of SPLIT_NAMES) out[name].sort();
  return out;
}
