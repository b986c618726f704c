// The MoE core test suite, parametrised by tfjs backend. tfjs backends are process-global and
// node:test runs each file in its own process, so test/moe.<backend>.test.ts each call
// `defineMoeSuite(backend)` once. Every expected value comes from the float64 reference in
// reference-moe.ts (written from docs/conformance.md) or from closed-form hand examples.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../kernel-lib/backend/index.ts';
import { checkCase, runCase } from '../../kernel-lib/conformance/run.ts';
import { readCase } from '../../kernel-lib/conformance/case.ts';
import {
  MoeLayer,
  assignmentSlots,
  balanceLoss,
  denseFfn,
  expertMatMul,
  moeForward,
  resolveMoeConfig,
  routerEntropy,
  zLoss,
  type MoeConfig,
} from '../../kernel-lib/moe/index.ts';
import { describeMismatch, libConfig, paramsOf, runLibrary, type LibOutput } from './lib-moe.ts';
import {
  ffn,
  paramNamesOf,
  finiteDifferences,
  flatten,
  randomCase,
  randomInputs,
  referenceCapacity,
  referenceMoe,
  relError,
  type Nested,
  type RefConfig,
  type RefInputs,
  type RefOutput,
  type Shape,
} from './reference-moe.ts';
import { expertChoiceRouter } from '../../kernel-lib/moe/routing/expert-choice.ts';
import { drawExtensionInputs, type ExtensionShape } from './extension-cases.ts';
import { Rng } from '../../kernel-lib/util/seed.ts';

export type SuiteBackend = 'cpu' | 'wasm' | 'webgpu';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/conformance/', import.meta.url));

/** Tolerances of docs/conformance.md. */
export const REL_TOL = 1e-4;
export const ABS_TOL = 1e-5;

const fmt = (a: number[]): string => `[${a.join(',')}]`;

/** Field-by-field comparison of a library forward with the reference; one line per failure. */
export function compareForward(lib: LibOutput, ref: RefOutput): string[] {
  const f: string[] = [];
  const ey = relError(lib.y, ref.y);
  if (!(ey <= REL_TOL)) f.push(`y: relative error ${ey.toExponential(2)} > ${REL_TOL}`);
  if (fmt(lib.expertIndex) !== fmt(ref.expertIndex)) f.push(`expertIndex: got ${fmt(lib.expertIndex)}, expected ${fmt(ref.expertIndex)}`);
  if (fmt(lib.expertCounts) !== fmt(ref.expertCounts)) f.push(`expertCounts: got ${fmt(lib.expertCounts)}, expected ${fmt(ref.expertCounts)}`);
  for (const field of ['droppedFraction', 'balanceLoss', 'zLoss'] as const) {
    const d = Math.abs(lib[field] - ref[field]);
    if (!(d <= ABS_TOL)) f.push(`${field}: got ${lib[field]}, expected ${ref[field]} (|Δ| ${d.toExponential(2)})`);
  }
  return f;
}

/** Mean router entropy from reference probabilities. */
const refEntropy = (probs: number[][]): number => probs.reduce((s, p) => s - p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0), 0) / probs.length;

interface SemanticCase {
  label: string;
  cfg: RefConfig;
  shape: Shape;
  seeds: number[];
  /** the case is meant to drop: assert that the drawn data actually does */
  drops?: boolean;
}

const S1: Shape = { T: 16, D: 8, E: 4, F: 8 };
const S2: Shape = { T: 12, D: 6, E: 3, F: 5 };
const S3: Shape = { T: 10, D: 5, E: 5, F: 4 };
const S4: Shape = { T: 6, D: 4, E: 2, F: 3 };

const rc = (router: RefConfig['router'], k: number, capacityFactor: number | null, activation: RefConfig['activation'] = 'relu'): RefConfig => ({
  router,
  k,
  capacityFactor,
  activation,
  balanceCoef: 0.01,
  zCoef: 0.001,
});

export const SEMANTIC_CASES: SemanticCase[] = [
  { label: 'top1 cf 1.0', cfg: rc('top1', 1, 1.0), shape: S1, seeds: [1, 2] },
  { label: 'top1 cf 0.25 (C=1, heavy dropping)', cfg: rc('top1', 1, 0.25), shape: S1, seeds: [3], drops: true },
  { label: 'top1 cf 0.5 (heavy dropping)', cfg: rc('top1', 1, 0.5), shape: S2, seeds: [4], drops: true },
  { label: 'top1 cf 1.5', cfg: rc('top1', 1, 1.5), shape: S2, seeds: [5] },
  { label: 'top1 cf 4 (C above T)', cfg: rc('top1', 1, 4), shape: S4, seeds: [6] },
  { label: 'top1 dropless', cfg: rc('top1', 1, null), shape: S1, seeds: [7] },
  { label: 'top1 dropless', cfg: rc('top1', 1, null), shape: S2, seeds: [8] },
  { label: 'top2 cf 1.0', cfg: rc('topk', 2, 1.0), shape: S1, seeds: [11, 12] },
  { label: 'top2 cf 0.5 (heavy dropping)', cfg: rc('topk', 2, 0.5), shape: S1, seeds: [13], drops: true },
  { label: 'top2 cf 0.25 (heavy dropping)', cfg: rc('topk', 2, 0.25), shape: S2, seeds: [14], drops: true },
  { label: 'top2 cf 1.25', cfg: rc('topk', 2, 1.25), shape: S2, seeds: [15] },
  { label: 'top2 cf 3 (C above T)', cfg: rc('topk', 2, 3), shape: S4, seeds: [24] },
  { label: 'top2 dropless', cfg: rc('topk', 2, null), shape: S2, seeds: [16] },
  { label: 'top3 cf 1.0', cfg: rc('topk', 3, 1.0), shape: S3, seeds: [21] },
  { label: 'top3 cf 0.5 (heavy dropping)', cfg: rc('topk', 3, 0.5), shape: S3, seeds: [22], drops: true },
  { label: 'top3 dropless', cfg: rc('topk', 3, null), shape: S3, seeds: [23] },
  { label: 'top3 of 3 experts (k = E) cf 0.5', cfg: rc('topk', 3, 0.5), shape: S2, seeds: [25], drops: true },
  { label: "top2 cf 0.5, priority 'token'", cfg: { ...rc('topk', 2, 0.5), priority: 'token' }, shape: S1, seeds: [26], drops: true },
  { label: "top3 cf 0.5, priority 'token'", cfg: { ...rc('topk', 3, 0.5), priority: 'token' }, shape: S3, seeds: [27], drops: true },
  { label: "top1 cf 0.5, priority 'token' (same as 'choice' for k = 1)", cfg: { ...rc('top1', 1, 0.5), priority: 'token' }, shape: S2, seeds: [28], drops: true },
  { label: 'expert-choice cf 1.0', cfg: rc('expert-choice', 1, 1.0), shape: S1, seeds: [31, 32] },
  { label: 'expert-choice cf 0.5', cfg: rc('expert-choice', 1, 0.5), shape: S2, seeds: [33], drops: true },
  { label: 'expert-choice cf 0.25 (C=1)', cfg: rc('expert-choice', 1, 0.25), shape: S1, seeds: [34], drops: true },
  { label: 'expert-choice cf 2.0', cfg: rc('expert-choice', 1, 2.0), shape: S3, seeds: [35] },
  { label: 'expert-choice cf 3 (C capped at T)', cfg: rc('expert-choice', 1, 3), shape: S4, seeds: [36] },
  { label: 'expert-choice no limit (C = T)', cfg: rc('expert-choice', 1, null), shape: S2, seeds: [37] },
  { label: 'top1 gelu', cfg: rc('top1', 1, 1.0, 'gelu'), shape: S1, seeds: [41] },
  { label: 'top2 gelu', cfg: rc('topk', 2, 1.0, 'gelu'), shape: S2, seeds: [42] },
  { label: 'expert-choice gelu', cfg: rc('expert-choice', 1, 1.0, 'gelu'), shape: S1, seeds: [43] },
];

const G: Shape = { T: 8, D: 4, E: 3, F: 5 };
const G4: Shape = { T: 8, D: 4, E: 4, F: 3 };
/** Larger aux coefficients than the fixtures so that the aux-loss gradients are far above the tolerance. */
const gc = (router: RefConfig['router'], k: number, capacityFactor: number | null, activation: RefConfig['activation'] = 'relu'): RefConfig => ({
  router,
  k,
  capacityFactor,
  activation,
  balanceCoef: 0.5,
  zCoef: 0.1,
});

interface GradCase {
  label: string;
  cfg: RefConfig;
  shape: Shape;
  seed: number;
  /** zero cotangent: only the aux losses carry gradient */
  auxOnly?: boolean;
}

export const GRAD_CASES: GradCase[] = [
  { label: 'top1 cf 1.0', cfg: gc('top1', 1, 1.0), shape: G, seed: 101 },
  { label: 'top1 cf 0.5 (dropping)', cfg: gc('top1', 1, 0.5), shape: G, seed: 102 },
  { label: 'top1 dropless', cfg: gc('top1', 1, null), shape: G, seed: 103 },
  { label: 'top2 cf 1.0', cfg: gc('topk', 2, 1.0), shape: G, seed: 104 },
  { label: 'top2 cf 0.5 (dropping)', cfg: gc('topk', 2, 0.5), shape: G4, seed: 105 },
  { label: 'top3 cf 1.0', cfg: gc('topk', 3, 1.0), shape: G4, seed: 106 },
  { label: "top2 cf 0.5, priority 'token'", cfg: { ...gc('topk', 2, 0.5), priority: 'token' }, shape: G4, seed: 112 },
  { label: 'expert-choice cf 1.0', cfg: gc('expert-choice', 1, 1.0), shape: G, seed: 107 },
  { label: 'expert-choice cf 0.5', cfg: gc('expert-choice', 1, 0.5), shape: G4, seed: 108 },
  { label: 'top1 gelu', cfg: gc('top1', 1, 1.0, 'gelu'), shape: G, seed: 109 },
  { label: 'top1 aux losses only', cfg: gc('top1', 1, 1.0), shape: G, seed: 110, auxOnly: true },
  { label: 'expert-choice aux losses only', cfg: gc('expert-choice', 1, 1.0), shape: G, seed: 111, auxOnly: true },
];

/** Compares library gradients with central differences of the reference; returns failure lines. */
export function compareGradients(
  cfg: RefConfig,
  inputs: RefInputs,
  cot: number[][],
  grads: NonNullable<LibOutput['grads']>,
  /** parameters whose gradient is zero by construction (aux-only cases: w1, w2) */
  zeroExpected: readonly string[] = [],
): string[] {
  const failures: string[] = [];
  for (const name of paramNamesOf(inputs)) {
    const { fd } = finiteDifferences(cfg, inputs, cot, name);
    if (grads[name] === undefined) {
      failures.push(`${name}: no gradient computed`);
      continue;
    }
    const got = flatten(grads[name] as Nested);
    const idx = fd.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0);
    if (got.length !== fd.length) {
      failures.push(`${name}: gradient has ${got.length} entries, expected ${fd.length}`);
      continue;
    }
    if (idx.length < fd.length / 2) {
      failures.push(`${name}: only ${idx.length}/${fd.length} entries had stable routing at ±h (test data too close to a routing change)`);
      continue;
    }
    const g = idx.map((i) => got[i]);
    const e = idx.map((i) => fd[i] as number);
    const maxAbs = Math.max(...e.map(Math.abs));
    if (zeroExpected.includes(name) || maxAbs === 0) {
      const gotMax = Math.max(...got.map(Math.abs));
      if (maxAbs !== 0) failures.push(`${name}: finite differences are not zero (‖fd‖∞ ${maxAbs.toExponential(2)}) where the test expects none`);
      else if (!zeroExpected.includes(name)) failures.push(`${name}: finite differences are all zero: the case checks nothing`);
      if (!(gotMax <= 1e-7)) failures.push(`${name}: gradient should be 0, got ‖g‖∞ ${gotMax.toExponential(2)}`);
      continue;
    }
    const err = relError(g, e);
    const worst = idx
      .map((i, j) => ({ i, d: Math.abs(g[j] - e[j]) }))
      .sort((a, b) => b.d - a.d)
      .slice(0, 3)
      .map(({ i }) => `#${i}: got ${got[i].toExponential(4)}, fd ${(fd[i] as number).toExponential(4)}`);
    if (!(err <= REL_TOL)) failures.push(`${name}: relative error ${err.toExponential(2)} over ${idx.length} entries (‖fd‖∞ ${maxAbs.toExponential(2)}); worst ${worst.join('; ')}`);
  }
  return failures;
}

async function arrayOf<T>(t: tf.Tensor): Promise<T> {
  return (await t.array()) as T;
}

export function defineMoeSuite(backend: SuiteBackend): void {
  describe(`MoE core on ${backend}`, () => {
    before(async () => {
      let info;
      try {
        info = await useBackend(backend);
      } catch (err) {
        throw new Error(`backend '${backend}' is unavailable: ${(err as Error).message}`);
      }
      assert.equal(info.backend, backend);
      assert.equal(tf.getBackend(), backend, `tf.getBackend() is ${tf.getBackend()} after useBackend('${backend}')`);
    });

    describe('conformance fixtures', () => {
      const files = readdirSync(FIXTURE_DIR)
        .filter((f) => f.endsWith('.json'))
        .sort();
      test('fixture directory is not empty', () => assert.ok(files.length >= 4, `found ${files.length} fixtures in ${FIXTURE_DIR}`));
      for (const file of files) {
        test(file, async () => {
          const c = readCase(join(FIXTURE_DIR, file));
          assert.ok(c.expected, `${file} has no expected answer`);
          const got = await runCase(c);
          const check = checkCase(got, c.expected);
          const errors = Object.entries(check.errors)
            .map(([k, v]) => `${k}=${v.toExponential(2)}`)
            .join(' ');
          assert.ok(check.pass, describeMismatch(check.failures, `${file} on ${backend} fails (errors: ${errors}):`));
        });
      }
    });

    describe('router semantics vs the float64 reference', () => {
      for (const sc of SEMANTIC_CASES) {
        for (const seed of sc.seeds) {
          const { T, D, E, F } = sc.shape;
          test(`${sc.label}, T=${T} D=${D} E=${E} F=${F}, seed ${seed}`, async () => {
            const { inputs } = randomCase(sc.cfg, sc.shape, seed);
            const ref = referenceMoe(sc.cfg, inputs);
            if (sc.drops) assert.ok(ref.droppedFraction > 0, `test data does not drop anything (C=${ref.capacity})`);
            const lib = await runLibrary(sc.cfg, inputs);
            const failures = compareForward(lib, ref);
            // countsBefore: token choice = assignments per expert before the limit; expert choice = argmax counts.
            const before =
              sc.cfg.router === 'expert-choice'
                ? Array.from({ length: E }, (_, e) => ref.expertIndex.filter((i) => i === e).length)
                : Array.from({ length: E }, (_, e) => ref.assignments.filter((a) => a.expert === e).length);
            if (fmt(lib.countsBefore) !== fmt(before)) failures.push(`countsBefore: got ${fmt(lib.countsBefore)}, expected ${fmt(before)}`);
            const ent = refEntropy(ref.probs);
            if (!(Math.abs(lib.entropy - ent) <= ABS_TOL)) failures.push(`entropy: got ${lib.entropy}, expected ${ent}`);
            assert.deepEqual(failures, [], describeMismatch(failures, `${sc.label} seed ${seed} on ${backend}: (reference C=${ref.capacity}, dropped ${ref.droppedFraction})`));
          });
        }
      }

      test('training uses capacityFactor and evaluation uses evalCapacityFactor', async () => {
        const cfg = rc('top1', 1, 0.25);
        const { inputs } = randomCase(cfg, S1, 51);
        const refTrain = referenceMoe(cfg, inputs);
        const refEval = referenceMoe({ ...cfg, capacityFactor: 2.0 }, inputs);
        assert.notEqual(refTrain.droppedFraction, refEval.droppedFraction, 'test data must drop differently at the two factors');
        const extra: Partial<MoeConfig> = { capacityFactor: 0.25, evalCapacityFactor: 2.0 };
        const train = await runLibrary(cfg, inputs, { training: true, seed: 3, extra });
        const evalOut = await runLibrary(cfg, inputs, { training: false, extra });
        assert.deepEqual(compareForward(train, refTrain), [], 'training call');
        assert.deepEqual(compareForward(evalOut, refEval), [], 'evaluation call');
      });

      test('a [B,S,D] input is one routing group in row-major order', async () => {
        const cfg = rc('topk', 2, 0.5);
        const { inputs } = randomCase(cfg, S1, 52);
        const ref = referenceMoe(cfg, inputs);
        const mc = libConfig(cfg, inputs);
        const params = paramsOf(inputs);
        const x3 = tf.tensor3d(inputs.x.flat(), [2, S1.T / 2, S1.D]);
        try {
          const y = tf.tidy(() => moeForward(mc, params, x3, { training: false }).y);
          assert.deepEqual(y.shape, [2, S1.T / 2, S1.D]);
          const flat = await arrayOf<number[][][]>(y);
          y.dispose();
          const err = relError(flat.flat(), ref.y);
          assert.ok(err <= REL_TOL, `y relative error ${err}`);
        } finally {
          tf.dispose([x3, params.routerWeight, params.w1, params.w2]);
        }
      });
    });

    describe('gradients vs central differences of the reference', () => {
      for (const gcase of GRAD_CASES) {
        test(gcase.label, async () => {
          const { inputs, cotangent } = randomCase(gcase.cfg, gcase.shape, gcase.seed);
          const cot = gcase.auxOnly ? cotangent.map((r) => r.map(() => 0)) : cotangent;
          const lib = await runLibrary(gcase.cfg, inputs, { cotangent: cot });
          assert.ok(lib.grads, 'no gradients computed');
          const failures = compareGradients(gcase.cfg, inputs, cot, lib.grads, gcase.auxOnly ? ['w1', 'w2'] : []);
          assert.deepEqual(failures, [], describeMismatch(failures, `${gcase.label} on ${backend}:`));
        });
      }

      test('top1: the gate carries a non-zero gradient to the router weight (no aux losses)', async () => {
        const cfg: RefConfig = { ...gc('top1', 1, 1.0), balanceCoef: 0, zCoef: 0 };
        const { inputs, cotangent } = randomCase(cfg, G, 121);
        const lib = await runLibrary(cfg, inputs, { cotangent });
        assert.ok(lib.grads);
        const g = flatten(lib.grads.routerWeight!);
        const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
        assert.ok(norm > 1e-3, `‖∂L/∂routerWeight‖ = ${norm}: the router gets no gradient through the gate`);
        const failures = compareGradients(cfg, inputs, cotangent, lib.grads);
        assert.deepEqual(failures, [], describeMismatch(failures, 'top1 without aux losses:'));
      });

      for (const capacityFactor of [null, 1.0]) {
        test(`jitter reaches the router only: one expert, ${capacityFactor === null ? 'dropless' : 'capacityFactor 1'}, jitterEps 0.5 gives the dense FFN of the clean x`, async () => {
          const shape: Shape = { T: 12, D: 6, E: 1, F: 7 };
          const inputs = randomInputs(new Rng(131), shape);
          const cfg = rc('top1', 1, capacityFactor);
          const mc = libConfig(cfg, inputs, { jitterEps: 0.5 });
          const params = paramsOf(inputs);
          const x = tf.tensor2d(inputs.x);
          const w1 = tf.tensor2d(inputs.w1[0]);
          const w2 = tf.tensor2d(inputs.w2[0]);
          try {
            const [yJit, zJit, zClean, yDense] = tf.tidy(() => [
              ...(() => {
                const o = moeForward(mc, params, x, { training: true, seed: 5 });
                return [o.y, o.metrics.zLoss];
              })(),
              moeForward(mc, params, x, { training: false }).metrics.zLoss,
              denseFfn({ w1, w2 }, x, 'relu'),
            ]);
            const [a, b, zj, zc] = await Promise.all([arrayOf<number[][]>(yJit), arrayOf<number[][]>(yDense), arrayOf<number>(zJit), arrayOf<number>(zClean)]);
            tf.dispose([yJit, zJit, zClean, yDense]);
            // The jitter is on (the router saw a different input) ...
            assert.ok(Math.abs(zj - zc) > 1e-4, `jitter had no effect on the router (zLoss ${zj} vs ${zc}): the test checks nothing`);
            // ... but the expert saw the clean x.
            const err = relError(a, b);
            assert.ok(err <= 1e-6, `y differs from the dense FFN of the clean input by ${err.toExponential(2)} (relative): jitter reached the expert input`);
          } finally {
            tf.dispose([x, w1, w2, params.routerWeight, params.w1, params.w2]);
          }
        });
      }

      test('jitter reaches the router only: with 4 experts each y[t] is g·FFN_e(clean x[t]) for some e, 0 < g ≤ 1', async () => {
        const shape: Shape = { T: 12, D: 6, E: 4, F: 7 };
        const inputs = randomInputs(new Rng(132), shape);
        const cfg = rc('top1', 1, 4.0); // C = T: no drops
        const mc = libConfig(cfg, inputs, { jitterEps: 0.5 });
        const params = paramsOf(inputs);
        const x = tf.tensor2d(inputs.x);
        try {
          const y = tf.tidy(() => moeForward(mc, params, x, { training: true, seed: 9 }).y);
          const got = await arrayOf<number[][]>(y);
          y.dispose();
          got.forEach((row, t) => {
            let best = Infinity;
            for (let e = 0; e < shape.E; e++) {
              const f = ffn(inputs, e, inputs.x[t], 'relu');
              const ff = f.reduce((s, v) => s + v * v, 0);
              const g = row.reduce((s, v, d) => s + v * f[d], 0) / ff;
              const resid = Math.sqrt(row.reduce((s, v, d) => s + (v - g * f[d]) ** 2, 0) / ff);
              if (g > 0 && g <= 1 + 1e-6) best = Math.min(best, resid);
            }
            assert.ok(best <= 1e-5, `token ${t}: y[t] is not a gated FFN of the clean x[t] (best residual ${best})`);
          });
        } finally {
          tf.dispose([x, params.routerWeight, params.w1, params.w2]);
        }
      });
    });

    describe('dense equivalence', () => {
      for (const activation of ['relu', 'gelu'] as const) {
        for (const capacityFactor of [null, 1.0]) {
          const limit = capacityFactor === null ? 'no capacity limit (dropless)' : 'capacityFactor 1 (C = T)';
          test(`one expert, ${limit}, ${activation}: y = denseFfn(x) and the same input gradient`, async () => {
            const shape: Shape = { T: 10, D: 6, E: 1, F: 12 };
            const inputs = randomInputs(new Rng(activation === 'relu' ? 141 : 142), shape);
            const cfg = rc('top1', 1, capacityFactor, activation);
            const mc = libConfig(cfg, inputs);
            const params = paramsOf(inputs);
            const x = tf.tensor2d(inputs.x);
            const w1 = tf.tensor2d(inputs.w1[0]);
            const w2 = tf.tensor2d(inputs.w2[0]);
            const cot = tf.tensor2d(randomInputs(new Rng(143), shape).x);
            try {
              const outs = tf.tidy(() => {
                const yMoe = moeForward(mc, params, x, { training: false }).y;
                const yDense = denseFfn({ w1, w2 }, x, activation);
                const gMoe = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(moeForward(mc, params, xx, { training: false }).y, cot)))(x);
                const gDense = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(denseFfn({ w1, w2 }, xx as tf.Tensor2D, activation), cot)))(x);
                return [yMoe, yDense, gMoe, gDense];
              });
              const [a, b, ga, gb] = await Promise.all(outs.map((t) => arrayOf<number[][]>(t)));
              tf.dispose(outs);
              const err = relError(a, b);
              assert.ok(err <= 1e-5, `y: relative error ${err.toExponential(2)} vs denseFfn`);
              const gerr = relError(ga, gb);
              assert.ok(gerr <= 1e-5, `∂/∂x: relative error ${gerr.toExponential(2)} vs denseFfn`);
              // And both match the float64 FFN (checks the activation itself, e.g. gelu's erf).
              const ref = inputs.x.map((v) => ffn(inputs, 0, v, activation));
              const rerr = relError(b, ref);
              assert.ok(rerr <= REL_TOL, `denseFfn vs float64 ${activation} FFN: relative error ${rerr.toExponential(2)}`);
            } finally {
              tf.dispose([x, w1, w2, cot, params.routerWeight, params.w1, params.w2]);
            }
          });
        }
      }
    });

    describe('auxiliary losses', () => {
      test('balanceLoss is 1.0 for perfectly uniform routing (direct call)', async () => {
        const T = 8;
        const E = 4;
        const v = tf.tidy(() => balanceLoss(tf.fill([T, E], 1 / E) as tf.Tensor2D, tf.tensor1d([0, 1, 2, 3, 3, 2, 1, 0], 'int32')));
        const got = await arrayOf<number>(v);
        v.dispose();
        assert.ok(Math.abs(got - 1) <= 1e-6, `balanceLoss = ${got}, expected 1`);
      });

      test('balanceLoss is E when every token picks one expert with probability 1 (direct call)', async () => {
        const T = 6;
        const E = 4;
        const probs = Array.from({ length: T }, () => [0, 0, 1, 0]);
        const v = tf.tidy(() => balanceLoss(tf.tensor2d(probs), tf.fill([T], 2, 'int32') as tf.Tensor1D));
        const got = await arrayOf<number>(v);
        v.dispose();
        assert.ok(Math.abs(got - E) <= 1e-6, `balanceLoss = ${got}, expected ${E}`);
      });

      test('balanceLoss through the layer: 1.0 when each expert is the argmax of T/E tokens with a symmetric router', async () => {
        // x[t] = one-hot(t mod E), routerWeight = 3·I: token t's probs are a permutation of one row,
        // each expert is the argmax of T/E tokens and P_e = 1/E.
        const E = 4;
        const T = 8;
        const inputs: RefInputs = {
          x: Array.from({ length: T }, (_, t) => Array.from({ length: E }, (_, d) => (d === t % E ? 1 : 0))),
          routerWeight: Array.from({ length: E }, (_, d) => Array.from({ length: E }, (_, e) => (d === e ? 3 : 0))),
          ...(() => {
            const r = randomInputs(new Rng(151), { T, D: E, E, F: 3 });
            return { w1: r.w1, w2: r.w2 };
          })(),
        };
        for (const router of ['top1', 'topk', 'expert-choice'] as const) {
          const cfg = rc(router, router === 'topk' ? 2 : 1, 1.0);
          const lib = await runLibrary(cfg, inputs);
          assert.ok(Math.abs(lib.balanceLoss - 1) <= ABS_TOL, `${router}: balanceLoss = ${lib.balanceLoss}, expected 1`);
          assert.deepEqual(lib.expertIndex, Array.from({ length: T }, (_, t) => t % E), `${router}: expertIndex`);
        }
      });

      test('zLoss is the mean of logsumexp² (hand example)', async () => {
        // logits rows [0, 0] and [ln 3, 0]: logsumexp = ln 2 and ln 4 = 2 ln 2 → mean = 2.5 (ln 2)².
        const v = tf.tidy(() => zLoss(tf.tensor2d([[0, 0], [Math.log(3), 0]])));
        const got = await arrayOf<number>(v);
        v.dispose();
        const want = 2.5 * Math.LN2 ** 2;
        assert.ok(Math.abs(got - want) <= 1e-6, `zLoss = ${got}, expected ${want}`);
      });

      test('zLoss value and gradient match float64 for large and tied logits: ∂z/∂logits[t] = (2/T)·lse_t·softmax(logits[t])', async () => {
        // Rows with logits near ±80 overflow a naive exp in float32; a tied row checks that the
        // gradient is the softmax, not a mask on the max.
        const logits = [
          [80, 79, -3, 0],
          [-80, -81, -79.5, -90],
          [2, 2, 2, 2],
          [0.5, -1.25, 3, 1],
        ];
        const T = logits.length;
        const lse = logits.map((r) => {
          const m = Math.max(...r);
          return m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0));
        });
        const wantZ = lse.reduce((s, v) => s + v * v, 0) / T;
        const wantG = logits.map((r, t) => r.map((v) => ((2 / T) * lse[t] * Math.exp(v - lse[t]))));
        const [z, g] = tf.tidy(() => {
          const x = tf.tensor2d(logits);
          return [zLoss(x), tf.grad((l: tf.Tensor) => zLoss(l as tf.Tensor2D))(x)];
        });
        const [gotZ, gotG] = await Promise.all([arrayOf<number>(z), arrayOf<number[][]>(g)]);
        tf.dispose([z, g]);
        assert.ok(Math.abs(gotZ - wantZ) / wantZ <= 1e-6, `zLoss = ${gotZ}, expected ${wantZ}`);
        const err = relError(gotG, wantG);
        assert.ok(err <= 1e-5, `gradient relative error ${err.toExponential(2)}: got ${JSON.stringify(gotG)}`);
      });

      test('routerEntropy is ln E for uniform probabilities and 0 for one-hot ones', async () => {
        const E = 5;
        const v = tf.tidy(() => [routerEntropy(tf.fill([3, E], 1 / E) as tf.Tensor2D), routerEntropy(tf.tensor2d([[0, 1, 0, 0, 0], [1, 0, 0, 0, 0]]))]);
        const [u, h] = await Promise.all(v.map((t) => arrayOf<number>(t)));
        tf.dispose(v);
        assert.ok(Math.abs(u - Math.log(E)) <= 1e-6, `uniform entropy ${u}, expected ln ${E} = ${Math.log(E)}`);
        assert.ok(Math.abs(h) <= 1e-6, `one-hot entropy ${h}, expected 0`);
      });
    });

    describe('priority order (GShard): all 1st choices before any 2nd choice', () => {
      // T=3, E=3, k=2, C=2. 1st choices [1, 0, 1], 2nd choices [0, 1, 2].
      // Priority order: t0→1 (pos 0), t1→0 (pos 0), t2→1 (pos 1, the last slot of expert 1),
      // then t0→0 (pos 1), t1→1 (expert 1 full: dropped), t2→2 (pos 0).
      // Token order would instead have given t1's 2nd choice the slot and dropped t2's 1st.
      const E = 3;
      const C = 2;
      test('assignmentSlots', async () => {
        const s = tf.tidy(() => assignmentSlots(tf.tensor2d([[1, 0, 1], [0, 1, 2]], [2, 3], 'int32'), E, C));
        const got = await arrayOf<number[][]>(s);
        s.dispose();
        const trash = E * C;
        assert.deepEqual(got, [
          [1 * C + 0, 0 * C + 0, 1 * C + 1],
          [0 * C + 1, trash, 2 * C + 0],
        ]);
      });

      test('the layer: token 1 loses its 2nd choice, token 2 keeps its 1st', async () => {
        // x = I, so logits = routerWeight rows: t0 prefers 1 then 0, t1 0 then 1, t2 1 then 2.
        const r = randomInputs(new Rng(161), { T: 3, D: 3, E, F: 4 });
        const inputs: RefInputs = {
          x: [
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
          ],
          routerWeight: [
            [2, 3, 0],
            [3, 2, 0],
            [0, 3, 2],
          ],
          w1: r.w1,
          w2: r.w2,
        };
        const cfg = rc('topk', 2, 1.0); // C = ceil(1·2·3/3) = 2
        assert.equal(referenceCapacity(cfg, 3, E), C);
        const lib = await runLibrary(cfg, inputs);
        assert.deepEqual(lib.expertCounts, [2, 2, 1], 'expertCounts');
        assert.ok(Math.abs(lib.droppedFraction - 1 / 6) <= ABS_TOL, `droppedFraction ${lib.droppedFraction}, expected 1/6`);
        // By hand: y[t] = Σ kept gate · FFN_e(x[t]), gates renormalised over the 2 choices.
        const p = (row: number[]) => row.map((v) => Math.exp(v) / row.reduce((s, u) => s + Math.exp(u), 0));
        const probs = inputs.routerWeight.map(p);
        const term = (t: number, e: number, other: number) => ffn(inputs, e, inputs.x[t], 'relu').map((v) => (v * probs[t][e]) / (probs[t][e] + probs[t][other]));
        const add = (a: number[], b: number[]) => a.map((v, i) => v + b[i]);
        const want = [add(term(0, 1, 0), term(0, 0, 1)), term(1, 0, 1), add(term(2, 1, 2), term(2, 2, 1))];
        const err = relError(lib.y, want);
        assert.ok(err <= REL_TOL, `y relative error ${err.toExponential(2)}: got ${JSON.stringify(lib.y)}`);
        assert.deepEqual(compareForward(lib, referenceMoe(cfg, inputs)), []);
        // priority 'token' (causal): token order instead, so token 1 keeps its 2nd choice and token 2 loses its 1st.
        const libTok = await runLibrary({ ...cfg, priority: 'token' }, inputs);
        assert.deepEqual(libTok.expertCounts, [2, 2, 1], "expertCounts, priority 'token'");
        const wantTok = [add(term(0, 1, 0), term(0, 0, 1)), add(term(1, 0, 1), term(1, 1, 0)), term(2, 2, 1)];
        const errTok = relError(libTok.y, wantTok);
        assert.ok(errTok <= REL_TOL, `priority 'token': y relative error ${errTok.toExponential(2)}`);
      });

      test("assignmentSlots with priority 'token': token 0's choices, then token 1's, ...", async () => {
        // t0→1 (pos 0), t0→0 (pos 0), t1→0 (pos 1), t1→1 (pos 1), t2→1 (full: dropped), t2→2 (pos 0).
        const s = tf.tidy(() => assignmentSlots(tf.tensor2d([[1, 0, 1], [0, 1, 2]], [2, 3], 'int32'), E, C, 'token'));
        const got = await arrayOf<number[][]>(s);
        s.dispose();
        assert.deepEqual(got, [
          [1 * C + 0, 0 * C + 1, E * C],
          [0 * C + 0, 1 * C + 1, 2 * C + 0],
        ]);
      });
    });

    describe('kernels the layer relies on', () => {
      /** float64 [..,M,K]·[..,K,N] with broadcasting over one leading batch axis. */
      const refMatMul = (a: number[][][], b: number[][][]): number[][][] => {
        const B = Math.max(a.length, b.length);
        return Array.from({ length: B }, (_, i) => {
          const ai = a[a.length === 1 ? 0 : i];
          const bi = b[b.length === 1 ? 0 : i];
          return ai.map((row) => bi[0].map((_, n) => row.reduce((s, v, kk) => s + v * bi[kk][n], 0)));
        });
      };
      const transposeLast = (m: number[][][]): number[][][] => m.map((x) => x[0].map((_, j) => x.map((r) => r[j])));
      const rnd = (rng: Rng, b: number, r: number, c: number) => Array.from({ length: b }, () => Array.from({ length: r }, () => Array.from({ length: c }, () => Math.fround(rng.next() * 2 - 1))));
      const cases: { label: string; a: [number, number, number]; b: [number, number, number]; ta: boolean; tb: boolean }[] = [
        { label: '[3,5,4]·[3,4,6]', a: [3, 5, 4], b: [3, 4, 6], ta: false, tb: false },
        { label: '[3,5,4]·[3,6,4]ᵀ', a: [3, 5, 4], b: [3, 6, 4], ta: false, tb: true },
        { label: '[3,4,5]ᵀ·[3,4,6]', a: [3, 4, 5], b: [3, 4, 6], ta: true, tb: false },
        { label: '[3,4,5]ᵀ·[3,6,4]ᵀ', a: [3, 4, 5], b: [3, 6, 4], ta: true, tb: true },
        { label: '[1,5,4]·[3,4,6] (broadcast a)', a: [1, 5, 4], b: [3, 4, 6], ta: false, tb: false },
        { label: '[3,5,4]·[1,4,6] (broadcast b)', a: [3, 5, 4], b: [1, 4, 6], ta: false, tb: false },
        { label: '[1,5,4]·[1,4,6]', a: [1, 5, 4], b: [1, 4, 6], ta: false, tb: false },
      ];
      for (const c of cases) {
        test(`matMul ${c.label}`, async () => {
          const rng = new Rng(181);
          const a = rnd(rng, ...c.a);
          const b = rnd(rng, ...c.b);
          const want = refMatMul(c.ta ? transposeLast(a) : a, c.tb ? transposeLast(b) : b);
          const out = tf.tidy(() => tf.matMul(tf.tensor3d(a), tf.tensor3d(b), c.ta, c.tb));
          const got = await arrayOf<number[][][]>(out);
          out.dispose();
          assert.deepEqual([got.length, got[0].length, got[0][0].length], [want.length, want[0].length, want[0][0].length], 'shape');
          const err = relError(got, want);
          assert.ok(err <= 1e-6, `relative error ${err.toExponential(2)}`);
        });
      }

      test('matMul [2,4]·[4,3] (rank 2) and [2,3,4]·[4,5] (batch · matrix)', async () => {
        const rng = new Rng(182);
        const a = rnd(rng, 1, 2, 4);
        const b = rnd(rng, 1, 4, 3);
        const a3 = rnd(rng, 2, 3, 4);
        const b2 = rnd(rng, 1, 4, 5);
        const outs = tf.tidy(() => [tf.matMul(tf.tensor2d(a[0]), tf.tensor2d(b[0])), tf.matMul(tf.tensor3d(a3), tf.tensor2d(b2[0]))]);
        const [g2, g3] = await Promise.all([arrayOf<number[][]>(outs[0]), arrayOf<number[][][]>(outs[1])]);
        tf.dispose(outs);
        assert.ok(relError(g2, refMatMul(a, b)[0]) <= 1e-6, 'rank 2');
        assert.ok(relError(g3, refMatMul(a3, b2)) <= 1e-6, 'batch · matrix');
      });

      for (const tb of [false, true]) {
        test(`matMul with a variable [E,${tb ? 'N,K]ᵀ' : 'K,N]'} weight: exact on every call and after each assign, no buffers left behind`, async () => {
          // wasm keeps per-expert copies of a variable's buffer (and, from the second transposed
          // use, transposed copies) so that XNNPACK packs each once: they must follow assign and
          // be freed with the buffer.
          const rng = new Rng(183);
          const [E, M, K, N] = [3, 5, 4, 6];
          const a = rnd(rng, E, M, K);
          const values = [0, 1, 2].map(() => rnd(rng, E, tb ? N : K, tb ? K : N));
          const backendBuffers = () => tf.engine().backend.numDataIds();
          const buffersBefore = backendBuffers();
          const tensorsBefore = tf.memory().numTensors;
          const sources = values.map((value) => tf.tensor3d(value)); // assign and variable() share, not take, these
          const w = tf.variable(sources[0], true, `cache-test-${tb}`);
          const at = tf.tensor3d(a);
          try {
            for (const [v, value] of values.entries()) {
              if (v > 0) w.assign(sources[v]);
              const want = refMatMul(a, tb ? transposeLast(value) : value);
              for (let call = 0; call < 3; call++) {
                const out = tf.matMul(at, w, false, tb);
                const got = await arrayOf<number[][][]>(out);
                out.dispose();
                const err = relError(got, want);
                assert.ok(err <= 1e-6, `value ${v}, call ${call}: relative error ${err.toExponential(2)}`);
              }
            }
          } finally {
            tf.dispose([at, w, ...sources]);
          }
          assert.equal(tf.memory().numTensors, tensorsBefore, 'tensors');
          assert.equal(backendBuffers(), buffersBefore, 'backend buffers (cached copies not freed with the variable?)');
        });
      }

      test('expertMatMul: filled rows exact, empty rows 0, ∂b over filled slots, ∂a on filled rows; repeated calls and a variable weight', async () => {
        // filled = [C, 2, 0, 7 > C]: full, partial, empty, and clamped to C. E = 1 separately (its
        // wasm path returns the one product without assembling).
        const rng = new Rng(184);
        for (const { E, C, filled } of [
          { E: 4, C: 5, filled: [5, 2, 0, 7] },
          { E: 1, C: 6, filled: [6] },
          { E: 1, C: 6, filled: [4] },
        ]) {
          const [K, N] = [4, 3];
          const used = filled.map((f) => Math.min(f, C));
          const a = rnd(rng, E, C, K).map((m, e) => m.map((row, j) => (j < used[e] ? row : row.map(() => 0))));
          const bv = rnd(rng, E, K, N);
          const cot = rnd(rng, E, C, N);
          const wantY = refMatMul(a, bv).map((m, e) => m.map((row, j) => (j < used[e] ? row : row.map(() => 0))));
          const wantDb = refMatMul(transposeLast(a), cot);
          const wantDa = refMatMul(cot, transposeLast(bv));
          const w = tf.variable(tf.tensor3d(bv), true, `expert-matmul-test-${E}-${filled.join('-')}`);
          const at = tf.tensor3d(a);
          const ft = tf.tensor1d(filled, 'int32');
          const label = `E=${E} filled=[${filled}]`;
          try {
            for (let call = 0; call < 3; call++) {
              const [y, da, db] = tf.tidy(() => {
                const out = expertMatMul(at, w as unknown as tf.Tensor3D, ft);
                const g = tf.grads((x: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(expertMatMul(x as tf.Tensor3D, v as tf.Tensor3D, ft), tf.tensor3d(cot))))([at, w]);
                return [out, g[0], g[1]];
              });
              const [gy, gda, gdb] = await Promise.all([y, da, db].map((t) => arrayOf<number[][][]>(t)));
              tf.dispose([y, da, db]);
              assert.ok(relError(gy, wantY) <= 1e-6, `${label} call ${call}: y relative error ${relError(gy, wantY).toExponential(2)}`);
              for (let e = 0; e < E; e++) for (let j = used[e]; j < C; j++) assert.ok(gy[e][j].every((v) => v === 0), `${label}: y[${e}][${j}] is an empty slot but not 0`);
              assert.ok(relError(gdb, wantDb) <= 1e-6, `${label} call ${call}: ∂b relative error ${relError(gdb, wantDb).toExponential(2)}`);
              const filledRows = (m: number[][][]) => m.map((x, e) => x.slice(0, used[e]));
              assert.ok(relError(filledRows(gda), filledRows(wantDa)) <= 1e-6, `${label} call ${call}: ∂a on filled rows, relative error ${relError(filledRows(gda), filledRows(wantDa)).toExponential(2)}`);
            }
          } finally {
            tf.dispose([w, at, ft]);
          }
        }
      });

      test('expertMatMul: gradients of gradients (each transposed form) and a filled count computed on the tape', async () => {
        // L2(a) = Σ ∂b[Σ y⊙cot] ⊙ R, with ∂b = Σ_{c<filled} a[c]ᵀ·cot[c]: ∂L2/∂a[e,c,p] = Σ_q cot[e,c,q]·R[e,p,q] on filled rows.
        // L3(b) = Σ ∂a[Σ y⊙cot] ⊙ S, with ∂a = cot·bᵀ and S zero on empty rows: ∂L3/∂b[e,p,q] = Σ_c S[e,c,p]·cot[e,c,q].
        const rng = new Rng(185);
        const [E, C, P, Q] = [3, 4, 3, 2];
        const used = [4, 1, 0];
        const zeroEmpty = (m: number[][][]) => m.map((x, e) => x.map((row, j) => (j < used[e] ? row : row.map(() => 0))));
        const a = zeroEmpty(rnd(rng, E, C, P));
        const bv = rnd(rng, E, P, Q);
        const cot = rnd(rng, E, C, Q);
        const R = rnd(rng, E, P, Q);
        const S = zeroEmpty(rnd(rng, E, C, P));
        const want2 = refMatMul(cot, transposeLast(R));
        const want3 = refMatMul(transposeLast(S), cot);
        const filledRows = (m: number[][][]) => m.map((x, e) => x.slice(0, used[e]));
        const [g2, g3, gTape] = tf.tidy(() => {
          const [at, bt, ct] = [tf.tensor3d(a), tf.tensor3d(bv), tf.tensor3d(cot)];
          const filled = tf.tensor1d(used, 'int32');
          const loss = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(expertMatMul(x as tf.Tensor3D, w as tf.Tensor3D, filled), ct));
          const d2 = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.grads(loss)([x, bt])[1], tf.tensor3d(R))))(at);
          const d3 = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.grads(loss)([at, w])[0], tf.tensor3d(S))))(bt);
          // filled derived from a on the tape (count of non-zero rows), as a caller outside the layer might.
          const onTape = tf.grad((x: tf.Tensor) => {
            const f = tf.cast(tf.sum(tf.step(tf.sum(tf.abs(x), 2)), 1), 'int32') as tf.Tensor1D;
            return tf.sum(tf.mul(expertMatMul(x as tf.Tensor3D, bt, f), ct));
          })(at);
          return [d2, d3, onTape];
        });
        const [h2, h3, hTape] = await Promise.all([g2, g3, gTape].map((t) => arrayOf<number[][][]>(t)));
        tf.dispose([g2, g3, gTape]);
        assert.ok(relError(filledRows(h2), filledRows(want2)) <= 1e-5, `∂a of Σ ∂b⊙R: relative error ${relError(filledRows(h2), filledRows(want2)).toExponential(2)}`);
        assert.ok(relError(h3, want3) <= 1e-5, `∂b of Σ ∂a⊙S: relative error ${relError(h3, want3).toExponential(2)}`);
        const wantTape = refMatMul(cot, transposeLast(bv));
        assert.ok(relError(filledRows(hTape), filledRows(wantTape)) <= 1e-5, `∂a with filled on the tape: relative error ${relError(filledRows(hTape), filledRows(wantTape)).toExponential(2)}`);
      });

      test('expertMatMul names bad shapes and dtypes', () => {
        const a = tf.zeros([2, 3, 4]) as tf.Tensor3D;
        try {
          tf.tidy(() => {
            assert.throws(() => expertMatMul(a, tf.zeros([2, 5, 6]) as tf.Tensor3D, tf.tensor1d([1, 1], 'int32')), /b must be \[2,4,N\]; got \[2,5,6\]/);
            assert.throws(() => expertMatMul(a, tf.zeros([2, 4, 6]) as tf.Tensor3D, tf.tensor1d([1, 1])), /filled must be int32\[2\], got float32\[2\]/);
            assert.throws(() => expertMatMul(a, tf.zeros([2, 4, 6]) as tf.Tensor3D, tf.tensor1d([1, 1, 1], 'int32')), /got int32\[3\]/);
          });
        } finally {
          a.dispose();
        }
      });

      test('clone shares nothing observable: disposing the original leaves the clone intact', async () => {
        const x = tf.tensor2d([
          [1, 2],
          [3, 4],
        ]);
        const y = tf.clone(x);
        x.dispose();
        assert.deepEqual(await arrayOf<number[][]>(y), [
          [1, 2],
          [3, 4],
        ]);
        y.dispose();
      });

      test('unsortedSegmentSum adds rows with equal ids and leaves empty segments at 0', async () => {
        const x = [
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
        ];
        const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d(x), tf.tensor1d([2, 0, 2, 3], 'int32'), 5));
        const got = await arrayOf<number[][]>(out);
        out.dispose();
        assert.deepEqual(got, [
          [3, 4],
          [0, 0],
          [6, 8],
          [7, 8],
          [0, 0],
        ]);
      });

      test('gather gradient (segment sum of the upstream gradient)', async () => {
        const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d([0, 2, 0, 1, 0], 'int32')), tf.tensor2d([[1], [2], [3], [4], [5]]))))(tf.zeros([4, 2])));
        const got = await arrayOf<number[][]>(g);
        g.dispose();
        assert.deepEqual(got, [
          [9, 9],
          [4, 4],
          [2, 2],
          [0, 0],
        ]);
      });
    });

    describe('ties (zero router weights: every probability equal)', () => {
      const zeroCase = (shape: Shape, seed: number): RefInputs => {
        const r = randomInputs(new Rng(seed), shape);
        return { ...r, routerWeight: r.routerWeight.map((row) => row.map(() => 0)) };
      };

      for (const shape of [
        { T: 8, D: 4, E: 4, F: 3 },
        { T: 12, D: 4, E: 3, F: 3 },
        { T: 33, D: 4, E: 3, F: 3 },
      ]) {
        const { T, E } = shape;
        test(`top1, T=${T} E=${E}: argmax picks expert 0 for every token; expert 0 keeps tokens 0..C-1`, async () => {
          const inputs = zeroCase(shape, 171);
          const cfg = rc('top1', 1, 1.0);
          const C = referenceCapacity(cfg, T, E) as number;
          const lib = await runLibrary(cfg, inputs);
          assert.deepEqual(lib.expertIndex, new Array(T).fill(0), 'expertIndex');
          assert.deepEqual(lib.expertCounts, [C, ...new Array(E - 1).fill(0)], 'expertCounts');
          const want = inputs.x.map((v, t) => (t < C ? ffn(inputs, 0, v, 'relu').map((u) => u / E) : v.map(() => 0)));
          const err = relError(lib.y, want);
          assert.ok(err <= REL_TOL, `y relative error ${err.toExponential(2)}`);
          assert.ok(Math.abs(lib.balanceLoss - 1) <= ABS_TOL, `balanceLoss ${lib.balanceLoss}, expected 1 (uniform P)`);
        });

        test(`expert-choice, T=${T} E=${E}: every expert takes tokens 0..C-1 (lower index first)`, async () => {
          const inputs = zeroCase(shape, 172);
          const cfg = rc('expert-choice', 1, 1.0);
          const C = referenceCapacity(cfg, T, E) as number;
          // The router's own choice ...
          const x = tf.tensor2d(inputs.x);
          const rw = tf.tensor2d(inputs.routerWeight);
          let tokenIndex: number[][];
          try {
            const ti = tf.tidy(() => {
              const r = expertChoiceRouter(x, rw, { numExperts: E, k: 1, capacityFactor: 1.0, jitterEps: 0, training: false });
              return r.tokenIndex;
            });
            tokenIndex = await arrayOf<number[][]>(ti);
            ti.dispose();
          } finally {
            tf.dispose([x, rw]);
          }
          const firstC = Array.from({ length: C }, (_, i) => i);
          assert.deepEqual(tokenIndex, new Array(E).fill(firstC), `tokenIndex on ${backend}`);
          // ... and the layer's output.
          const lib = await runLibrary(cfg, inputs);
          assert.deepEqual(lib.expertIndex, new Array(T).fill(0), 'expertIndex');
          const want = inputs.x.map((v, t) => {
            const y = v.map(() => 0);
            if (t < C) for (let e = 0; e < E; e++) ffn(inputs, e, v, 'relu').forEach((u, d) => (y[d] += u / E));
            return y;
          });
          const err = relError(lib.y, want);
          assert.ok(err <= REL_TOL, `y relative error ${err.toExponential(2)}`);
          assert.ok(Math.abs(lib.droppedFraction - (T - C) / T) <= ABS_TOL, `droppedFraction ${lib.droppedFraction}, expected ${(T - C) / T}`);
        });

        test(`topk, T=${T} E=${E}: expertIndex is expert 0 for every token`, async () => {
          const lib = await runLibrary(rc('topk', 2, 1.0), zeroCase(shape, 173));
          assert.deepEqual(lib.expertIndex, new Array(T).fill(0), 'expertIndex');
        });
      }
    });

    describe('router bias and shared experts (the format\'s extensions) vs the float64 reference', () => {
      const X1: ExtensionShape = { T: 16, D: 6, E: 4, F: 5, S: 0, Fs: 0 };
      const X2: ExtensionShape = { T: 12, D: 5, E: 5, F: 4, S: 2, Fs: 3 };
      const X3: ExtensionShape = { T: 10, D: 4, E: 3, F: 6, S: 1, Fs: 7 };
      const cases: { label: string; cfg: RefConfig; shape: ExtensionShape; seed: number; bias: number }[] = [
        { label: 'top1 + bias, cf 1.0', cfg: rc('top1', 1, 1.0), shape: X1, seed: 1811, bias: 0.2 },
        { label: 'top1 + bias, dropless', cfg: rc('top1', 1, null), shape: X1, seed: 1812, bias: 0.2 },
        { label: 'top2 + bias, cf 0.5 (dropping)', cfg: rc('topk', 2, 0.5), shape: X1, seed: 1813, bias: 0.15 },
        { label: "top2 + bias, cf 0.5, priority 'token'", cfg: { ...rc('topk', 2, 0.5), priority: 'token' }, shape: X1, seed: 1814, bias: 0.15 },
        { label: 'top3 + bias + 2 shared experts, cf 1.0', cfg: rc('topk', 3, 1.0), shape: X2, seed: 1815, bias: 0.1 },
        { label: 'top2 + 1 shared expert (no bias), dropless', cfg: rc('topk', 2, null), shape: X3, seed: 1816, bias: 0 },
        { label: 'expert-choice + 2 shared experts', cfg: rc('expert-choice', 1, 1.0), shape: X2, seed: 1817, bias: 0 },
        { label: 'top1 + bias + shared expert, gelu', cfg: rc('top1', 1, 1.0, 'gelu'), shape: X3, seed: 1818, bias: 0.2 },
      ];
      for (const c of cases) {
        test(`${c.label}: forward`, async () => {
          const { inputs } = drawExtensionInputs(c.cfg, c.shape, c.seed, c.bias);
          const ref = referenceMoe(c.cfg, inputs);
          const lib = await runLibrary(c.cfg, inputs);
          const failures = compareForward(lib, ref);
          if (c.cfg.router !== 'expert-choice') {
            const before = Array.from({ length: c.shape.E }, (_, e) => ref.assignments.filter((a) => a.expert === e).length);
            if (fmt(lib.countsBefore) !== fmt(before)) failures.push(`countsBefore: got ${fmt(lib.countsBefore)}, expected ${fmt(before)}`);
          }
          assert.deepEqual(failures, [], describeMismatch(failures, `${c.label} on ${backend}:`));
        });
      }
      for (const c of [cases[2], cases[4], cases[6], cases[7]]) {
        test(`${c.label}: gradients (the shared experts' included) vs central differences`, async () => {
          const cfg = { ...c.cfg, balanceCoef: 0.5, zCoef: 0.1 };
          const { inputs, cotangent } = drawExtensionInputs(cfg, c.shape, c.seed + 100, c.bias);
          const lib = await runLibrary(cfg, inputs, { cotangent });
          assert.ok(lib.grads, 'no gradients computed');
          const failures = compareGradients(cfg, inputs, cotangent, lib.grads);
          assert.deepEqual(failures, [], describeMismatch(failures, `${c.label} on ${backend}:`));
        });
      }

      test('the bias carries no gradient, and moves no gate: top2 gates are the probs renormalised over the chosen pair', async () => {
        const cfg = rc('topk', 2, null);
        const { inputs } = drawExtensionInputs(cfg, X1, 1819, 0.3);
        const mc = libConfig(cfg, inputs);
        const params = paramsOf(inputs);
        const x = tf.tensor2d(inputs.x);
        try {
          assert.throws(
            () => tf.grad((b: tf.Tensor) => tf.sum(moeForward(mc, { ...params, routerBias: b as tf.Tensor1D }, x, { training: false }).y))(params.routerBias!),
            /Cannot compute gradient/,
          );
          // Shifting every bias entry by the same amount changes no choice and, gates being probs, no output.
          const shifted = tf.add(params.routerBias!, 0.25) as tf.Tensor1D;
          const [y0, y1] = tf.tidy(() => [moeForward(mc, params, x, { training: false }).y, moeForward(mc, { ...params, routerBias: shifted }, x, { training: false }).y]);
          const err = relError(await arrayOf<number[][]>(y1), await arrayOf<number[][]>(y0));
          tf.dispose([shifted, y0, y1]);
          assert.ok(err <= REL_TOL, `a uniform shift of the bias changed y (relative ${err})`);
        } finally {
          tf.dispose([x, ...Object.values(params)]);
        }
      });

      test('expert choice refuses a router bias, naming it (its values where a synchronous read works, else its shape)', () => {
        tf.tidy(() => {
          const cfg = resolveMoeConfig({ dModel: 4, dFf: 6, numExperts: 3, router: 'expert-choice' });
          const params = { routerWeight: tf.zeros([4, 3]) as tf.Tensor2D, w1: tf.zeros([3, 4, 6]) as tf.Tensor3D, w2: tf.zeros([3, 6, 4]) as tf.Tensor3D, routerBias: tf.tensor1d([0.5, -0.25, 0]) };
          assert.throws(() => moeForward(cfg, params, tf.zeros([5, 4]), { training: false }), (err: Error) => /routerBias/.test(err.message) && /expert-choice/.test(err.message) && /\[0\.5, -0\.25, 0\]|float32\[3\]/.test(err.message));
        });
      });

      test('a layer with a router bias and 2 shared experts: forward, training steps and bias updates keep numTensors flat', () => {
        const layer = new MoeLayer(
          { dModel: 6, dFf: 8, numExperts: 4, router: 'topk', k: 2, capacityFactor: 1.0, evalCapacityFactor: 1.0, jitterEps: 0.1, expertDropout: 0.1, numSharedExperts: 2, sharedDff: 5, biasUpdateRate: 0.01 },
          { seed: 1, name: `leak-ext-${backend}` },
        );
        const x = tf.randomNormal([12, 6], 0, 1, 'float32', 3);
        const cot = tf.randomNormal([12, 6], 0, 1, 'float32', 4);
        try {
          assert.equal(layer.variables().length, 5, 'router, w1, w2, shared_w1, shared_w2');
          assert.ok(layer.routerBias && !layer.routerBias.trainable, 'the bias is state, not a trained weight');
          const start = tf.memory().numTensors;
          const forward = () => tf.tidy(() => tf.add(tf.sum(layer.apply(x, { training: false, returnExpertIndex: true }).y), 0)).dispose();
          forward();
          const after1 = tf.memory().numTensors;
          for (let i = 0; i < 4; i++) forward();
          assert.equal(after1, start, `forward: ${after1 - start} tensors left after 1 call`);
          assert.equal(tf.memory().numTensors, after1, 'forward: more tensors after 5 calls than after 1');
          const step = (i: number) => {
            let load: tf.Tensor1D | undefined;
            const { value, grads } = tf.variableGrads(() => {
              const out = layer.apply(x, { training: true, seed: 10 + i });
              load = tf.keep(out.metrics.countsBefore);
              return tf.add(tf.sum(tf.mul(out.y, cot)), out.auxLoss) as tf.Scalar;
            }, layer.variables());
            tf.tidy(() => {
              for (const v of layer.variables()) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.01)));
            });
            tf.tidy(() => layer.updateRouterBias(load!, tf.scalar(true, 'bool')));
            tf.dispose([value, load!, ...Object.values(grads)]);
          };
          step(0);
          const step1 = tf.memory().numTensors;
          for (let i = 1; i < 5; i++) step(i);
          assert.equal(step1, start, `training: ${step1 - start} tensors left after 1 step`);
          assert.equal(tf.memory().numTensors, step1, 'training: more tensors after 5 steps than after 1');
        } finally {
          tf.dispose([x, cot]);
          layer.dispose();
        }
      });
    });

    describe('no tensor leaks', () => {
      const layerCases: { label: string; cfg: Partial<MoeConfig> }[] = [
        { label: 'top1', cfg: { router: 'top1', capacityFactor: 1.0, evalCapacityFactor: 1.0 } },
        { label: 'topk k=2', cfg: { router: 'topk', k: 2, capacityFactor: 1.0, evalCapacityFactor: 1.0 } },
        { label: 'expert-choice', cfg: { router: 'expert-choice', capacityFactor: 1.0, evalCapacityFactor: 1.0 } },
        { label: 'top1 dropless', cfg: { router: 'top1', capacityFactor: null, evalCapacityFactor: null } },
        { label: 'topk dropless', cfg: { router: 'topk', k: 2, capacityFactor: null, evalCapacityFactor: null } },
      ];
      let n = 0;
      for (const lc of layerCases) {
        test(`${lc.label}: forward in tf.tidy and variableGrads steps keep numTensors flat`, () => {
          const layer = new MoeLayer({ dModel: 6, dFf: 8, numExperts: 4, jitterEps: 0.1, expertDropout: 0.1, ...lc.cfg }, { seed: 1, name: `leak-${backend}-${n++}` });
          const x = tf.randomNormal([12, 6], 0, 1, 'float32', 3);
          const cot = tf.randomNormal([12, 6], 0, 1, 'float32', 4);
          try {
            const start = tf.memory().numTensors;
            const forward = () =>
              tf.tidy(() => {
                const out = layer.apply(x, { training: false, returnExpertIndex: true });
                return tf.add(tf.sum(out.y), out.auxLoss);
              }).dispose();
            forward();
            const after1 = tf.memory().numTensors;
            for (let i = 0; i < 4; i++) forward();
            const after5 = tf.memory().numTensors;
            assert.equal(after1, start, `forward: ${after1 - start} tensors left after 1 call`);
            assert.equal(after5, after1, `forward: ${after5 - after1} more tensors after 5 calls than after 1`);

            const step = (i: number) => {
              const { value, grads } = tf.variableGrads(() => {
                const out = layer.apply(x, { training: true, seed: 10 + i });
                return tf.add(tf.sum(tf.mul(out.y, cot)), out.auxLoss) as tf.Scalar;
              });
              tf.tidy(() => {
                for (const v of layer.variables()) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.01)));
              });
              value.dispose();
              tf.dispose(grads);
            };
            step(0);
            const step1 = tf.memory().numTensors;
            for (let i = 1; i < 5; i++) step(i);
            const step5 = tf.memory().numTensors;
            assert.equal(step1, start, `training: ${step1 - start} tensors left after 1 step`);
            assert.equal(step5, step1, `training: ${step5 - step1} more tensors after 5 steps than after 1`);
          } finally {
            tf.dispose([x, cot]);
            layer.dispose();
          }
        });
      }
    });

    describe('bad input to the layer', () => {
      const cfg = resolveMoeConfig({ dModel: 6, dFf: 8, numExperts: 4 });
      const shapes = { routerWeight: [6, 4], w1: [4, 6, 8], w2: [4, 8, 6] };
      const zeros = (shape: number[]): tf.Tensor => tf.zeros(shape);
      const make = (over: Partial<Record<keyof typeof shapes, number[]>> = {}) => {
        const s = { ...shapes, ...over };
        return { routerWeight: zeros(s.routerWeight) as tf.Tensor2D, w1: zeros(s.w1) as tf.Tensor3D, w2: zeros(s.w2) as tf.Tensor3D };
      };

      test('moeForward with the wrong input width names both shapes', () => {
        tf.tidy(() => {
          const params = make();
          assert.throws(() => moeForward(cfg, params, tf.zeros([5, 7]), { training: false }), (err: Error) => /\[5,7\]/.test(err.message) && /6/.test(err.message));
        });
      });

      test('moeForward with no tokens says so', () => {
        tf.tidy(() => {
          assert.throws(() => moeForward(cfg, make(), tf.zeros([0, 6]), { training: false }), /no tokens.*\[0,6\]/);
        });
      });

      for (const [name, bad] of [
        ['routerWeight', [6, 5]],
        ['w1', [4, 6, 9]],
        ['w2', [4, 8, 5]],
        ['w1', [3, 6, 8]],
      ] as const) {
        test(`moeForward with ${name} of shape [${bad.join(',')}] names the weight and both shapes`, () => {
          tf.tidy(() => {
            const params = make({ [name]: [...bad] });
            const want = shapes[name];
            assert.throws(
              () => moeForward(cfg, params, tf.zeros([5, 6]), { training: false }),
              (err: Error) => err.message.includes(name) && err.message.includes(`[${bad.join(',')}]`) && err.message.includes(`[${want.join(',')}]`),
            );
          });
        });
      }
    });
  });
}
