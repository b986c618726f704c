/**
 * AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, applied to matrices only
 * (not to LayerNorm gains/biases or other vectors). Its state lives in named variables so that a
 * checkpoint can save and restore it exactly. Everything stays on the device: the learning rate
 * and the finite-check enter as tensors, and a non-finite step leaves weights and state untouched.
 */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../util/sum.ts';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

let instances = 0;

export class AdamW {
  /** Steps applied so far (skipped non-finite steps don't count). */
  readonly step: tf.Variable<tf.Rank.R0>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Record<string, tf.Variable>,
    private readonly o: AdamWOptions,
  ) {
    // tf.variable copies its initial value: build the zeros inside tidy so they are released.
    const prefix = `opt${instances++}`;
    tf.tidy(() => {
      for (const [name, p] of Object.entries(params)) {
        this.m.set(name, tf.variable(tf.zerosLike(p), false, `${prefix}/m/${name}`));
        this.v.set(name, tf.variable(tf.zerosLike(p), false, `${prefix}/v/${name}`));
      }
    });
    this.step = tf.tidy(() => tf.variable(tf.scalar(0), false, `${prefix}/step`)) as tf.Variable<tf.Rank.R0>;
  }

  /**
   * One update. `ok` is a boolean scalar: when false (non-finite loss or gradients) nothing changes.
   * @param grads per-parameter gradients (already clipped).
   * @param lr learning-rate scalar for this step.
   */
  apply(grads: Record<string, tf.Tensor>, lr: tf.Scalar, ok: tf.Scalar): void {
    tf.tidy(() => {
      const { beta1: b1, beta2: b2, epsilon, weightDecay } = this.o;
      // The skip is arithmetic, not a select on a broadcast condition: tf.where(scalar, a, b)
      // tiles the condition to the parameter's shape, and on wasm that Tile cost more than the
      // matmuls. Non-finite gradient entries are zeroed first so that 0·x stays 0.
      const okF = tf.cast(ok, 'float32');
      const t = tf.add(this.step, 1);
      const c1 = tf.sub(1, tf.pow(b1, t)); // bias corrections
      const c2 = tf.sub(1, tf.pow(b2, t));
      const stepLr = tf.mul(lr, okF);
      for (const [name, p] of Object.entries(this.params)) {
        const g = grads[name];
        if (!g) throw new Error(`AdamW: no gradient for parameter '${name}'`);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const gc = tf.where(tf.isFinite(g), g, tf.zerosLike(g));
        const m1 = tf.add(m, tf.mul(okF, tf.mul(tf.sub(gc, m), 1 - b1))); // m + (1−β1)(g − m) when ok, else m
        const v1 = tf.add(v, tf.mul(okF, tf.mul(tf.sub(tf.square(gc), v), 1 - b2)));
        let update = tf.div(tf.div(m1, c1), tf.add(tf.sqrt(tf.div(v1, c2)), epsilon));
        if (weightDecay > 0 && p.rank >= 2) update = tf.add(update, tf.mul(p, weightDecay));
        m.assign(m1);
        v.assign(v1);
        p.assign(tf.sub(p, tf.mul(update, stepLr)));
      }
      this.step.assign(tf.add(this.step, okF) as tf.Scalar);
    });
  }

  /** Optimizer state by stable name, for checkpoints. */
  namedState(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = { 'opt/step': this.step };
    for (const [n, m] of this.m) out[`opt/m/${n}`] = m;
    for (const [n, v] of this.v) out[`opt/v/${n}`] = v;
    return out;
  }

  dispose(): void {
    tf.dispose([this.step, ...this.m.values(), ...this.v.values()]);
  }
}

/**
 * Clips gradients to a global L2 norm (Pascanu et al. 2013). Returns the clipped gradients and
 * the norm before clipping, both on the device. `maxNorm` 0 disables clipping.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  const names = Object.keys(grads);
  const norm = tf.sqrt(sumTensors(names.map((n) => tf.sum(tf.square(grads[n]))))) as tf.Scalar;
  if (!(maxNorm > 0)) return { grads, norm };
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
  const out: Record<string, tf.Tensor> = {};
  for (const n of names) out[n] = tf.mul(grads[n], scale);
  return { grads: out, norm };
}
