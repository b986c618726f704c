// Runs the library's MoE layer on plain arrays and reads every result back to plain arrays, so
// results can be compared with the float64 reference and carried across backend switches.
import * as tf from '@tensorflow/tfjs';
import { moeForward, resolveMoeConfig, type MoeConfig, type MoeParams } from '../../kernel-lib/moe/index.ts';
import { dims, type ParamName, type RefConfig, type RefInputs } from './reference-moe.ts';

export interface LibOutput {
  y: number[][];
  expertIndex: number[];
  /** countsKept, rounded */
  expertCounts: number[];
  countsBefore: number[];
  droppedFraction: number;
  balanceLoss: number;
  zLoss: number;
  entropy: number;
  capacity: number;
  /** gradients of L = Σ y·cot + balanceCoef·balanceLoss + zCoef·zLoss, when a cotangent was given */
  grads?: Record<ParamName, number[] | number[][] | number[][][]>;
}

/** The library config for a reference config (eval capacity factor = train capacity factor, no noise). */
export function libConfig(cfg: RefConfig, inp: RefInputs, extra: Partial<MoeConfig> = {}): MoeConfig {
  const { D, E, F } = dims(inp);
  return resolveMoeConfig({
    dModel: D,
    dFf: F,
    numExperts: E,
    router: cfg.router,
    k: cfg.router === 'topk' ? cfg.k : 1,
    priority: cfg.priority ?? 'choice',
    capacityFactor: cfg.capacityFactor,
    evalCapacityFactor: cfg.capacityFactor,
    activation: cfg.activation,
    balanceCoef: cfg.balanceCoef,
    zCoef: cfg.zCoef,
    jitterEps: 0,
    expertDropout: 0,
    ...extra,
  });
}

export function paramsOf(inp: RefInputs): MoeParams {
  const { D, E, F } = dims(inp);
  return {
    routerWeight: tf.tensor2d(inp.routerWeight, [D, E]),
    w1: tf.tensor3d(inp.w1, [E, D, F]),
    w2: tf.tensor3d(inp.w2, [E, F, D]),
  };
}

export interface RunOptions {
  cotangent?: number[][];
  training?: boolean;
  seed?: number;
  extra?: Partial<MoeConfig>;
}

/** Forward (and gradients when a cotangent is given) of the library layer on the current backend. */
export async function runLibrary(cfg: RefConfig, inp: RefInputs, opts: RunOptions = {}): Promise<LibOutput> {
  const mc = libConfig(cfg, inp, opts.extra);
  const { T, D } = dims(inp);
  const call = { training: opts.training ?? false, seed: opts.seed, returnExpertIndex: true };
  const x = tf.tensor2d(inp.x, [T, D]);
  const params = paramsOf(inp);
  const owned: tf.Tensor[] = [x, params.routerWeight, params.w1, params.w2];
  try {
    let capacity = -1;
    const fwd = tf.tidy(() => {
      const out = moeForward(mc, params, x, call);
      capacity = out.metrics.capacity;
      const m = out.metrics;
      if (!m.expertIndex) throw new Error('moeForward returned no expertIndex although returnExpertIndex was set');
      return [out.y, m.expertIndex, m.countsKept, m.countsBefore, m.droppedFraction, m.balanceLoss, m.zLoss, m.entropy];
    });
    owned.push(...fwd);
    const [y, ei, kept, before, dropped, bal, z, ent] = await Promise.all(fwd.map((t) => t.array()));
    const result: LibOutput = {
      y: y as number[][],
      expertIndex: ei as number[],
      expertCounts: (kept as number[]).map((v) => Math.round(v)),
      countsBefore: (before as number[]).map((v) => Math.round(v)),
      droppedFraction: dropped as number,
      balanceLoss: bal as number,
      zLoss: z as number,
      entropy: ent as number,
      capacity,
    };
    if (opts.cotangent) {
      const cot = tf.tensor2d(opts.cotangent, [T, D]);
      owned.push(cot);
      const grads = tf.tidy(() =>
        tf.grads((xx: tf.Tensor, rw: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor) => {
          const out = moeForward(mc, { routerWeight: rw as tf.Tensor2D, w1: w1 as tf.Tensor3D, w2: w2 as tf.Tensor3D }, xx, call);
          return tf.addN([tf.sum(tf.mul(out.y, cot)), tf.mul(out.metrics.balanceLoss, cfg.balanceCoef), tf.mul(out.metrics.zLoss, cfg.zCoef)]) as tf.Scalar;
        })([x, params.routerWeight, params.w1, params.w2]),
      );
      owned.push(...grads);
      const [gx, grw, gw1, gw2] = (await Promise.all(grads.map((g) => g.array()))) as [number[][], number[][], number[][][], number[][][]];
      result.grads = { x: gx, routerWeight: grw, w1: gw1, w2: gw2 };
    }
    return result;
  } finally {
    tf.dispose(owned);
  }
}

/** Formats per-field comparison lines for assertion messages. */
export function describeMismatch(lines: string[], header: string): string {
  return `${header}\n  ${lines.join('\n  ')}`;
}
