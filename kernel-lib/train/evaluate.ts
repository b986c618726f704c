/**
 * Evaluation on a fixed set of validation batches: loss, accuracy, each MoE layer's dropped
 * fraction at the eval capacity factor, summed on the device and read back once; the final
 * evaluation also measures how much the future leaks into the past (`futureLeak`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/index.ts';
import { correctCount, crossEntropy, type LanguageModel } from './lm.ts';
import type { EvalMetrics } from './metrics.ts';
import { yieldToEventLoop } from './stop.ts';

/**
 * Batches evaluated between yields to the event loop. The whole-split final evaluation queues
 * thousands of batches without a read; on WebGPU, Dawn frees finished work (bind groups, their
 * descriptor pools) only when the event loop turns, and lavapipe crashed (SIGSEGV in
 * AllocateDescriptorPool) after ~1,900 batches queued in one synchronous loop. Yielding reads
 * nothing back.
 */
const YIELD_EVERY = 32;

/**
 * The causality check behind `EvalMetrics.futureLeak`: replaces every token after the middle of
 * the batch's first sequence (its second half and every later sequence of the routing group),
 * runs both batches in evaluation mode, and returns the largest |Δ logit| over the first
 * sequence's first half. A causal LM with causal routing gives exactly 0: nothing before a
 * position in the group's order changed. Expert Choice gives more: experts choose their tokens
 * from the whole group.
 * @returns float32 scalar (on the device).
 */
export function futureLeak(model: LanguageModel, batch: { inputs: Int32Array; batchSize: number; seqLen: number }, vocabSize: number): tf.Scalar {
  const { batchSize: B, seqLen: S } = batch;
  const half = Math.max(1, Math.floor(S / 2));
  const altered = Int32Array.from(batch.inputs);
  for (let t = half; t < B * S; t++) altered[t] = (altered[t] + 1 + (t % 7)) % vocabSize;
  return tf.tidy(() => {
    const a = model.forward(tf.tensor2d(batch.inputs, [B, S], 'int32'), { training: false }).logits;
    const b = model.forward(tf.tensor2d(altered, [B, S], 'int32'), { training: false }).logits;
    const pick = (x: tf.Tensor3D) => tf.slice(x, [0, 0, 0], [1, half, -1]); // [1,S/2,V] the first sequence's first half
    return tf.max(tf.abs(tf.sub(pick(a), pick(b)))) as tf.Scalar;
  });
}

/**
 * Evaluates `model` at `step` on `batches` (B sequences of S tokens each); with `leakOn`, a
 * batch to measure the future leak on (the final evaluation; it needs S ≥ 2).
 */
export async function evaluate(
  model: LanguageModel,
  batches: Batch[],
  o: { step: number; batchSize: number; seqLen: number; vocabSize: number; leakOn?: Batch },
): Promise<EvalMetrics> {
  const { batchSize: B, seqLen: S } = o;
  let sums: tf.Tensor | null = null; // [2 + MoE layers], accumulated on the device
  for (const [i, batch] of batches.entries()) {
    if (i > 0 && i % YIELD_EVERY === 0) await yieldToEventLoop();
    const prev: tf.Tensor | null = sums;
    sums = tf.tidy(() => {
      const ids = tf.tensor2d(batch.inputs, [B, S], 'int32');
      const targets = tf.tensor2d(batch.targets, [B, S], 'int32');
      const out = model.forward(ids, { training: false });
      const parts = [tf.mul(crossEntropy(out.logits, targets), B * S), correctCount(out.logits, targets), ...out.moe.map((m) => m.metrics.droppedFraction)];
      const v = tf.stack(parts);
      return prev ? tf.add(prev, v) : v;
    });
    prev?.dispose();
  }
  if (!sums) throw new Error('train: evalBatches must be ≥ 1');
  const withLeak = o.leakOn !== undefined && S >= 2; // the causality check needs a first and a second half
  if (withLeak) {
    const prev: tf.Tensor = sums;
    sums = tf.tidy(() => tf.concat([prev, tf.reshape(futureLeak(model, o.leakOn!, o.vocabSize), [1])]));
    prev.dispose();
  }
  const d = await sums.data(); // one read per evaluation
  sums.dispose();
  const tokens = batches.length * B * S;
  const loss = d[0] / tokens;
  const L = d.length - 2 - (withLeak ? 1 : 0);
  const e: EvalMetrics = { step: o.step, loss, negLogPerplexity: -loss, perplexity: Math.exp(loss), accuracy: d[1] / tokens, tokens, droppedFraction: Array.from(d.subarray(2, 2 + L)).map((v) => v / batches.length) };
  if (withLeak) e.futureLeak = d[d.length - 1];
  return e;
}
