/**
 * Fixed-length language-modelling batches from one split's token stream, in a seeded order that
 * can be saved and resumed exactly. Plain typed arrays; the trainer turns them into tensors.
 *
 * Epochs: the stream of N positions is cut into W = floor(N / S) − 1 non-overlapping windows of
 * S + 1 tokens (inputs and the targets shifted by one), starting at `phase + k·S` for k < W. Each
 * epoch draws a fresh `phase` in [0, S) (so window boundaries move between epochs) and a fresh
 * shuffle of the W windows, both from an Rng seeded by (seed, epoch). An epoch has
 * floor(W / B) batches; the W mod B leftover windows are skipped for that epoch. Windows cross
 * sentence and document boundaries (sentences are separated by `<eos>`).
 */
import { Rng } from '../util/seed.ts';
import type { SplitData } from './corpus.ts';
import type { SplitName } from './split.ts';

/** Stream configuration. */
export interface BatchOptions {
  /** Tokens per sequence S (positive integer). */
  seqLen: number;
  /** Sequences per batch B (positive integer). */
  batchSize: number;
  /** Order seed (integer, default 0). */
  seed?: number;
}

/** A JSON-serialisable position in a stream; {@link BatchStream.restore} continues from it. */
export interface BatchState {
  version: 1;
  split: SplitName;
  /** Token count of the split, to catch restoring onto different data. */
  length: number;
  seqLen: number;
  batchSize: number;
  seed: number;
  /** Epoch of the next batch. */
  epoch: number;
  /** Index within the epoch of the next batch. */
  step: number;
}

/**
 * One batch, row-major: element `b·S + t` is step t of sequence b.
 * `coarse` and `genre` describe the TARGET tokens (what is predicted); `inputCoarse` describes the
 * input tokens (what a router sees).
 */
export interface Batch {
  /** int32[B·S] token ids. */
  inputs: Int32Array;
  /** int32[B·S] next-token ids: targets[b·S + t] = stream[start_b + t + 1]. */
  targets: Int32Array;
  /** uint8[B·S] universal-tag index of each target token. */
  coarse: Uint8Array;
  /** uint8[B·S] universal-tag index of each input token. */
  inputCoarse: Uint8Array;
  /** uint8[B·S] genre index of each target token. */
  genre: Uint8Array;
  /** int32[B] stream position of each sequence's first input token. */
  starts: Int32Array;
  batchSize: number;
  seqLen: number;
  /** Epoch and index within the epoch of this batch. */
  epoch: number;
  step: number;
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`batches: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** A 32-bit seed for epoch `epoch` of stream seed `seed` (murmur3-style mixing). */
function epochSeed(seed: number, epoch: number): number {
  let h = Math.imul((seed | 0) ^ 0x5bd1e995, 0x9e3779b1) ^ Math.floor(seed / 2 ** 32);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ Math.imul(epoch + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f);
  return (h ^ (h >>> 16)) | 0;
}

/** A deterministic, resumable stream of batches over one split. */
export class BatchStream {
  readonly seqLen: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Windows per epoch, W = floor(N / S) − 1. */
  readonly windows: number;
  /** Batches per epoch, floor(W / B). */
  readonly batchesPerEpoch: number;
  private epoch = 0;
  private step = 0;
  private plan: { epoch: number; phase: number; order: Uint32Array } | null = null;

  /**
   * @throws if seqLen, batchSize or seed is invalid, or the split is too short for one batch
   *   (errors name the value).
   */
  constructor(
    readonly split: SplitData,
    options: BatchOptions,
  ) {
    this.seqLen = positiveInt('seqLen', options.seqLen);
    this.batchSize = positiveInt('batchSize', options.batchSize);
    this.seed = options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw new Error(`batches: seed must be an integer, got ${this.seed}`);
    const n = split.ids.length;
    this.windows = Math.max(0, Math.floor(n / this.seqLen) - 1);
    this.batchesPerEpoch = Math.floor(this.windows / this.batchSize);
    if (this.batchesPerEpoch < 1) {
      throw new Error(
        `batches: split '${split.name}' has ${n} tokens, too few for one batch of ${this.batchSize} × ${this.seqLen} (+1) tokens`,
      );
    }
  }

  /**
   * Continues a stream from {@link state}'s output: the next batches equal those the saved stream
   * would have produced.
   * @throws if the state is malformed or belongs to another split or split length.
   */
  static restore(split: SplitData, state: BatchState): BatchStream {
    if (!state || state.version !== 1) throw new Error(`batches: unsupported state version ${String(state?.version)}`);
    if (state.split !== split.name) throw new Error(`batches: state is for split '${state.split}', not '${split.name}'`);
    if (state.length !== split.ids.length) {
      throw new Error(`batches: state is for a split of ${state.length} tokens, this one has ${split.ids.length}`);
    }
    const s = new BatchStream(split, { seqLen: state.seqLen, batchSize: state.batchSize, seed: state.seed });
    if (!Number.isInteger(state.epoch) || state.epoch < 0) throw new Error(`batches: bad epoch ${state.epoch} in state`);
    if (!Number.isInteger(state.step) || state.step < 0 || state.step >= s.batchesPerEpoch) {
      throw new Error(`batches: bad step ${state.step} in state (batches per epoch: ${s.batchesPerEpoch})`);
    }
    s.epoch = state.epoch;
    s.step = state.step;
    return s;
  }

  /** The position of the next batch; small and JSON-serialisable. */
  state(): BatchState {
    return {
      version: 1,
      split: this.split.name,
      length: this.split.ids.length,
      seqLen: this.seqLen,
      batchSize: this.batchSize,
      seed: this.seed,
      epoch: this.epoch,
      step: this.step,
    };
  }

  /** The window phase and order of an epoch (cached for the current one). */
  private planFor(epoch: number): { phase: number; order: Uint32Array } {
    if (this.plan?.epoch !== epoch) {
      const rng = new Rng(epochSeed(this.seed, epoch));
      const phase = rng.int(this.seqLen);
      const order = new Uint32Array(this.windows);
      for (let i = 0; i < order.length; i++) order[i] = i;
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      this.plan = { epoch, phase, order };
    }
    return this.plan;
  }

  /** Returns the next batch and advances the stream. */
  next(): Batch {
    const { seqLen: S, batchSize: B } = this;
    const { phase, order } = this.planFor(this.epoch);
    const sp = this.split;
    const batch: Batch = {
      inputs: new Int32Array(B * S),
      targets: new Int32Array(B * S),
      coarse: new Uint8Array(B * S),
      inputCoarse: new Uint8Array(B * S),
      genre: new Uint8Array(B * S),
      starts: new Int32Array(B),
      batchSize: B,
      seqLen: S,
      epoch: this.epoch,
      step: this.step,
    };
    for (let b = 0; b < B; b++) {
      const start = phase + order[this.step * B + b] * S;
      batch.starts[b] = start;
      batch.inputs.set(sp.ids.subarray(start, start + S), b * S);
      batch.targets.set(sp.ids.subarray(start + 1, start + S + 1), b * S);
      batch.inputCoarse.set(sp.coarse.subarray(start, start + S), b * S);
      batch.coarse.set(sp.coarse.subarray(start + 1, start + S + 1), b * S);
      batch.genre.set(sp.genre.subarray(start + 1, start + S + 1), b * S);
    }
    if (++this.step === this.batchesPerEpoch) {
      this.step = 0;
      this.epoch++;
    }
    return batch;
  }

  /** The next `n` batches. */
  take(n: number): Batch[] {
    if (!Number.isInteger(n) || n < 0) throw new Error(`batches: take(n) needs a non-negative integer, got ${n}`);
    return Array.from({ length: n }, () => this.next());
  }

  /**
   * The first `n` batches of a fresh stream with this stream's split, shape and seed; the same on
   * every call and independent of this stream's position (for evaluation).
   */
  fixedBatches(n: number): Batch[] {
    return fixedBatches(this.split, { seqLen: this.seqLen, batchSize: this.batchSize, seed: this.seed }, n);
  }
}

/**
 * The first `n` batches of a fresh {@link BatchStream} over `split`: the same `n` batches for the
 * same split, options and seed, every time (for evaluation).
 */
export function fixedBatches(split: SplitData, options: BatchOptions, n: number): Batch[] {
  return new BatchStream(split, options).take(n);
}

/**
 * One epoch of a split's stream: every window but the W mod B leftovers, each once (for final
 * evaluations on the whole validation split).
 */
export function wholeSplitBatches(split: SplitData, options: BatchOptions): Batch[] {
  const stream = new BatchStream(split, options);
  return stream.take(stream.batchesPerEpoch);
}
