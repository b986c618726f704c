/**
 * A training step's metrics: the small vector each step leaves on the device, and the rows it is
 * read back as. Its layout is declared here once, for the encoding (step.ts) and the decoding:
 *
 *   [loss, gradNorm, finite, crossEntropy, balanceLoss, zLoss,
 *    then per MoE layer: droppedFraction, entropy, balanceLoss, zLoss, meanTopProb, countsBefore[E], countsKept[E],
 *    then per MoE layer with a router bias (biasUpdateRate > 0): routerBias[E] after the step's update]
 *
 * Vectors wait on the device (`PendingSteps`) and are read back together, every `logEvery` steps
 * and at evaluations and checkpoints: one read, never one per step.
 */
import * as tf from '@tensorflow/tfjs';
import { assertNoGpuErrors } from '../backend/index.ts';
import type { LmForward } from './lm.ts';

/** One training step's metrics, as read back. */
export interface StepMetrics {
  step: number;
  loss: number;
  crossEntropy: number;
  balanceLoss: number;
  zLoss: number;
  gradNorm: number;
  lr: number;
  finite: boolean;
  /** Window average: wall time of the `logEvery` steps up to and including the read, divided by their count. */
  stepMs: number;
  /**
   * CPU time (user + system) of this process per step over the same window, ms. On the CPU
   * backends this is the step's compute, unaffected by other processes sharing the cores
   * (parallel runs of a sweep); on a GPU the wall time is the measure.
   */
  cpuMs: number;
  tokensPerSec: number;
  moe: LayerMetrics[];
}

/** One MoE layer's part of a step's metrics. */
export interface LayerMetrics {
  layer: number;
  droppedFraction: number;
  entropy: number;
  balanceLoss: number;
  zLoss: number;
  meanTopProb: number;
  countsBefore: number[];
  countsKept: number[];
  /**
   * The layer's router bias after this step's update (loss-free balancing, biasUpdateRate > 0
   * only; the next step routes with it). Absent without a bias.
   */
  routerBias?: number[];
}

export interface EvalMetrics {
  step: number;
  loss: number;
  /** The paper's quality measure: −loss (higher is better). */
  negLogPerplexity: number;
  perplexity: number;
  accuracy: number;
  tokens: number;
  /** Per MoE layer, at the eval capacity factor. */
  droppedFraction: number[];
  /**
   * Final evaluation only: how much the model's outputs on the first half of the group's first
   * sequence change when every later token is replaced (largest |Δ logit|). 0 for a causal LM;
   * above 0 when routing lets later tokens decide earlier ones' outputs (Expert Choice). See evaluate.ts.
   */
  futureLeak?: number;
}

/** The update's scalars, then the forward's: the head of the vector. */
const UPDATE = ['loss', 'gradNorm', 'finite'] as const;
const FORWARD = ['crossEntropy', 'balanceLoss', 'zLoss'] as const;
/** Each MoE layer's scalars, before its countsBefore[E] and countsKept[E]. */
const LAYER = ['droppedFraction', 'entropy', 'balanceLoss', 'zLoss', 'meanTopProb'] as const;

/** The MoE layers a vector holds, in order, and their experts: known from a forward. */
export interface MetricsLayout {
  layers: number[];
  experts: number;
  /** The layers whose router bias ends the vector, in order (known after the first update); absent: none. */
  biasLayers?: number[];
}

export const layoutOf = (out: LmForward): MetricsLayout => ({ layers: out.moe.map((m) => m.layer), experts: out.moe[0]?.metrics.countsKept.shape[0] ?? 0 });

/** The forward's part of the vector (built inside the gradient scope): float32[3 + layers·(5 + 2E)]. */
export function encodeForward(crossEntropy: tf.Scalar, out: LmForward): tf.Tensor1D {
  const scalars = { crossEntropy, balanceLoss: out.balanceLoss, zLoss: out.zLoss };
  const layers = out.moe.flatMap(({ metrics: m }) => [tf.stack(LAYER.map((k) => m[k])), m.countsBefore, m.countsKept]);
  return tf.concat([tf.stack(FORWARD.map((k) => scalars[k])), ...layers]) as tf.Tensor1D;
}

/**
 * The whole vector: the update's loss, gradient norm and whether both were finite, then the
 * forward's part, then the router biases after the update (float32[E] each; none without).
 */
export function encodeStep(loss: tf.Scalar, gradNorm: tf.Scalar, finite: tf.Scalar, forward: tf.Tensor1D, routerBiases: tf.Tensor1D[] = []): tf.Tensor1D {
  return tf.concat([tf.stack([loss, gradNorm, tf.cast(finite, 'float32')]), forward, ...routerBiases]) as tf.Tensor1D;
}

type Head = Pick<StepMetrics, (typeof UPDATE)[number] | (typeof FORWARD)[number]>;

/** One vector read back: its head and its MoE layers. */
export function decodeStep(r: Float32Array, layout: MetricsLayout): { head: Head; moe: LayerMetrics[] } {
  const at = (names: readonly string[], o: number) => Object.fromEntries(names.map((k, i) => [k, r[o + i]]));
  const update = at(UPDATE, 0);
  const head = { ...update, finite: update.finite === 1, ...at(FORWARD, UPDATE.length) } as Head;
  const E = layout.experts;
  let o = UPDATE.length + FORWARD.length;
  const moe = layout.layers.map((layer) => {
    const scalars = at(LAYER, o) as Pick<LayerMetrics, (typeof LAYER)[number]>;
    o += LAYER.length;
    const countsBefore = Array.from(r.subarray(o, o + E));
    const countsKept = Array.from(r.subarray(o + E, o + 2 * E));
    o += 2 * E;
    return { layer, ...scalars, countsBefore, countsKept } as LayerMetrics;
  });
  for (const layer of layout.biasLayers ?? []) {
    const m = moe.find((l) => l.layer === layer);
    if (m) m.routerBias = Array.from(r.subarray(o, o + E));
    o += E;
  }
  return { head, moe };
}

/** Step vectors not yet read back, and the clock of the window since the last read. */
export class PendingSteps {
  private readonly waiting: { step: number; lr: number; vec: tf.Tensor1D }[] = [];
  private windowStart = performance.now();
  private windowCpu = process.cpuUsage();

  /** @param tokensPerStep B·S. */
  constructor(private readonly tokensPerStep: number) {}

  /** Keeps step `step`'s vector (0-based; its row says step + 1) until the next read. */
  push(step: number, lr: number, vec: tf.Tensor1D): void {
    this.waiting.push({ step, lr, vec });
  }

  /** Reads every waiting vector back in one read, as rows; the window's wall and CPU time per step go with them. */
  async read(layout: MetricsLayout): Promise<StepMetrics[]> {
    if (this.waiting.length === 0) return [];
    const stacked = tf.stack(this.waiting.map((p) => p.vec));
    const data = await stacked.data(); // the scheduled read
    assertNoGpuErrors('training');
    const now = performance.now();
    const width = stacked.shape[1]!;
    stacked.dispose();
    const n = this.waiting.length;
    const stepMs = (now - this.windowStart) / n;
    const cpu = process.cpuUsage(this.windowCpu);
    const cpuMs = (cpu.user + cpu.system) / 1000 / n;
    this.windowStart = now;
    this.windowCpu = process.cpuUsage();
    const rows = this.waiting.map((p, i) => {
      const { head, moe } = decodeStep(data.subarray(i * width, (i + 1) * width) as Float32Array, layout);
      return { step: p.step + 1, ...head, lr: p.lr, stepMs, cpuMs, tokensPerSec: (this.tokensPerStep * 1000) / stepMs, moe };
    });
    this.dispose();
    return rows;
  }

  /** Frees the waiting vectors (unread). */
  dispose(): void {
    tf.dispose(this.waiting.map((p) => p.vec));
    this.waiting.length = 0;
  }
}
