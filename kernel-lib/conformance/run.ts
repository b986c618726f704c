/** Runs a conformance case on the current tfjs backend and checks it against the reference. */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../util/sum.ts';
import { resolveMoeConfig } from '../moe/config.ts';
import { moeForward, type MoeParams } from '../moe/layer.ts';
import type { CaseOutput, ConformanceCase } from './case.ts';

/**
 * Computes every output field of a case (gradients when it has a cotangent) of
 * `L = Σ y·cotangent + balanceCoef·balanceLoss + zCoef·zLoss`, with respect to x, the router, the
 * experts and the shared experts when it has any (the router bias is a constant).
 */
export async function runCase(c: ConformanceCase): Promise<CaseOutput> {
  const { T, D, E, F, S, Fs } = c.dims;
  const cfg = resolveMoeConfig({
    dModel: D,
    dFf: F,
    numExperts: E,
    router: c.config.router,
    k: c.config.k,
    capacityFactor: c.config.capacityFactor,
    evalCapacityFactor: c.config.capacityFactor,
    activation: c.config.activation,
    balanceCoef: c.config.balanceCoef,
    zCoef: c.config.zCoef,
    jitterEps: 0,
    expertDropout: 0,
    numSharedExperts: S,
    sharedDff: S > 0 ? Fs : null,
  });
  const x = tf.tensor2d(c.x, [T, D]);
  const params: MoeParams = {
    routerWeight: tf.tensor2d(c.routerWeight, [D, E]),
    w1: tf.tensor3d(c.w1, [E, D, F]),
    w2: tf.tensor3d(c.w2, [E, F, D]),
  };
  if (c.routerBias) params.routerBias = tf.tensor1d(c.routerBias);
  if (c.sharedW1 && c.sharedW2) {
    params.sharedW1 = tf.tensor3d(c.sharedW1, [S, D, Fs]);
    params.sharedW2 = tf.tensor3d(c.sharedW2, [S, Fs, D]);
  }
  const owned = Object.values(params).filter((t) => t !== undefined);
  const opts = { training: false, returnExpertIndex: true };
  try {
    const fwd = tf.tidy(() => {
      const out = moeForward(cfg, params, x, opts);
      return [out.y, out.metrics.expertIndex!, out.metrics.countsKept, out.metrics.droppedFraction, out.metrics.balanceLoss, out.metrics.zLoss] as tf.Tensor[];
    });
    const [y, expertIndex, counts, dropped, bal, z] = await Promise.all(fwd.map((t) => t.array()));
    tf.dispose(fwd);
    const result: CaseOutput = {
      y: y as number[][],
      expertIndex: expertIndex as number[],
      expertCounts: (counts as number[]).map((v) => Math.round(v)),
      droppedFraction: dropped as number,
      balanceLoss: bal as number,
      zLoss: z as number,
    };
    if (c.cotangent) {
      const cot = tf.tensor2d(c.cotangent, [T, D]);
      const shared = params.sharedW1 && params.sharedW2 ? [params.sharedW1, params.sharedW2] : [];
      const grads = tf.tidy(() =>
        tf.grads((xx: tf.Tensor, rw: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, ...sw: tf.Tensor[]) => {
          const p: MoeParams = { routerWeight: rw as tf.Tensor2D, w1: w1 as tf.Tensor3D, w2: w2 as tf.Tensor3D, routerBias: params.routerBias };
          if (sw.length) [p.sharedW1, p.sharedW2] = sw as tf.Tensor3D[];
          const out = moeForward(cfg, p, xx, opts);
          return sumTensors([tf.sum(tf.mul(out.y, cot)), tf.mul(out.metrics.balanceLoss, c.config.balanceCoef), tf.mul(out.metrics.zLoss, c.config.zCoef)]);
        })([x, params.routerWeight, params.w1, params.w2, ...shared]),
      );
      const [gx, grw, gw1, gw2, gs1, gs2] = await Promise.all(grads.map((g) => g.array()));
      tf.dispose([...grads, cot]);
      result.grads = { x: gx as number[][], routerWeight: grw as number[][], w1: gw1 as number[][][], w2: gw2 as number[][][] };
      if (shared.length) Object.assign(result.grads, { sharedW1: gs1 as number[][][], sharedW2: gs2 as number[][][] });
    }
    return result;
  } finally {
    tf.dispose([x, ...owned]);
  }
}

/** Tolerances of docs/conformance.md. */
export const TOLERANCE = { relative: 1e-4, absolute: 1e-5 };

function flatten(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v as number];
}

/** ‖got − expected‖ / ‖expected‖ (absolute norm when ‖expected‖ = 0). */
export function relativeError(got: unknown, expected: unknown): number {
  const g = flatten(got);
  const e = flatten(expected);
  if (g.length !== e.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < e.length; i++) {
    num += (g[i] - e[i]) ** 2;
    den += e[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export interface CaseCheck {
  pass: boolean;
  /** One line per field out of tolerance. */
  failures: string[];
  /** Measured error per field. */
  errors: Record<string, number>;
}

/** Compares an output with the reference, field by field, at the stated tolerances. */
export function checkCase(got: CaseOutput, expected: CaseOutput): CaseCheck {
  const failures: string[] = [];
  const errors: Record<string, number> = {};
  const rel = (field: string, g: unknown, e: unknown) => {
    const err = relativeError(g, e);
    errors[field] = err;
    if (!(err <= TOLERANCE.relative)) failures.push(`${field}: relative error ${err.toExponential(2)} > ${TOLERANCE.relative}`);
  };
  const abs = (field: 'droppedFraction' | 'balanceLoss' | 'zLoss') => {
    const err = Math.abs(got[field] - expected[field]);
    errors[field] = err;
    if (!(err <= TOLERANCE.absolute)) failures.push(`${field}: got ${got[field]}, expected ${expected[field]} (|Δ| ${err.toExponential(2)} > ${TOLERANCE.absolute})`);
  };
  const exact = (field: 'expertIndex' | 'expertCounts') => {
    const same = got[field].length === expected[field].length && got[field].every((v, i) => v === expected[field][i]);
    errors[field] = same ? 0 : 1;
    if (!same) failures.push(`${field}: got [${got[field].join(',')}], expected [${expected[field].join(',')}]`);
  };
  rel('y', got.y, expected.y);
  exact('expertIndex');
  exact('expertCounts');
  abs('droppedFraction');
  abs('balanceLoss');
  abs('zLoss');
  if (expected.grads) {
    if (!got.grads) failures.push('grads: expected gradients, none computed (case has no cotangent?)');
    else {
      for (const f of ['x', 'routerWeight', 'w1', 'w2'] as const) rel(`grads.${f}`, got.grads[f], expected.grads[f]);
      for (const f of ['sharedW1', 'sharedW2'] as const) {
        if (expected.grads[f] === undefined) continue;
        if (got.grads[f] === undefined) failures.push(`grads.${f}: expected the shared experts' gradient, none computed`);
        else rel(`grads.${f}`, got.grads[f], expected.grads[f]);
      }
    }
  }
  return { pass: failures.length === 0, failures, errors };
}
