/**
 * One training step as a function: forward, loss, backward, global-norm clipping, masked AdamW
 * update. Returns a small metrics vector that stays on the device (read back in batches).
 *
 * Vector layout: [loss, gradNorm, finite, crossEntropy, balanceΣ, zΣ, then per MoE layer:
 * droppedFraction, entropy, balance, z, meanTopProb, countsBefore[E], countsKept[E]].
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, type LanguageModel } from './lm.ts';
import { type AdamW, clipByGlobalNorm } from './optimizer.ts';

/** Offset of the first per-layer block in the metrics vector. */
export const HEAD = 6;
/** Scalars per MoE layer in the metrics vector before its two count vectors: dropped, entropy, balance loss, z-loss, mean top gate. */
export const LAYER_SCALARS = 5;

export interface StepLayout {
  /** MoE layer indices, in vector order. */
  layers: number[];
  /** Experts per MoE layer. */
  experts: number;
}

export interface TrainStep {
  /** Enqueues one step; the returned vector must be disposed by the caller after reading. */
  run(inputs: Int32Array, targets: Int32Array, step: number, lr: number): tf.Tensor1D;
  /** Known after the first step. */
  layout(): StepLayout;
}

/** The seed of step `step`'s noise (jitter, dropout): a pure function, so resumed runs match. */
export function stepSeed(seed: number, step: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b)) >>> 1;
}

export function createTrainStep(
  model: LanguageModel,
  params: Record<string, tf.Variable>,
  opt: AdamW,
  o: { batchSize: number; seqLen: number; seed: number; gradClip: number },
): TrainStep {
  const layout: StepLayout = { layers: [], experts: 0 };
  const nameOf = new Map(Object.entries(params).map(([n, v]) => [v.name, n]));
  const varList = Object.values(params);
  return {
    layout: () => layout,
    run: (inputs, targets, step, lr) =>
      tf.tidy(() => {
        const ids = tf.tensor2d(inputs, [o.batchSize, o.seqLen], 'int32');
        const tgt = tf.tensor2d(targets, [o.batchSize, o.seqLen], 'int32');
        const kept: tf.Tensor[] = [];
        const { value: loss, grads } = tf.variableGrads(() => {
          const out = model.forward(ids, { training: true, seed: stepSeed(o.seed, step) });
          const ce = crossEntropy(out.logits, tgt);
          const parts: tf.Tensor[] = [ce, out.balanceLoss, out.zLoss];
          for (const m of out.moe) {
            parts.push(tf.stack([m.metrics.droppedFraction, m.metrics.entropy, m.metrics.balanceLoss, m.metrics.zLoss, m.metrics.meanTopProb]), m.metrics.countsBefore, m.metrics.countsKept);
          }
          if (layout.layers.length === 0 && out.moe.length) {
            layout.layers = out.moe.map((m) => m.layer);
            layout.experts = out.moe[0].metrics.countsKept.shape[0];
          }
          // Computed inside the gradient scope, which disposes everything but its result: keep it.
          kept.push(tf.keep(tf.concat(parts.map((p) => tf.reshape(p, [-1])))));
          return tf.add(ce, out.auxLoss) as tf.Scalar;
        }, varList);
        const named: Record<string, tf.Tensor> = {};
        for (const [vname, g] of Object.entries(grads)) named[nameOf.get(vname) ?? vname] = g;
        const { grads: clipped, norm } = clipByGlobalNorm(named, o.gradClip);
        const ok = tf.logicalAnd(tf.isFinite(loss), tf.isFinite(norm)) as tf.Scalar;
        opt.apply(clipped, tf.scalar(lr), ok);
        const vec = tf.concat([tf.stack([loss, norm, tf.cast(ok, 'float32')]), kept[0]]) as tf.Tensor1D;
        tf.dispose(kept);
        return vec;
      }),
  };
}
