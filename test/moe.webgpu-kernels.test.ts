// Switchyard's WGSL MoE kernels on the webgpu backend (lavapipe in CI), each against a float64
// reference written from its documented rule (test/helpers/packed-reference.ts): slot
// positions, the packed layout, the grouped matmul (both variants, vec4 and scalar paths, all
// three forms, gradients), fused dispatch and combine (values, gradients, gradients of
// gradients), the layer through every webgpu path, and the device-error guard on a broken kernel.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertNoGpuErrors, currentDevice, takeGpuErrors, useBackend } from '../kernel-lib/backend/index.ts';
import { hoistDirectives } from '../kernel-lib/backend/webgpu-device.ts';
import { ROW_TILE, MATMUL_VARIANTS, type MatMulVariant } from '../kernel-lib/kernels/contracts.ts';
import { registerWebGpuFlags, WEBGPU_MATMUL_FLAG, WEBGPU_MOE_FLAG } from '../kernel-lib/kernels/webgpu-flags.ts';
import { gpuProgram, runGpuProgram } from '../kernel-lib/backend/webgpu-program.ts';
import {
  EXPERT_MATMUL,
  GROUPED_MATMUL,
  assignmentSlots,
  combineRows,
  gatherRows,
  groupedMatMul,
  packLayout,
  packedRowBound,
  packedRowTile,
  type PackedLayout,
} from '../kernel-lib/moe/index.ts';
import { Rng } from '../kernel-lib/util/seed.ts';
import { runLibrary } from './helpers/lib-moe.ts';
import { compareForward, compareGradients } from './helpers/moe-suite.ts';
import {
  expertOfRow,
  randomChoices,
  randomMat,
  refCombine,
  refDots,
  refGather,
  referenceLayout,
  referenceSlots,
  transpose,
  vecMat,
  type Mat,
  type RefLayout,
} from './helpers/packed-reference.ts';
import { randomCase, referenceMoe, relError, type RefConfig, type Shape } from './helpers/reference-moe.ts';

const read = async <T>(t: tf.Tensor): Promise<T> => {
  const v = (await t.array()) as T;
  t.dispose();
  return v;
};

/** Runs fn with the webgpu flags set, restoring them after. */
async function withFlags<T>(flags: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(flags).map((k) => [k, tf.env().get(k)]));
  try {
    for (const [k, v] of Object.entries(flags)) tf.env().set(k, v);
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) tf.env().set(k, v);
  }
}

/** Sets a flag, restoring its value even when setting throws. */
function withFlagsSync(flags: Record<string, string>): void {
  const saved = Object.fromEntries(Object.keys(flags).map((k) => [k, tf.env().get(k)]));
  try {
    for (const [k, v] of Object.entries(flags)) tf.env().set(k, v);
  } finally {
    for (const [k, v] of Object.entries(saved)) tf.env().set(k, v);
  }
}

before(async () => {
  const info = await useBackend('webgpu', { log: false });
  assert.equal(info.backend, 'webgpu');
});

after(() => assert.deepEqual(takeGpuErrors(), [], 'WebGPU device errors during the kernel tests'));

describe('slot positions and the packed layout (built on the device)', () => {
  const cases = [
    { label: 'top1, C = T (dropless), E=5', k: 1, T: 37, E: 5, C: 37, skew: 3 },
    { label: 'top2, heavy dropping (C = 3), skewed: empty experts', k: 2, T: 40, E: 7, C: 3, skew: 6 },
    { label: 'top3, C = 9, E=6', k: 3, T: 25, E: 6, C: 9, skew: 0 },
    { label: 'one expert, C = 1', k: 1, T: 9, E: 1, C: 1, skew: 0 },
    { label: 'top2, 600 tokens (several workgroups), E=64', k: 2, T: 600, E: 64, C: 24, skew: 2 },
  ];
  for (const c of cases) {
    for (const priority of ['choice', 'token'] as const) {
      test(`${c.label}, priority '${priority}': slots exact`, async () => {
        const choices = randomChoices(new Rng(7 + c.T), c.k, c.T, c.E, c.skew);
        const want = referenceSlots(choices, c.E, c.C, priority);
        const got = await read<number[][]>(tf.tidy(() => assignmentSlots(tf.tensor2d(choices, [c.k, c.T], 'int32'), c.E, c.C, priority)));
        assert.deepEqual(got, want);
      });
    }
    for (const variant of MATMUL_VARIANTS) {
      test(`${c.label}, rows aligned for '${variant}': layout exact`, async () => {
        const choices = randomChoices(new Rng(11 + c.T), c.k, c.T, c.E, c.skew);
        const slots = referenceSlots(choices, c.E, c.C);
        const tile = ROW_TILE[variant];
        const R = packedRowBound(c.k, c.T, c.E, c.C, tile);
        const want = referenceLayout(slots, c.E, c.C, tile, R);
        const got = await read<number[]>(
          tf.tidy(() => packLayout(tf.tensor2d(slots, [c.k, c.T], 'int32'), tf.tensor1d(want.kept), c.E, c.C, { rowTile: tile, variant }).buffer),
        );
        assert.equal(got.length, c.k * c.T + R + 2 * c.E);
        const n = c.k * c.T;
        assert.deepEqual(got.slice(0, n), want.rowOf, 'rowOf');
        assert.deepEqual(got.slice(n, n + R), want.assignOf, 'assignOf');
        assert.deepEqual(got.slice(n + R), [...want.starts, ...want.kept], 'starts and counts');
      });
    }
  }

  test('the row bound: k·T + E·(tile − 1), or E·⌈C/tile⌉·tile when smaller', () => {
    assert.equal(packedRowBound(1, 2048, 64, 2048, 4), 2048 + 64 * 3);
    assert.equal(packedRowBound(1, 2048, 64, 20, 4), 64 * 20);
    assert.equal(packedRowBound(2, 100, 3, 10, 16), 3 * 16);
  });
});

/** A layout as the grouped matmul reads it, built from the reference (isolates the matmul). */
function layoutOf(ref: RefLayout, k: number, T: number, E: number, variant: MatMulVariant): PackedLayout {
  return { buffer: tf.tensor1d(ref.buffer, 'int32'), numTokens: T, k, numExperts: E, rows: ref.assignOf.length, rowTile: ROW_TILE[variant], variant };
}

/** Rows not filled by any expert hold NaN: the kernels must never read them into a result. */
function packedRows(rng: Rng, ref: RefLayout, cols: number): Mat {
  return randomMat(rng, ref.assignOf.length, cols).map((row, r) => (expertOfRow(ref, r) < 0 ? row.map(() => NaN) : row));
}

describe('grouped matmul over packed rows (float64 reference)', () => {
  // P, Q multiples of 4 take the vec4 path; odd ones the scalar path. Q = 300 spans two
  // register column tiles (256) and five tiled ones (64).
  const dimsCases = [
    { label: 'vec4 path', P: 20, Q: 300 },
    { label: 'scalar path', P: 5, Q: 7 },
  ];
  for (const variant of MATMUL_VARIANTS) {
    for (const { label, P, Q } of dimsCases) {
      test(`${variant}, ${label}: X·W, ∂X = ∂Y·Wᵀ and ∂W = Xᵀ·∂Y over filled rows; padding rows 0 and never read`, async () => {
        const rng = new Rng(P * 100 + Q);
        const [k, T, E] = [2, 23, 5];
        const C = 6; // drops some, leaves expert 4 nearly empty under the skew
        const slots = referenceSlots(randomChoices(rng, k, T, E, 5), E, C);
        const tile = ROW_TILE[variant];
        const ref = referenceLayout(slots, E, C, tile, packedRowBound(k, T, E, C, tile));
        assert.ok(ref.kept.some((n) => n % tile !== 0), 'the case must pad some segment');
        const R = ref.assignOf.length;
        const a = packedRows(rng, ref, P);
        const w = Array.from({ length: E }, () => randomMat(rng, P, Q));
        const g = packedRows(rng, ref, Q);
        const want = a.map((row, r) => (expertOfRow(ref, r) < 0 ? new Array<number>(Q).fill(0) : vecMat(row, w[expertOfRow(ref, r)])));
        const wantDa = g.map((row, r) => (expertOfRow(ref, r) < 0 ? new Array<number>(P).fill(0) : vecMat(row, transpose(w[expertOfRow(ref, r)]))));
        const wantDw = w.map((_, e) =>
          Array.from({ length: P }, (_, p) =>
            Array.from({ length: Q }, (_, q) => {
              let s = 0;
              for (let r = 0; r < R; r++) if (expertOfRow(ref, r) === e) s += a[r][p] * g[r][q];
              return s;
            }),
          ),
        );
        const layout = layoutOf(ref, k, T, E, variant);
        try {
          const [y, da, dw] = tf.tidy(() => {
            const at = tf.tensor2d(a);
            const wt = tf.tensor3d(w);
            const gt = tf.tensor2d(g);
            const [gA, gW] = tf.grads((x: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(groupedMatMul(x as tf.Tensor2D, v as tf.Tensor3D, layout), gt)))([at, wt]);
            return [groupedMatMul(at, wt, layout), gA, gW];
          });
          const [gy, gda, gdw] = [await read<Mat>(y), await read<Mat>(da), await read<Mat[]>(dw)];
          assert.ok(relError(gy, want) <= 1e-5, `y: relative error ${relError(gy, want).toExponential(2)}`);
          gy.forEach((row, r) => expertOfRow(ref, r) < 0 && assert.ok(row.every((v) => v === 0), `y row ${r} is padding but not 0: ${row.slice(0, 4)}`));
          assert.ok(relError(gda, wantDa) <= 1e-5, `∂X: relative error ${relError(gda, wantDa).toExponential(2)}`);
          assert.ok(relError(gdw, wantDw) <= 1e-5, `∂W: relative error ${relError(gdw, wantDw).toExponential(2)}`);
        } finally {
          layout.buffer.dispose();
        }
      });
    }
  }

  test('an expert with no rows gets a zero weight gradient; one expert over all rows is a plain matmul', async () => {
    for (const variant of MATMUL_VARIANTS) {
      const rng = new Rng(31);
      const [T, E, P, Q] = [10, 3, 4, 8];
      const slots = [Array.from({ length: T }, (_, t) => (t % 2) * 10)]; // experts 0 and 1 only (C = 10)
      const ref = referenceLayout(slots, E, 10, ROW_TILE[variant], packedRowBound(1, T, E, 10, ROW_TILE[variant]));
      const layout = layoutOf(ref, 1, T, E, variant);
      const a = packedRows(rng, ref, P);
      const g = packedRows(rng, ref, Q);
      const w = Array.from({ length: E }, () => randomMat(rng, P, Q));
      const dw = tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(groupedMatMul(tf.tensor2d(a), v as tf.Tensor3D, layout), tf.tensor2d(g))))(tf.tensor3d(w)));
      const got = await read<Mat[]>(dw);
      assert.ok(got[2].every((row) => row.every((v) => v === 0)), `${variant}: expert 2 has no rows, its ∂W must be 0`);
      layout.buffer.dispose();

      // One expert takes every token (slots 0..T-1 of expert 1): its rows are x itself, so the
      // grouped matmul is x·W₁ (worked as a plain product of the float64 matrices), the padding
      // rows (NaN in, by packedRows) come out 0, and ∂W₁ = xᵀ·∂Y while the other experts get 0.
      const allOne = [Array.from({ length: T }, (_, t) => 1 * T + t)];
      const refAll = referenceLayout(allOne, E, T, ROW_TILE[variant], packedRowBound(1, T, E, T, ROW_TILE[variant]));
      assert.deepEqual(refAll.kept, [0, T, 0], 'the layout puts every token with expert 1');
      const layoutAll = layoutOf(refAll, 1, T, E, variant);
      const xa = packedRows(rng, refAll, P);
      const ga = packedRows(rng, refAll, Q);
      const filled = xa.map((_, r) => r).filter((r) => expertOfRow(refAll, r) === 1);
      assert.equal(filled.length, T);
      const x = filled.map((r) => xa[r]);
      const plain = x.map((row) => w[1][0].map((_, q) => row.reduce((acc, v, p) => acc + v * w[1][p][q], 0))); // [T,Q] = x·W₁
      const plainDw = Array.from({ length: P }, (_, p) => Array.from({ length: Q }, (_, q) => filled.reduce((acc, r) => acc + xa[r][p] * ga[r][q], 0))); // xᵀ·∂Y
      try {
        const [y, dwAll] = tf.tidy(() => {
          const wt = tf.tensor3d(w);
          const yt = groupedMatMul(tf.tensor2d(xa), wt, layoutAll);
          const gw = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(groupedMatMul(tf.tensor2d(xa), v as tf.Tensor3D, layoutAll), tf.tensor2d(ga))))(wt);
          return [yt, gw];
        });
        const [gy, gdw] = [await read<Mat>(y), await read<Mat[]>(dwAll)];
        assert.ok(relError(filled.map((r) => gy[r]), plain) <= 1e-5, `${variant}: one expert over all rows is x·W: relative error ${relError(filled.map((r) => gy[r]), plain)}`);
        gy.forEach((row, r) => expertOfRow(refAll, r) < 0 && assert.ok(row.every((v) => v === 0), `${variant}: padding row ${r} is not 0`));
        assert.ok(relError(gdw[1], plainDw) <= 1e-5, `${variant}: ∂W of the one expert is xᵀ·∂Y`);
        for (const e of [0, 2]) assert.ok(gdw[e].every((row) => row.every((v) => v === 0)), `${variant}: expert ${e} has no rows, its ∂W must be 0`);
      } finally {
        layoutAll.buffer.dispose();
      }
    }
  });
  test('more row tiles than a dispatch dimension allows: a clear error, not a validation failure', () => {
    const limit = (tf.backend() as unknown as { device: { limits: { maxComputeWorkgroupsPerDimension: number } } }).device.limits.maxComputeWorkgroupsPerDimension;
    const R = (limit + 1) * ROW_TILE.register + 4; // two row tiles past the per-dimension workgroup limit (65535 on lavapipe)
    const layout: PackedLayout = { buffer: tf.zeros([R + 2 + 2], 'int32') as tf.Tensor1D, numTokens: 1, k: 1, numExperts: 1, rows: R, rowTile: ROW_TILE.register, variant: 'register' };
    try {
      tf.tidy(() => assert.throws(() => groupedMatMul(tf.zeros([R, 1]) as tf.Tensor2D, tf.zeros([1, 1, 4]) as tf.Tensor3D, layout), new RegExp(`needs 1×${limit + 2}×1 workgroups, more than the ${limit} per dimension`)));
    } finally {
      layout.buffer.dispose();
    }
  });
});

describe('capacity-buffer expertMatMul on webgpu, both variants', () => {
  for (const variant of MATMUL_VARIANTS) {
    test(`${variant}: the three forms over filled slots (full, partial, empty, clamped)`, async () => {
      await withFlags({ [WEBGPU_MATMUL_FLAG]: variant }, async () => {
        const rng = new Rng(41);
        const [E, C, P, Q] = [4, 6, 5, 8];
        const filled = [6, 2, 0, 9];
        const used = filled.map((f) => Math.min(f, C));
        const rows = (cols: number) => Array.from({ length: E }, (_, e) => randomMat(rng, C, cols).map((row, j) => (j < used[e] ? row : row.map(() => NaN))));
        const a = rows(P);
        const g = rows(Q);
        const w = Array.from({ length: E }, () => randomMat(rng, P, Q));
        const wT = w.map(transpose);
        const zeroRow = (n: number) => new Array<number>(n).fill(0);
        const wantNN = a.map((m, e) => m.map((row, j) => (j < used[e] ? vecMat(row, w[e]) : zeroRow(Q))));
        const wantNT = g.map((m, e) => m.map((row, j) => (j < used[e] ? vecMat(row, wT[e]) : zeroRow(P))));
        const wantTN = a.map((m, e) => Array.from({ length: P }, (_, p) => Array.from({ length: Q }, (_, q) => m.slice(0, used[e]).reduce((s, row, j) => s + row[p] * g[e][j][q], 0))));
        const outs = tf.tidy(() => {
          const [at, gt, wt, ft] = [tf.tensor3d(a), tf.tensor3d(g), tf.tensor3d(w), tf.tensor1d(filled, 'int32')];
          const run = (x: tf.Tensor, y: tf.Tensor, transposeA: boolean, transposeB: boolean) => tf.engine().runKernel(EXPERT_MATMUL, { a: x, b: y, filled: ft }, { transposeA, transposeB } as unknown as tf.NamedAttrMap) as tf.Tensor;
          return [run(at, wt, false, false), run(gt, wt, false, true), run(at, gt, true, false)];
        });
        const [nn, nt, tn] = [await read<Mat[]>(outs[0]), await read<Mat[]>(outs[1]), await read<Mat[]>(outs[2])];
        assert.ok(relError(nn, wantNN) <= 1e-5, `a·w: ${relError(nn, wantNN).toExponential(2)}`);
        assert.ok(relError(nt, wantNT) <= 1e-5, `g·wᵀ: ${relError(nt, wantNT).toExponential(2)}`);
        assert.ok(relError(tn, wantTN) <= 1e-5, `aᵀ·g: ${relError(tn, wantTN).toExponential(2)}`);
      });
    });
  }
});

describe('fused dispatch and combine (float64 reference)', () => {
  const [k, T, E, C, D] = [2, 19, 4, 6, 6];
  const rng = new Rng(51);
  const slots = referenceSlots(randomChoices(rng, k, T, E, 4), E, C);
  const ref = referenceLayout(slots, E, C, 4, packedRowBound(k, T, E, C, 4));
  const R = ref.assignOf.length;
  const x = randomMat(rng, T, D);
  const z = packedRows(rng, ref, D);
  const s = randomMat(rng, k, T);
  const cotR = randomMat(rng, R, D);
  const cotT = randomMat(rng, T, D);
  let layout: PackedLayout;
  before(() => {
    assert.ok(ref.rowOf.some((r) => r < 0), 'the case must drop some assignment');
    layout = layoutOf(ref, k, T, E, 'register');
  });
  after(() => layout.buffer.dispose());

  test('gatherRows: values and gradients (∂x = combine of ∂out, ∂scale = row dots)', async () => {
    const [y, dx, ds] = tf.tidy(() => {
      const [xt, st, ct] = [tf.tensor2d(x), tf.tensor2d(s), tf.tensor2d(cotR)];
      const [gx, gs] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(gatherRows(a as tf.Tensor2D, b, layout), ct)))([xt, st]);
      return [gatherRows(xt, st, layout), gx, gs];
    });
    const got = await read<Mat>(y);
    assert.ok(relError(got, refGather(ref, x, s)) <= 1e-6, `out: ${relError(got, refGather(ref, x, s)).toExponential(2)}`);
    got.forEach((row, r) => ref.assignOf[r] < 0 && assert.ok(row.every((v) => v === 0), `row ${r} is padding but not 0`));
    assert.ok(relError(await read<Mat>(dx), refCombine(ref, cotR, s)) <= 1e-6, '∂x');
    assert.ok(relError(await read<Mat>(ds), refDots(ref, cotR, x, k)) <= 1e-6, '∂scale');
  });

  test('combineRows: values and gradients (∂src = gather of ∂y, ∂scale = row dots); NaN padding rows never read', async () => {
    const [y, dz, ds] = tf.tidy(() => {
      const [zt, st, ct] = [tf.tensor2d(z), tf.tensor2d(s), tf.tensor2d(cotT)];
      const [gz, gs] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(combineRows(a as tf.Tensor2D, b, layout), ct)))([zt, st]);
      return [combineRows(zt, st, layout), gz, gs];
    });
    assert.ok(relError(await read<Mat>(y), refCombine(ref, z, s)) <= 1e-6, 'y');
    assert.ok(relError(await read<Mat>(dz), refGather(ref, cotT, s)) <= 1e-6, '∂src');
    assert.ok(relError(await read<Mat>(ds), refDots(ref, z, cotT, k)) <= 1e-6, '∂scale');
  });

  test('gradients of gradients: the row dots in ∂scale differentiate back through gather and combine', async () => {
    // L2(z, y) = Σ_a Q[a] · ∂scale[a], with ∂scale[a] = z[row(a)] · y[t(a)] (combineRows' scale gradient
    // at cotangent y): ∂L2/∂z[r] = Q[a(r)]·y[t(r)] and ∂L2/∂y[t] = Σ_j Q[j,t]·z[row(j,t)].
    const Q = randomMat(new Rng(52), k, T);
    const [wantDz, wantDy] = [refGather(ref, cotT, Q), refCombine(ref, z, Q)];
    const [dz, dy] = tf.tidy(() => {
      const [zt, st, yt, qt] = [tf.tensor2d(z), tf.tensor2d(s), tf.tensor2d(cotT), tf.tensor2d(Q)];
      const l2 = (zz: tf.Tensor, yy: tf.Tensor) => tf.sum(tf.mul(tf.grad((sc: tf.Tensor) => tf.sum(tf.mul(combineRows(zz as tf.Tensor2D, sc, layout), yy)))(st), qt));
      return tf.grads(l2)([zt, yt]);
    });
    assert.ok(relError(await read<Mat>(dz), wantDz) <= 1e-6, '∂z of the row dots');
    assert.ok(relError(await read<Mat>(dy), wantDy) <= 1e-6, '∂y of the row dots');
  });
});

describe('the layer through each webgpu path agrees with the float64 reference', () => {
  const rc = (router: RefConfig['router'], k: number, capacityFactor: number | null, priority?: 'choice' | 'token'): RefConfig => ({
    router,
    k,
    capacityFactor,
    activation: 'relu',
    balanceCoef: 0.5,
    zCoef: 0.1,
    priority,
  });
  const shape: Shape = { T: 10, D: 4, E: 4, F: 4 };
  const cases = [
    { label: 'top1 cf 1.0', cfg: rc('top1', 1, 1.0), seed: 301 },
    { label: 'top2 cf 0.5 (dropping)', cfg: rc('topk', 2, 0.5), seed: 302 },
    { label: "top2 cf 0.5, priority 'token'", cfg: rc('topk', 2, 0.5, 'token'), seed: 303 },
    { label: 'top3 dropless', cfg: rc('topk', 3, null), seed: 304 },
  ];
  const paths: { name: string; flags: Record<string, string> }[] = [
    { name: 'register', flags: { [WEBGPU_MOE_FLAG]: 'ours', [WEBGPU_MATMUL_FLAG]: 'register' } },
    { name: 'tiled', flags: { [WEBGPU_MOE_FLAG]: 'ours', [WEBGPU_MATMUL_FLAG]: 'tiled' } },
    { name: 'tfjs builtin', flags: { [WEBGPU_MOE_FLAG]: 'builtin' } },
  ];
  for (const path of paths) {
    for (const c of cases) {
      test(`${path.name}: ${c.label}, forward and gradients`, async () => {
        await withFlags(path.flags, async () => {
          assert.equal(packedRowTile() !== null, path.name !== 'tfjs builtin', 'the flags must select the path under test');
          const { inputs, cotangent } = randomCase(c.cfg, shape, c.seed);
          const lib = await runLibrary(c.cfg, inputs, { cotangent });
          const failures = [...compareForward(lib, referenceMoe(c.cfg, inputs)), ...compareGradients(c.cfg, inputs, cotangent, lib.grads!)];
          assert.deepEqual(failures, [], failures.join('\n'));
        });
      });
    }
  }

  test('dropless on the packed path numbers slots with C = T but multiplies only the kept rows', async () => {
    const cfg = rc('topk', 2, null);
    const { inputs } = randomCase(cfg, shape, 305);
    let lib: Awaited<ReturnType<typeof runLibrary>> | undefined;
    const profile = await tf.profile(async () => {
      lib = await runLibrary(cfg, inputs);
    });
    assert.equal(lib!.capacity, shape.T);
    assert.equal(relError(lib!.y, referenceMoe(cfg, inputs).y) <= 1e-4, true);
    // What the experts multiplied: the grouped matmul over the packed rows, R = the static bound
    // for k·T = 20 assignments (min(k·T + E·(tile − 1), E·⌈T/tile⌉·tile)), not the E·C = E·T = 40
    // rows of a capacity buffer; no capacity-buffer matmul ran.
    const tile = packedRowTile()!.rowTile;
    const R = Math.min(2 * shape.T + shape.E * (tile - 1), shape.E * Math.ceil(shape.T / tile) * tile);
    assert.ok(R < shape.E * shape.T, `the static bound ${R} must be below E·T for this check to mean anything`);
    const grouped = profile.kernels.filter((k) => k.name === GROUPED_MATMUL);
    assert.equal(grouped.length, 2, `two grouped matmuls (the expert's two layers), got ${grouped.length}`);
    for (const k of grouped) assert.equal(k.inputShapes[0]![0], R, `grouped matmul over ${k.inputShapes[0]} rows; expected the ${R} packed rows`);
    assert.deepEqual(profile.kernels.filter((k) => k.name === EXPERT_MATMUL || (k.name === 'BatchMatMul' && k.inputShapes[0]![0] === shape.E)).map((k) => k.inputShapes), [], 'no capacity-buffer matmul ([E,C,·] operand)');
  });
});

/** Runs a one-workgroup program of 4 invocations on x = `values`; returns its float32[4] output. */
async function runOnFour(shaderKey: string, userCode: string, values: number[]): Promise<number[]> {
  const x = tf.tensor1d(values);
  const program = gpuProgram({ variableNames: ['x'], outputShape: [4], shaderKey, dispatch: [1, 1, 1], workgroupSize: [4, 1, 1], getUserCode: () => userCode });
  try {
    return await read<number[]>(tf.engine().makeTensorFromTensorInfo(runGpuProgram(tf.backend(), program, [x], 'float32')));
  } finally {
    x.dispose();
  }
}

describe('the device Switchyard creates', () => {
  test('a bad SWITCHYARD_WEBGPU_* value is refused by name, flags and environment alike', () => {
    assert.throws(() => registerWebGpuFlags(true, { SWITCHYARD_WEBGPU_MATMUL: 'fast' }), /SWITCHYARD_WEBGPU_MATMUL: unknown value 'fast' \(choose register, tiled\)/);
    assert.throws(() => registerWebGpuFlags(true, { SWITCHYARD_WEBGPU_MOE: 'theirs' }), /SWITCHYARD_WEBGPU_MOE: unknown value 'theirs' \(choose ours, builtin\)/);
    assert.throws(() => withFlagsSync({ [WEBGPU_MATMUL_FLAG]: 'fast' }), /SWITCHYARD_WEBGPU_MATMUL: unknown value 'fast'/);
  });

  test('hoistDirectives moves enable/requires/diagnostic directives above the header', () => {
    const code = 'struct U { a : f32 };\n  enable f16;\nfn main() {}\nrequires readonly_and_readwrite_storage_textures;\n';
    const out = hoistDirectives(code);
    assert.ok(out.startsWith('enable f16;\nrequires readonly_and_readwrite_storage_textures;\n'), out);
    assert.equal(out.match(/enable f16;/g)?.length, 1);
    assert.equal(hoistDirectives('fn main() {}'), 'fn main() {}');
  });

  test('a program that enables f16 compiles behind tfjs\'s header and runs (the adapter offers shader-f16)', async () => {
    const info = currentDevice();
    assert.ok(info && String(info.details.features).includes('shader-f16'), `this test needs an adapter with shader-f16; the device offers: ${info?.details.features}`);
    // Every binding must be used, the uniforms too, or the pipeline's layout lacks them.
    const got = await runOnFour('switchyardF16Check', 'enable f16;\n  fn main() { let i = i32(localIndex); if (i < uniforms.xShape) { result[i] = f32(f16(x[i]) * 2.0h); } }', [1.5, -2, 3.25, 0.5]);
    assert.deepEqual(got, [3, -4, 6.5, 1]);
  });
});

describe('WebGPU device errors', () => {
  test('a Switchyard kernel that fails to compile is caught, not left as silently wrong numbers', async () => {
    takeGpuErrors();
    // What the guard exists for: the run and the read raise nothing, whatever the values.
    const values = await runOnFour('switchyardBrokenOnPurpose', 'fn main() { result[i32(localIndex)] = x[i32(localIndex)] * undefinedName; }', [1, 2, 3, 4]);
    assert.equal(values.length, 4);
    await new Promise((r) => setTimeout(r, 50));
    assert.throws(() => assertNoGpuErrors('broken kernel'), /broken kernel: the WebGPU device reported \d+ error\(s\).*undefinedName/);
  });
});
