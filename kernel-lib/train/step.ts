/**
 * One training step as a function: forward, loss, backward, global-norm clipping, masked AdamW
 * update, then the model's state update (router biases, when it has any, from the step's loads,
 * masked alike). Returns a small metrics vector that stays on the device (read back in batches;
 * its layout is metrics.ts's).
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, type LanguageModel, type LayerLoad } from './lm.ts';
import { encodeForward, encodeStep, layoutOf, type MetricsLayout } from './metrics.ts';
import { type AdamW, clipByGlobalNorm } from './optimizer.ts';

export interface TrainStep {
  /** Enqueues one step; the returned vector must be disposed by the caller after reading. */
  run(inputs: Int32Array, targets: Int32Array, step: number, lr: number): tf.Tensor1D;
  /** The vector's MoE layers: known after the first step. */
  layout(): MetricsLayout;
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
  let layout: MetricsLayout = { layers: [], experts: 0 };
  const nameOf = new Map(Object.entries(params).map(([n, v]) => [v.name, n]));
  const varList = Object.values(params);
  // Router biases to move after each step (biasUpdateRate > 0); none: the step is as it always was.
  const stateful = model.updateState !== undefined && Object.keys(model.namedState?.() ?? {}).length > 0;
  return {
    layout: () => layout,
    run: (inputs, targets, step, lr) =>
      tf.tidy(() => {
        const ids = tf.tensor2d(inputs, [o.batchSize, o.seqLen], 'int32');
        const tgt = tf.tensor2d(targets, [o.batchSize, o.seqLen], 'int32');
        const kept: tf.Tensor[] = [];
        let loads: LayerLoad[] = [];
        const { value: loss, grads } = tf.variableGrads(() => {
          const out = model.forward(ids, { training: true, seed: stepSeed(o.seed, step) });
          const ce = crossEntropy(out.logits, tgt);
          if (layout.layers.length === 0) layout = layoutOf(out);
          // Computed inside the gradient scope, which disposes everything but its result: keep it.
          kept.push(tf.keep(encodeForward(ce, out)));
          if (stateful) loads = out.moe.map((m) => ({ layer: m.layer, countsBefore: tf.keep(m.metrics.countsBefore) }));
          return tf.add(ce, out.auxLoss) as tf.Scalar;
        }, varList);
        const named: Record<string, tf.Tensor> = {};
        for (const [vname, g] of Object.entries(grads)) named[nameOf.get(vname) ?? vname] = g;
        const { grads: clipped, norm } = clipByGlobalNorm(named, o.gradClip);
        const ok = tf.logicalAnd(tf.isFinite(loss), tf.isFinite(norm)) as tf.Scalar;
        opt.apply(clipped, tf.scalar(lr), ok);
        const biases = stateful ? model.updateState!(loads, ok) : [];
        if (stateful && layout.biasLayers === undefined) layout = { ...layout, biasLayers: biases.map((b) => b.layer) };
        const vec = encodeStep(loss, norm, ok, kept[0] as tf.Tensor1D, biases.map((b) => b.routerBias));
        tf.dispose([...kept, ...loads.map((l) => l.countsBefore)]);
        return vec;
      }),
  };
}
