// Runs the library's MoE layer on plain arrays and reads every result back to plain arrays, so
// results can be compared with the float64 reference and carried across backend switches.
import * as tf from '@tensorflow/tfjs';
import { moeForward, resolveMoeConfig, type MoeConfig, type MoeParams } from '../../kernel-lib/moe/index.ts';
import { dims, paramNamesOf, type ParamName, type RefConfig, type RefInputs } from './reference-moe.ts';

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
  /** gradients of L = Σ y·cot + balanceCoef·balanceLoss + zCoef·zLoss, when a cotangent was given (the shared experts' when the inputs have them) */
  grads?: Partial<Record<ParamName, number[] | number[][] | number[][][]>>;
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
    numSharedExperts: inp.sharedW1?.length ?? 0,
    sharedDff: inp.sharedW1 ? inp.sharedW1[0][0].length : null,
    ...extra,
  });
}

/** The layer's weights as tensors, with the router bias and the shared experts when the inputs have them. */
export function paramsOf(inp: RefInputs): MoeParams {
  const { D, E, F } = dims(inp);
  const params: MoeParams = {
    routerWeight: tf.tensor2d(inp.routerWeight, [D, E]),
    w1: tf.tensor3d(inp.w1, [E, D, F]),
    w2: tf.tensor3d(inp.w2, [E, F, D]),
  };
  if (inp.routerBias) params.routerBias = tf.tensor1d(inp.routerBias);
  if (inp.sharedW1 && inp.sharedW2) {
    params.sharedW1 = tf.tensor3d(inp.sharedW1);
    params.sharedW2 = tf.tensor3d(inp.sharedW2);
  }
  return params;
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
  const owned: tf.Tensor[] = [x, ...Object.values(params).filter((t) => t !== undefined)];
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
      const names = paramNamesOf(inp); // x, routerWeight, w1, w2 (, sharedW1, sharedW2)
      const grads = tf.tidy(() =>
        tf.grads((...ts: tf.Tensor[]) => {
          const [xx, ...ws] = ts;
          const p: MoeParams = { ...params };
          names.slice(1).forEach((n, i) => Object.assign(p, { [n]: ws[i] }));
          const out = moeForward(mc, p, xx, call);
          return tf.addN([tf.sum(tf.mul(out.y, cot)), tf.mul(out.metrics.balanceLoss, cfg.balanceCoef), tf.mul(out.metrics.zLoss, cfg.zCoef)]) as tf.Scalar;
        })([x, ...names.slice(1).map((n) => params[n as keyof MoeParams] as tf.Tensor)]),
      );
      owned.push(...grads);
      const values = (await Promise.all(grads.map((g) => g.array()))) as number[][][];
      result.grads = Object.fromEntries(names.map((n, i) => [n, values[i]]));
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
