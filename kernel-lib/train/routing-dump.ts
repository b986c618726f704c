/**
 * Routing snapshots for expert-specialisation analysis: every `routingEvery` steps (and at the
 * end) the trainer routes a fixed sample of validation tokens and writes, per MoE layer, each
 * token's argmax expert and how many of its assignments were kept. The tokens' words,
 * universal tags and genres are written once, so an analysis can ask which experts take which
 * kinds of tokens, and how that develops, from the run directory alone.
 *
 * Routing is taken as in training (training capacity factor; noise from a fixed seed, so every
 * snapshot sees the same noise), because dropping happens at the training capacity.
 *
 * Files: `routing/tokens.bin` (input word id, target word id, input universal tag, genre) and
 * `routing/step-<8 digits>.bin` (expert uint16[L·N], kept uint8[L·N], layer-major), each a
 * checksummed array bundle (data/cache.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readArrayBundle, writeArrayBundle, type Batch } from '../data/index.ts';
import type { LanguageModel } from './lm.ts';

const TOKENS_KEY = 'switchyard-routing-tokens-1';
const STEP_KEY = 'switchyard-routing-step-1';
/** Fixed noise seed for routing snapshots. */
const SNAPSHOT_SEED = 0x5eed;

export interface RoutingTokens {
  /** int32[N] input word ids (what the router sees). */
  input: Int32Array;
  /** int32[N] next-token ids. */
  target: Int32Array;
  /** uint8[N] universal tag of each input token (index into UNIVERSAL_TAGS). */
  coarse: Uint8Array;
  /** uint8[N] genre of each token (index into `genres`). */
  genre: Uint8Array;
  /** Genre names (Brown categories). */
  genres: string[];
}

export interface RoutingSnapshot {
  step: number;
  /** MoE layer (block) indices, in the order of `expert` and `kept`. */
  layers: number[];
  numExperts: number;
  /** Per MoE layer: uint16[N] argmax expert of each token. */
  expert: Uint16Array[];
  /** Per MoE layer: uint8[N] assignments kept (0 = dropped entirely). */
  kept: Uint8Array[];
}

const stepFile = (step: number) => `step-${String(step).padStart(8, '0')}.bin`;

/** Writes the sample's token facts once (`routing/tokens.bin`). */
export function writeRoutingTokens(runDir: string, batches: Batch[], genres: readonly string[]): void {
  const path = join(runDir, 'routing', 'tokens.bin');
  const cat = <T extends Int32Array | Uint8Array>(Ctor: new (n: number) => T, pick: (b: Batch) => ArrayLike<number>): T => {
    const n = batches.reduce((s, b) => s + pick(b).length, 0);
    const out = new Ctor(n);
    let o = 0;
    for (const b of batches) {
      out.set(pick(b), o);
      o += pick(b).length;
    }
    return out;
  };
  writeArrayBundle(path, TOKENS_KEY, { batches: batches.length, genres }, {
    input: cat(Int32Array, (b) => b.inputs),
    target: cat(Int32Array, (b) => b.targets),
    coarse: cat(Uint8Array, (b) => b.inputCoarse),
    genre: cat(Uint8Array, (b) => b.genre),
  });
}

/**
 * Routes the sample and writes `routing/step-<step>.bin`: one device read for the whole sample.
 * @param batches the fixed sample (B·S tokens each, B and S of the model's config).
 */
export async function writeRoutingSnapshot(runDir: string, model: LanguageModel, batches: Batch[], step: number): Promise<void> {
  let layers: number[] = [];
  let numExperts = 0;
  const parts = tf.tidy(() => {
    const perBatch = batches.map((b) => {
      const ids = tf.tensor2d(b.inputs, [b.batchSize, b.seqLen], 'int32');
      const out = model.forward(ids, { training: true, seed: SNAPSHOT_SEED, returnExpertIndex: true });
      layers = out.moe.map((m) => m.layer);
      numExperts = out.moe[0]?.metrics.countsKept.shape[0] ?? 0;
      // [2·L, B·S]: expert indices then kept counts, one row per MoE layer
      return tf.stack([...out.moe.map((m) => tf.cast(m.metrics.expertIndex!, 'float32')), ...out.moe.map((m) => m.metrics.tokenKept!)]);
    });
    return tf.concat(perBatch, 1) as tf.Tensor2D; // [2·L, N]
  });
  if (layers.length === 0) {
    parts.dispose();
    throw new Error('routing snapshot: the model has no MoE layer to analyse');
  }
  const data = await parts.data(); // the scheduled read
  const [rows, N] = parts.shape;
  parts.dispose();
  const L = rows / 2;
  if (L !== layers.length) throw new Error(`routing snapshot: ${L} MoE layers routed, the model has ${layers.length}`);
  const expert = new Uint16Array(L * N);
  const kept = new Uint8Array(L * N);
  for (let i = 0; i < L * N; i++) {
    expert[i] = data[i];
    kept[i] = data[L * N + i];
  }
  writeArrayBundle(join(runDir, 'routing', stepFile(step)), STEP_KEY, { step, layers, numExperts, tokens: N }, { expert, kept });
}

/** Steps with a routing snapshot in `runDir`, ascending. */
export function routingSteps(runDir: string): number[] {
  const dir = join(runDir, 'routing');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^step-(\d{8})\.bin$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Reads the sample's tokens; throws naming the file when it is missing or damaged. */
export function readRoutingTokens(runDir: string): RoutingTokens {
  const path = join(runDir, 'routing', 'tokens.bin');
  const r = readArrayBundle(path, TOKENS_KEY);
  if (!r.ok) throw new Error(`routing tokens ${path}: ${r.reason}`);
  return { ...(r.arrays as unknown as Omit<RoutingTokens, 'genres'>), genres: (r.meta as { genres: string[] }).genres };
}

/** Reads one snapshot; throws naming the file when it is missing or damaged. */
export function readRoutingSnapshot(runDir: string, step: number): RoutingSnapshot {
  const path = join(runDir, 'routing', stepFile(step));
  const r = readArrayBundle(path, STEP_KEY);
  if (!r.ok) throw new Error(`routing snapshot ${path}: ${r.reason}`);
  const meta = r.meta as { layers: number[]; numExperts: number; tokens: number };
  const N = meta.tokens;
  const expert = r.arrays.expert as unknown as Uint16Array;
  const kept = r.arrays.kept as Uint8Array;
  return {
    step,
    layers: meta.layers,
    numExperts: meta.numExperts,
    expert: meta.layers.map((_, l) => expert.subarray(l * N, (l + 1) * N)),
    kept: meta.layers.map((_, l) => kept.subarray(l * N, (l + 1) * N)),
  };
}
