/** Timing helpers for benchmarks: warm-up, then the median of repeats, synchronising on one scalar read. */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../util/sum.ts';

/**
 * A scalar that depends on every tensor given, at O(1) cost each: the sum of their first
 * elements. Awaiting it waits until all of them are computed (cpu and wasm run eagerly; a GPU
 * queue runs in order), without timing a reduction over them. Reducing a 64-expert layer's
 * gradients (128 MB) cost 10% of its step on wasm and is no part of forward+backward.
 */
export function touchAll(tensors: tf.Tensor[]): tf.Scalar {
  // gather, not slice: tfjs-wasm's Slice walks the whole input (110 ms for one element of 16M).
  return tf.tidy(() => {
    const first = tf.tensor1d([0], 'int32');
    return tf.reshape(sumTensors(tensors.map((t) => tf.gather(tf.reshape(t, [-1]), first))), []) as tf.Scalar;
  });
}

export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

/**
 * Times several steps round-robin (A B C A B C …) after warming each up, so that drift in the
 * machine's speed (shared VMs, thermal limits) hits every configuration alike and their ratios
 * stay meaningful. Returns one Timing per step, in order.
 */
export async function timeInterleaved(steps: (() => tf.Scalar)[], warmup: number, repeats: number): Promise<Timing[]> {
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`benchmark: repeats must be an integer ≥ 1, got ${repeats}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`benchmark: warmup must be an integer ≥ 0, got ${warmup}`);
  const once = async (step: () => tf.Scalar) => {
    const t0 = performance.now();
    const s = step();
    await s.data();
    const ms = performance.now() - t0;
    s.dispose();
    return ms;
  };
  for (const step of steps) for (let i = 0; i < warmup; i++) await once(step);
  const samples: number[][] = steps.map(() => []);
  for (let r = 0; r < repeats; r++) for (let j = 0; j < steps.length; j++) samples[j].push(await once(steps[j]));
  return samples.map(summarise);
}

function summarise(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs, minMs: sorted[0], maxMs: sorted[sorted.length - 1], samplesMs: samples };
}
