/**
 * The MoE layer: route, dispatch, run the experts, combine, and add the shared experts when it has
 * any. One call routes one group of T tokens. Letters: T tokens, D model, F expert hidden,
 * E experts, C capacity, k choices per token, S shared experts of hidden width Fs.
 */
import * as tf from '@tensorflow/tfjs';
import { biasRefusedBecause, expertWidth, resolveMoeConfig, sharedWidth, type MoeConfig, type MoeConfigInput } from './config.ts';
import { combine, combineExpertChoice, dispatch, slotTokens } from './dispatch.ts';
import { expertFfn, packedExpertFfn } from './experts.ts';
import { packLayout, packedRowTile } from './packed-layout.ts';
import { combineRows, gatherRows } from './packed-rows.ts';
import { truncatedNormalInit } from './init.ts';
import { routerBiasUpdate } from './router-bias.ts';
import { getRouter, untaped, type Routing } from './routing/index.ts';
import { initSharedParams, sharedExpertsFfn, type SharedParams } from './shared-experts.ts';

/** The layer's weights (no biases, as in T5/Switch). */
export interface MoeParams {
  /** float32[D,E] */
  routerWeight: tf.Tensor2D;
  /** float32[E,D,F] */
  w1: tf.Tensor3D;
  /** float32[E,F,D] */
  w2: tf.Tensor3D;
  /**
   * float32[E] router bias: token choice chooses the k largest of probs + bias, the gates still
   * from probs (loss-free balancing, moe/router-bias.ts). A constant: no gradient reaches it.
   * Token-choice routers only. Absent: no bias (the layer's own exists when biasUpdateRate > 0).
   */
  routerBias?: tf.Tensor1D;
  /** float32[S,D,Fs] shared experts' input projections; present exactly when numSharedExperts = S > 0. */
  sharedW1?: tf.Tensor3D;
  /** float32[S,Fs,D] shared experts' output projections; with sharedW1. */
  sharedW2?: tf.Tensor3D;
}

export interface MoeCallOptions {
  /** Training: train capacity factor, jitter and expert dropout on. Evaluation: eval capacity factor, no noise. */
  training: boolean;
  /** Seed for this call's jitter and dropout noise (the trainer passes one per step). */
  seed?: number;
  /** Also return each token's first-choice expert, the argmax of probs (+ the router bias) (for specialisation analysis). */
  returnExpertIndex?: boolean;
}

/** Routing metrics, all tensors: nothing is read back inside the layer. */
export interface RoutingMetrics {
  /** float32[E] assignments per expert before the capacity limit. */
  countsBefore: tf.Tensor1D;
  /** float32[E] assignments per expert kept. */
  countsKept: tf.Tensor1D;
  /** Token choice: dropped assignments / (k·T). Expert choice: tokens no expert took / T. */
  droppedFraction: tf.Scalar;
  /** Mean router entropy (nats). */
  entropy: tf.Scalar;
  /** Mean largest router probability (the top-1 gate): 1/E at uniform. */
  meanTopProb: tf.Scalar;
  /** E·Σ f_e·P_e without coefficient (Switch eq. 4). */
  balanceLoss: tf.Scalar;
  /** mean logsumexp² without coefficient (ST-MoE). */
  zLoss: tf.Scalar;
  /** int32[T] each token's first choice when asked: argmax of probs, of probs + bias with a router bias (ties: lowest index). */
  expertIndex?: tf.Tensor1D;
  /**
   * float32[T] with `expertIndex`: how many of each token's assignments were kept (token choice:
   * 0..k after capacity; expert choice: how many experts took the token). 0 = dropped entirely.
   */
  tokenKept?: tf.Tensor1D;
  /** C used for this call (a plain number: known before the call, or the dropless load). */
  capacity: number;
}

export interface MoeOutput {
  /** float32[T,D] (or the input's leading shape with D last). */
  y: tf.Tensor;
  /** balanceCoef · balanceLoss + zCoef · zLoss: add it to the task loss. */
  auxLoss: tf.Scalar;
  metrics: RoutingMetrics;
}

/** Throws an Error naming the mismatch when weights or input disagree with the config. */
export function checkShapes(cfg: MoeConfig, params: MoeParams, x: tf.Tensor): void {
  const { dModel: D, numExperts: E } = cfg;
  const F = expertWidth(cfg);
  if (!Array.isArray((x as { shape?: unknown } | null)?.shape) || typeof (x as { dataSync?: unknown }).dataSync !== 'function') throw new Error(`MoE layer: input must be a tf.Tensor float32[T,${D}], got ${Array.isArray(x) ? 'an array (make it one with tf.tensor2d(x))' : typeof x}`);
  if (x.isDisposed) throw new Error('MoE layer: the input tensor was disposed');
  const expect = (name: string, got: number[], want: number[]) => {
    if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
      throw new Error(`MoE layer: ${name} has shape [${got.join(',')}], expected [${want.join(',')}] (D=${D}, F=${F}, E=${E})`);
    }
  };
  expect('routerWeight', params.routerWeight.shape, [D, E]);
  expect('w1', params.w1.shape, [E, D, F]);
  expect('w2', params.w2.shape, [E, F, D]);
  const S = cfg.numSharedExperts;
  if (S > 0) {
    const Fs = sharedWidth(cfg);
    for (const name of ['sharedW1', 'sharedW2'] as const) {
      if (!params[name]) throw new Error(`MoE layer: numSharedExperts = ${S} but no ${name} float32[${name === 'sharedW1' ? `${S},${D},${Fs}` : `${S},${Fs},${D}`}] was given`);
    }
    expect('sharedW1', params.sharedW1!.shape, [S, D, Fs]);
    expect('sharedW2', params.sharedW2!.shape, [S, Fs, D]);
  } else if (params.sharedW1 || params.sharedW2) {
    throw new Error(`MoE layer: shared expert weights given (${params.sharedW1 ? `sharedW1 [${params.sharedW1.shape.join(',')}]` : `sharedW2 [${params.sharedW2!.shape.join(',')}]`}), but numSharedExperts = 0: set numSharedExperts (and sharedDff) to use them`);
  }
  if (params.routerBias) {
    const why = biasRefusedBecause(cfg.router);
    if (why) throw new Error(`MoE layer: got a routerBias ${describeValues(params.routerBias)}; ${why}`);
    expect('routerBias', params.routerBias.shape, [E]);
  }
  if (x.rank < 2 || x.shape[x.rank - 1] !== D) {
    throw new Error(`MoE layer: input has shape [${x.shape.join(',')}], expected [T,${D}] or [...,${D}]`);
  }
  if (x.size === 0) throw new Error(`MoE layer: input has no tokens (shape [${x.shape.join(',')}])`);
}

/** A small tensor's values for an error message where a synchronous read works, else its shape. */
function describeValues(t: tf.Tensor): string {
  try {
    const v = Array.from(t.dataSync()).map((n) => Number(n.toPrecision(4)));
    if (v.length <= 16) return `[${v.join(', ')}]`;
  } catch {
    // No synchronous read on this backend (webgpu in Node): the shape must do.
  }
  return `${t.dtype}[${t.shape.join(',')}]`;
}

/**
 * Applies an MoE layer to one routing group.
 * @param params the weights (tensors or variables).
 * @param x float32[T,D] or float32[...,D] (all leading positions form one group, in row-major order).
 */
export function moeForward(cfg: MoeConfig, params: MoeParams, x: tf.Tensor, opts: MoeCallOptions): MoeOutput {
  checkShapes(cfg, params, x);
  const { numExperts: E, dModel: D } = cfg;
  const xs = tf.reshape(x, [-1, D]) as tf.Tensor2D; // [T,D]
  const T = xs.shape[0];
  const route = getRouter(cfg.router);
  const routing: Routing = route(xs, params.routerWeight, {
    numExperts: E,
    k: cfg.k,
    priority: cfg.priority,
    capacityFactor: opts.training ? cfg.capacityFactor : cfg.evalCapacityFactor,
    jitterEps: cfg.jitterEps,
    training: opts.training,
    seed: opts.seed,
    routerDtype: cfg.routerDtype,
    bias: params.routerBias,
  });
  const C = routing.capacity;
  const expertOpts = {
    activation: cfg.activation,
    dropout: cfg.expertDropout,
    training: opts.training,
    seed: opts.seed === undefined ? undefined : opts.seed + 1,
  };
  let y: tf.Tensor2D;
  let droppedFraction: tf.Scalar;
  if (routing.kind === 'token-choice') {
    const packed = packedRowTile();
    if (packed) {
      // Padding-free: kept assignments sorted by expert on the device (packed-layout.ts).
      const layout = packLayout(routing.slot, routing.countsKept, E, C, packed);
      const rows = gatherRows(xs, tf.onesLike(routing.gates), layout); // [R,D]
      const out = packedExpertFfn(rows, params.w1, params.w2, expertOpts, layout); // [R,D]
      y = combineRows(out, routing.gates, layout); // [T,D]
    } else {
      const slotToken = untaped(() => slotTokens(routing.slot, E, C)); // [E·C]
      const filled = untaped(() => tf.cast(routing.countsKept, 'int32') as tf.Tensor1D); // [E]
      const out = expertFfn(dispatch(xs, slotToken, E, C), params.w1, params.w2, expertOpts, filled); // [E,C,D]
      y = combine(out, routing.slot, routing.gates); // [T,D]
    }
    droppedFraction = tf.div(tf.sub(routing.k * T, tf.sum(routing.countsKept)), routing.k * T) as tf.Scalar;
  } else {
    const inputs = tf.reshape(tf.gather(xs, tf.reshape(routing.tokenIndex, [E * C])), [E, C, D]) as tf.Tensor3D; // [E,C,D]
    const out = expertFfn(inputs, params.w1, params.w2, expertOpts); // [E,C,D]
    y = combineExpertChoice(out, routing.tokenIndex, routing.gates, T); // [T,D]
    droppedFraction = tf.div(tf.sum(tf.cast(tf.equal(routing.coverage, 0), 'float32')), T) as tf.Scalar;
  }
  if (params.sharedW1 && params.sharedW2) {
    // Every token, weight 1, never dropped; not in the counts, the dropped fraction or the losses.
    y = tf.add(y, sharedExpertsFfn(xs, { sharedW1: params.sharedW1, sharedW2: params.sharedW2 }, cfg.activation)) as tf.Tensor2D; // [T,D]
  }
  const auxLoss = tf.add(tf.mul(routing.balanceLoss, cfg.balanceCoef), tf.mul(routing.zLoss, cfg.zCoef)) as tf.Scalar;
  return {
    y: x.rank === 2 ? y : tf.reshape(y, x.shape),
    auxLoss,
    metrics: {
      countsBefore: routing.countsBefore,
      countsKept: routing.countsKept,
      droppedFraction,
      entropy: routing.entropy,
      meanTopProb: routing.meanTopProb,
      balanceLoss: routing.balanceLoss,
      zLoss: routing.zLoss,
      expertIndex: opts.returnExpertIndex ? routing.top1 : undefined, // the first choice: argmax of probs (+ bias)
      tokenKept: opts.returnExpertIndex ? keptPerToken(routing) : undefined,
      capacity: C,
    },
  };
}

/** Per token, how many of its assignments were kept: float32[T]. */
function keptPerToken(routing: Routing): tf.Tensor1D {
  if (routing.kind === 'expert-choice') return routing.coverage;
  const E = routing.countsKept.shape[0];
  return untaped(() => tf.sum(tf.cast(tf.less(routing.slot, E * routing.capacity), 'float32'), 0) as tf.Tensor1D); // [T]
}

/**
 * Creates MoE weights with the Switch init (truncated normal, σ = sqrt(s/fan_in)), the shared
 * experts' too when the config has any. No router bias: that is state (MoeLayer.routerBias).
 */
export function initMoeParams(cfg: MoeConfig, seed?: number): MoeParams {
  const { dModel: D, numExperts: E, initScale: s } = cfg;
  const F = expertWidth(cfg);
  const at = (i: number) => (seed === undefined ? undefined : seed + i);
  const params: MoeParams = {
    routerWeight: truncatedNormalInit([D, E], s, at(0)) as tf.Tensor2D,
    w1: truncatedNormalInit([E, D, F], s, at(1)) as tf.Tensor3D,
    w2: truncatedNormalInit([E, F, D], s, at(2)) as tf.Tensor3D,
  };
  if (cfg.numSharedExperts > 0) Object.assign(params, initSharedParams(cfg.numSharedExperts, D, sharedWidth(cfg), s, at(3)));
  return params;
}

/** The layer's trainable weights as variables: MoeParams without the bias, shared experts' when it has them. */
export type MoeVariables = { routerWeight: tf.Variable<tf.Rank.R2>; w1: tf.Variable<tf.Rank.R3>; w2: tf.Variable<tf.Rank.R3> } & Partial<Record<keyof SharedParams, tf.Variable<tf.Rank.R3>>>;

let layerInstances = 0;

/**
 * A stateful MoE layer holding its weights as trainable variables, and with `biasUpdateRate > 0`
 * its router bias as state (a variable that is not trained: `updateRouterBias` moves it). Its
 * config is resolved from the partial one given; a resolved one (a model's config holds its
 * layers') is taken as it is.
 */
export class MoeLayer {
  readonly config: MoeConfig;
  readonly params: MoeVariables;
  /** float32[E] router bias (loss-free balancing), zeros at first; null when biasUpdateRate is 0. */
  readonly routerBias: tf.Variable<tf.Rank.R1> | null;

  constructor(config: MoeConfigInput, opts: { seed?: number; name?: string } = {}) {
    this.config = resolveMoeConfig(config);
    // tfjs variable names must be unique among live variables.
    const name = opts.name ?? `moe${layerInstances++}`;
    const init = initMoeParams(this.config, opts.seed);
    try {
      this.params = {
        routerWeight: tf.variable(init.routerWeight, true, `${name}/router`),
        w1: tf.variable(init.w1, true, `${name}/w1`),
        w2: tf.variable(init.w2, true, `${name}/w2`),
      };
      if (init.sharedW1 && init.sharedW2) {
        this.params.sharedW1 = tf.variable(init.sharedW1, true, `${name}/shared_w1`);
        this.params.sharedW2 = tf.variable(init.sharedW2, true, `${name}/shared_w2`);
      }
      this.routerBias = this.config.biasUpdateRate > 0 ? tf.tidy(() => tf.variable(tf.zeros([this.config.numExperts]) as tf.Tensor1D, false, `${name}/router_bias`)) : null;
    } finally {
      tf.dispose([init.routerWeight, init.w1, init.w2, init.sharedW1, init.sharedW2].filter((t) => t !== undefined));
    }
  }

  /** @param x float32[T,D] or [...,D]. */
  apply(x: tf.Tensor, opts: MoeCallOptions): MoeOutput {
    if (this.params.routerWeight.isDisposed) throw new Error('MoE layer: apply() after dispose(): its weights are gone; make a new MoeLayer');
    return moeForward(this.config, this.routerBias ? { ...this.params, routerBias: this.routerBias } : this.params, x, opts);
  }

  /**
   * After a training step: `b_e += γ·sign(mean load − load_e)` (moe/router-bias.ts), on the
   * device. Nothing happens without a bias (biasUpdateRate 0).
   * @param load float32[E] the step's `metrics.countsBefore`.
   * @param ok bool scalar, optional: false leaves the bias as it is (a non-finite step).
   */
  updateRouterBias(load: tf.Tensor1D, ok?: tf.Scalar): void {
    const bias = this.routerBias;
    if (!bias) return;
    tf.tidy(() => bias.assign(routerBiasUpdate(bias, load, this.config.biasUpdateRate, ok)));
  }

  /** Trainable variables, router first (then w1, w2, and the shared experts' when there are any); not the router bias. */
  variables(): tf.Variable[] {
    const { routerWeight, w1, w2, sharedW1, sharedW2 } = this.params;
    return [routerWeight, w1, w2, ...(sharedW1 && sharedW2 ? [sharedW1, sharedW2] : [])];
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
    this.routerBias?.dispose();
  }
}
