/**
 * `bench moe-layer`: forward+backward time of one MoE layer per expert count, against a dense
 * FFN of the same active FLOPs per token (hidden width k·F), on one backend in one process, so
 * the ratios compare like with like.
 *
 * FLOPs counted are the matmuls executed, ×3 for forward+backward: MoE forward = 2·T·D·E
 * (router) + 4·R·D·F (experts), where R is the expert rows multiplied (kernel-sets.ts
 * `rowsMultiplied`): every slot, E·C, where the backend multiplies the whole capacity buffer,
 * the filled slots where it skips empty ones (wasm), the kept rows padded to the row tile on
 * webgpu's packed layout. Dense forward = 4·T·D·(k·F).
 *
 * On webgpu several kernel sets (ours, a forced variant, tfjs's builtin ops) can be timed in the
 * same round-robin, one row per set and expert count.
 */
import * as tf from '@tensorflow/tfjs';
import { type DeviceInfo } from '../backend/index.ts';
import { type RouterName } from '../moe/config.ts';
import { MoeLayer, moeForward } from '../moe/layer.ts';
import { denseFfn, initDenseParams } from '../moe/dense.ts';
import { ROW_TILE } from '../kernels/contracts.ts';
import { packedRowBound, tokenChoiceCapacity } from '../moe/capacity.ts';
import { checkBindingSizes, kernelSetName, rowsMultiplied, withKernelSet, type KernelSet } from './kernel-sets.ts';
import { timeInterleaved, touchAll } from './timing.ts';

const TALLEST_ROW_TILE = Math.max(...Object.values(ROW_TILE));

export interface MoeBenchOptions {
  tokens: number;
  dModel: number;
  dFf: number;
  experts: number[];
  router: RouterName;
  k: number;
  /** Capacity factors to time side by side (null = dropless). */
  capacityFactors: (number | null)[];
  /** Kernel sets to time side by side (webgpu); ['ours'] elsewhere. */
  kernels: KernelSet[];
  warmup: number;
  repeats: number;
  seed: number;
}

export interface MoeBenchRow {
  kind: 'moe' | 'dense';
  router: RouterName | 'dense';
  experts: number;
  k: number;
  tokens: number;
  dModel: number;
  dFf: number;
  capacityFactor: number | null;
  capacity: number | null;
  /** Assignments kept (filled slots, Σ_e min(load_e, C)); at most E·C. */
  filledSlots: number | null;
  /** Expert rows multiplied per matmul (kernel-sets.ts `rowsMultiplied`). */
  rowsComputed: number | null;
  /** What ran the experts: the webgpu matmul variant (`register`, `tiled`) or `builtin`; else the backend name. */
  kernels: string;
  backend: string;
  device: string;
  gpu: boolean;
  medianMs: number;
  minMs: number;
  maxMs: number;
  gflops: number;
  /** medianMs / medianMs of the first expert count with the same kernels and capacity factor in this run. */
  vsFewestExperts?: number;
  /** medianMs / medianMs of the same experts and kernels at the first capacity factor in this run. */
  vsFirstCapacityFactor?: number;
  /** medianMs / medianMs of the FLOP-matched dense FFN in this run. */
  vsDense?: number;
}

/**
 * Runs the benchmark; rows come out dense first, then one per capacity factor, kernel set and
 * expert count (in that nesting), all timed round-robin.
 */
export async function benchMoeLayer(o: MoeBenchOptions, device: DeviceInfo, onRow?: (r: MoeBenchRow) => void): Promise<MoeBenchRow[]> {
  for (const [name, v] of Object.entries({ tokens: o.tokens, dModel: o.dModel, dFf: o.dFf, k: o.k })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`bench moe-layer: ${name} must be an integer ≥ 1, got ${v}`);
  }
  if (o.experts.length === 0 || o.experts.some((e) => !Number.isInteger(e) || e < 1)) {
    throw new Error(`bench moe-layer: experts must be integers ≥ 1, got ${o.experts.join(',')}`);
  }
  const { tokens: T, dModel: D, dFf: F } = o;
  const k = o.router === 'top1' ? 1 : o.k;
  const tooFew = o.experts.filter((e) => e < k);
  if (tooFew.length) throw new Error(`bench moe-layer: k = ${k} exceeds experts = ${tooFew.join(',')}`);
  if (o.capacityFactors.length === 0) throw new Error('bench moe-layer: no capacity factor given');
  // Before any allocation: one WebGPU binding holds at most maxStorageBufferBindingSize bytes.
  // The packed rows are bounded for the tallest row tile, the most padding any variant adds.
  checkBindingSizes('bench moe-layer', [
    { name: `dense hidden [${T},${k * F}]`, elements: T * k * F },
    ...o.experts.flatMap((E) => o.capacityFactors.map((cf) => [E, tokenChoiceCapacity(cf, k, T, E) ?? T])).flatMap(([E, C]) => {
      return [
        { name: `w1 [${E},${D},${F}]`, elements: E * D * F },
        { name: `expert hidden rows [${packedRowBound(k, T, E, C, TALLEST_ROW_TILE)},${F}]`, elements: packedRowBound(k, T, E, C, TALLEST_ROW_TILE) * F },
        ...(o.kernels.includes('builtin') ? [{ name: `capacity buffer [${E},${C},${F}]`, elements: E * C * F }] : []),
      ];
    }),
  ]);
  const base = { tokens: T, dModel: D, backend: device.backend, device: device.device, gpu: device.gpu };
  const rows: MoeBenchRow[] = [];
  const emit = (r: MoeBenchRow) => {
    rows.push(r);
    onRow?.(r);
  };
  const x = tf.randomNormal([T, D], 0, 1, 'float32', o.seed) as tf.Tensor2D;
  const cot = tf.randomNormal([T, D], 0, 1, 'float32', o.seed + 1) as tf.Tensor2D;
  // Dense FFN with the same active FLOPs per token: hidden width k·F.
  const dense = initDenseParams(D, k * F, 0.1, o.seed);
  const w1 = tf.variable(dense.w1);
  const w2 = tf.variable(dense.w2);
  tf.dispose([dense.w1, dense.w2]);
  // Configurations: capacity factors × kernel sets × expert counts, all timed in one round-robin.
  // Layers share their weights across capacity factors (the factor is a call-time config).
  const layers = o.experts.map((E) => new MoeLayer({ dModel: D, dFf: F, numExperts: E, router: o.router, k }, { seed: o.seed }));
  const configs = o.capacityFactors.flatMap((cf) =>
    o.kernels.flatMap((set) =>
      o.experts.map((E, e) => ({ cf, set, E, layer: layers[e], cfg: { ...layers[e].config, capacityFactor: cf, evalCapacityFactor: cf } })),
    ),
  );
  const capacity = configs.map(() => 0);
  try {
    const denseStep = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(denseFfn({ w1, w2 }, x, 'relu'), cot)) as tf.Scalar, [w1, w2]);
        return touchAll(Object.values(grads));
      });
    const moeSteps = configs.map(({ set, layer, cfg }, i) => () =>
      withKernelSet(set, () =>
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => {
            const out = moeForward(cfg, layer.params, x, { training: true });
            capacity[i] = out.metrics.capacity;
            return tf.add(tf.sum(tf.mul(out.y, cot)), out.auxLoss) as tf.Scalar;
          }, layer.variables());
          return touchAll(Object.values(grads));
        }),
      ),
    );
    // Round-robin timing: every configuration sees the same drift in machine speed.
    const [denseTiming, ...moeTimings] = await timeInterleaved([denseStep, ...moeSteps], o.warmup, o.repeats);
    // Routing is deterministic here (fixed input, no jitter by default), so one more forward
    // gives the kept assignments of every timed step.
    const kept = await Promise.all(
      configs.map(async ({ layer, cfg }) => {
        const counts = tf.tidy(() => moeForward(cfg, layer.params, x, { training: true }).metrics.countsKept);
        const n = Array.from(await counts.data());
        counts.dispose();
        return n;
      }),
    );
    const denseFlops = 3 * 4 * T * D * k * F;
    emit({ ...base, kind: 'dense', router: 'dense', experts: 1, k, dFf: k * F, capacityFactor: null, capacity: null, filledSlots: null, rowsComputed: null, kernels: 'tfjs', ...pick(denseTiming), gflops: denseFlops / denseTiming.medianMs / 1e6 });
    configs.forEach(({ cf, set, E }, i) => {
      const timing = moeTimings[i];
      const rowsComputed = withKernelSet(set, () => rowsMultiplied(kept[i], capacity[i]));
      const flops = 3 * (2 * T * D * E + 4 * rowsComputed * D * F);
      const fewest = moeTimings[configs.findIndex((c) => c.cf === cf && c.set === set)];
      const firstCf = moeTimings[configs.findIndex((c) => c.set === set && c.E === E)];
      emit({
        ...base,
        kind: 'moe',
        router: o.router,
        experts: E,
        k,
        dFf: F,
        capacityFactor: cf,
        capacity: capacity[i],
        filledSlots: kept[i].reduce((a, b) => a + b, 0),
        rowsComputed,
        kernels: kernelSetName(set),
        ...pick(timing),
        gflops: flops / timing.medianMs / 1e6,
        vsFewestExperts: timing.medianMs / fewest.medianMs,
        vsFirstCapacityFactor: timing.medianMs / firstCf.medianMs,
        vsDense: timing.medianMs / denseTiming.medianMs,
      });
    });
  } finally {
    tf.dispose([x, cot, w1, w2]);
    for (const l of layers) l.dispose();
  }
  return rows;
}

function pick(t: { medianMs: number; minMs: number; maxMs: number }) {
  return { medianMs: t.medianMs, minMs: t.minMs, maxMs: t.maxMs };
}
