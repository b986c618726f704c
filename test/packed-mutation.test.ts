/**
 * The packed layout's arithmetic and the packed ops' wiring (moe/packed-layout.ts, packed-rows.ts)
 * on the cpu backend, without a GPU: the four kernels are registered on cpu here as float64
 * references written from their documented rules (test/helpers/packed-reference.ts), so what is
 * tested is the library's own code around them: the static row bound, the attributes and inputs
 * it hands the kernels, the shape checks, and the gradients each op registers (each other's
 * kernels, with the right operands), to second order. The WGSL kernels themselves are tested
 * against the same references in moe.webgpu-kernels.test.ts.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { ROW_TILE } from '../kernel-lib/kernels/contracts.ts';
import { registerWebGpuFlags } from '../kernel-lib/kernels/webgpu-flags.ts';
import {
  COMBINE_ROWS,
  GATHER_ROWS,
  PACK_LAYOUT,
  ROW_DOTS,
  combineRows,
  gatherRows,
  packLayout,
  packedAttrs,
  packedRowBound,
  packedRowTile,
  segmentOffset,
  type PackedLayout,
} from '../kernel-lib/moe/index.ts';
import { Rng } from '../kernel-lib/util/seed.ts';
import { randomChoices, randomMat, refCombine, refDots, refGather, referenceLayout, referenceSlots, type Mat, type RefLayout } from './helpers/packed-reference.ts';

type Attrs = Record<string, number | string>;
const calls: { name: string; attrs: Attrs; inputs: string[] }[] = [];

/** The layout's sections back from its buffer, as the kernels read them. */
function decode(buf: ArrayLike<number>, a: Attrs): RefLayout {
  const [kT, R, E] = [Number(a.k) * Number(a.numTokens), Number(a.rows), Number(a.numExperts)];
  const b = Array.from(buf);
  return { rowOf: b.slice(0, kT), assignOf: b.slice(kT, kT + R), starts: b.slice(kT + R, kT + R + E), kept: b.slice(kT + R + E, kT + R + 2 * E), buffer: b };
}
const rows2 = (v: ArrayLike<number>, r: number, c: number): Mat => Array.from({ length: r }, (_, i) => Array.from(v).slice(i * c, (i + 1) * c));

before(async () => {
  await useBackend('cpu', { log: false });
  registerWebGpuFlags(true, {}); // the row-tile variant flag packedRowTile reads (default 'register' on a software adapter)
  type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: tf.KernelBackend; attrs: Attrs };
  const values = (b: tf.KernelBackend, t: tf.TensorInfo) => b.readSync(t.dataId) as Float32Array | Int32Array;
  const out = (b: tf.KernelBackend, shape: number[], v: number[], dtype: tf.DataType = 'float32') => (b as unknown as { makeTensorInfo: (s: number[], d: tf.DataType, v: ArrayLike<number>) => tf.TensorInfo }).makeTensorInfo(shape, dtype, dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v));
  const reg = (name: string, fn: (a: KernelArgs) => tf.TensorInfo) =>
    tf.registerKernel({
      kernelName: name,
      backendName: 'cpu',
      kernelFunc: ((a: KernelArgs) => {
        calls.push({ name, attrs: { ...a.attrs }, inputs: Object.keys(a.inputs).sort() });
        return fn(a);
      }) as unknown as tf.KernelFunc,
    });
  reg(PACK_LAYOUT, ({ inputs, backend, attrs }) => {
    const [k, T] = inputs.slot.shape;
    const E = Number(attrs.numExperts);
    const C = Number(attrs.capacity);
    const s = values(backend, inputs.slot);
    const slots = rows2(s, k, T);
    const ref = referenceLayout(slots, E, C, Number(attrs.rowTile), Number(attrs.rows));
    const kept = Array.from(values(backend, inputs.countsKept));
    assert.deepEqual(kept, ref.kept, 'countsKept handed to the kernel');
    return out(backend, [ref.buffer.length], ref.buffer, 'int32');
  });
  const layoutOf = (b: tf.KernelBackend, t: tf.TensorInfo, a: Attrs) => decode(values(b, t), a);
  const mat = (b: tf.KernelBackend, t: tf.TensorInfo) => rows2(values(b, t), t.shape[0], t.shape.length > 1 ? t.shape.slice(1).reduce((x, y) => x * y, 1) : 1);
  const scaleMat = (b: tf.KernelBackend, t: tf.TensorInfo, a: Attrs) => rows2(values(b, t), Number(a.k), Number(a.numTokens));
  reg(GATHER_ROWS, ({ inputs, backend, attrs }) => {
    const x = mat(backend, inputs.x);
    const r = refGather(layoutOf(backend, inputs.layout, attrs), x, scaleMat(backend, inputs.scale, attrs));
    return out(backend, [Number(attrs.rows), x[0].length], r.flat());
  });
  reg(COMBINE_ROWS, ({ inputs, backend, attrs }) => {
    const src = mat(backend, inputs.src);
    const r = refCombine(layoutOf(backend, inputs.layout, attrs), src, scaleMat(backend, inputs.scale, attrs));
    return out(backend, [Number(attrs.numTokens), src[0].length], r.flat());
  });
  reg(ROW_DOTS, ({ inputs, backend, attrs }) => {
    const r = refDots(layoutOf(backend, inputs.layout, attrs), mat(backend, inputs.src), mat(backend, inputs.y), Number(attrs.k));
    return out(backend, [Number(attrs.k) * Number(attrs.numTokens)], r.flat());
  });
});

/** A token-choice case: k = 2, T = 7, E = 3, C = 3 (some dropped, skewed so one expert is short). */
function makeCase(seed: number, tile: number) {
  const rng = new Rng(seed);
  const [k, T, E, C, D] = [2, 7, 3, 3, 5];
  const slots = referenceSlots(randomChoices(rng, k, T, E, 2), E, C);
  const R = packedRowBound(k, T, E, C, tile);
  const ref = referenceLayout(slots, E, C, tile, R);
  return { rng, k, T, E, C, D, slots, R, ref };
}

const close = (got: Mat, want: Mat, what: string) => {
  const flatG = got.flat();
  const flatW = want.flat();
  assert.equal(flatG.length, flatW.length, `${what}: size`);
  flatW.forEach((w, i) => assert.ok(Math.abs(flatG[i] - w) <= 1e-5 * Math.max(1, Math.abs(w)), `${what}[${i}]: ${flatG[i]} vs ${w}`));
};

describe('packed layout arithmetic', () => {
  test('packedRowBound: min(k·T + E·(tile − 1), E·⌈C/tile⌉·tile), worked at both limits', () => {
    // k·T + E·(tile − 1) binds: 2·10 + 4·3 = 32 < 4·⌈10/4⌉·4 = 48
    assert.equal(packedRowBound(2, 10, 4, 10, 4), 32);
    // the capacity binds: 1·10 + 4·15 = 70 > 4·⌈3/16⌉·16 = 64
    assert.equal(packedRowBound(1, 10, 4, 3, 16), 64);
    // tile 1: no padding, at most every assignment: min(6, 3·2) = 6; and min(6, 2·2) = 4 when C caps it
    assert.equal(packedRowBound(2, 3, 3, 2, 1), 6);
    assert.equal(packedRowBound(2, 3, 2, 2, 1), 4);
    // C a multiple of the tile: ⌈8/4⌉·4 = 8 exactly, not 12
    assert.equal(packedRowBound(4, 10, 2, 8, 4), 16);
    // C = 9: ⌈9/4⌉·4 = 12 per expert
    assert.equal(packedRowBound(4, 10, 2, 9, 4), 24);
  });

  test('segmentOffset: the starts come after the k·T row indices and the R assignments', () => {
    assert.equal(segmentOffset({ numTokens: 7, k: 2, numExperts: 3, rows: 20, variant: 'register' }), 34);
    assert.equal(segmentOffset({ numTokens: 5, k: 1, numExperts: 9, rows: 8, variant: 'tiled' }), 13);
  });

  test('packedRowTile: the row tile of the matmul variant where the layout kernel is registered', () => {
    assert.deepEqual(packedRowTile(), { rowTile: ROW_TILE.register, variant: 'register' });
    tf.env().set('SWITCHYARD_WEBGPU_MATMUL', 'tiled');
    try {
      assert.deepEqual(packedRowTile(), { rowTile: 16, variant: 'tiled' });
    } finally {
      tf.env().set('SWITCHYARD_WEBGPU_MATMUL', 'register');
    }
    assert.equal(ROW_TILE.register, 4);
    // where the layout kernel is not registered, the packed path does not run
    const kernel = tf.getKernel(PACK_LAYOUT, 'cpu')!;
    tf.unregisterKernel(PACK_LAYOUT, 'cpu');
    try {
      assert.equal(packedRowTile(), null);
    } finally {
      tf.registerKernel(kernel);
    }
    assert.notEqual(packedRowTile(), null);
  });

  for (const tile of [4, 16]) {
    test(`packLayout (tile ${tile}): the kernel gets slot, countsKept and numExperts, capacity, rowTile, rows; the layout its sizes`, async () => {
      const { k, T, E, C, slots, R, ref } = makeCase(11 + tile, tile);
      calls.length = 0;
      const slot = tf.tensor2d(slots, [k, T], 'int32');
      const kept = tf.tensor1d(ref.kept, 'float32');
      const l = packLayout(slot, kept, E, C, { rowTile: tile, variant: tile === 4 ? 'register' : 'tiled' });
      try {
        assert.deepEqual(calls, [{ name: PACK_LAYOUT, attrs: { numExperts: E, capacity: C, rowTile: tile, rows: R }, inputs: ['countsKept', 'slot'] }]);
        assert.deepEqual({ ...l, buffer: null }, { buffer: null, numTokens: T, k, numExperts: E, rows: R, rowTile: tile, variant: tile === 4 ? 'register' : 'tiled' });
        assert.deepEqual(Array.from(await l.buffer.data()), ref.buffer);
        assert.deepEqual(packedAttrs(l), { numTokens: T, k, numExperts: E, rows: R, variant: l.variant });
        // the layout is a constant to backprop, built off the tape: nothing leads from the slots to
        // it (on the tape, tfjs would look for the kernel's gradient and name the kernel instead)
        assert.throws(
          () => tf.grad((s: tf.Tensor) => tf.sum(tf.cast(packLayout(tf.cast(s, 'int32') as tf.Tensor2D, kept, E, C, { rowTile: tile, variant: 'register' }).buffer, 'float32')))(tf.cast(slot, 'float32')),
          /Cannot compute gradient of y=f\(x\) with respect to x/,
        );
      } finally {
        tf.dispose([slot, kept, l.buffer]);
      }
    });
  }
});

describe('gatherRows, combineRows and their gradients (cpu references of the kernels)', () => {
  const setup = () => {
    const c = makeCase(5, 4);
    const layout: PackedLayout = { buffer: tf.tensor1d(c.ref.buffer, 'int32'), numTokens: c.T, k: c.k, numExperts: c.E, rows: c.R, rowTile: 4, variant: 'register' };
    const x = randomMat(c.rng, c.T, c.D);
    const scale = randomMat(c.rng, c.k, c.T);
    const g = randomMat(c.rng, c.R, c.D); // upstream gradient of packed rows
    const gy = randomMat(c.rng, c.T, c.D); // upstream gradient of tokens
    const h = randomMat(c.rng, c.k, c.T);
    return { ...c, layout, x, scale, g, gy, h };
  };

  test('values: gatherRows = s[a]·x[t] per row, combineRows = Σ_j s·row per token', async () => {
    const { layout, ref, x, scale, g } = setup();
    try {
      calls.length = 0;
      const [gr, cr] = tf.tidy(() => [gatherRows(tf.tensor2d(x), tf.tensor2d(scale), layout), combineRows(tf.tensor2d(g), tf.tensor2d(scale), layout)]);
      close((await gr.array()) as Mat, refGather(ref, x, scale), 'gatherRows');
      close((await cr.array()) as Mat, refCombine(ref, g, scale), 'combineRows');
      const attrs = { numTokens: layout.numTokens, k: layout.k, numExperts: layout.numExperts, rows: layout.rows, variant: 'register' };
      assert.deepEqual(calls, [
        { name: GATHER_ROWS, attrs, inputs: ['layout', 'scale', 'x'] },
        { name: COMBINE_ROWS, attrs, inputs: ['layout', 'scale', 'src'] },
      ]);
      tf.dispose([gr, cr]);
    } finally {
      layout.buffer.dispose();
    }
  });

  test('gatherRows: ∂x = combineRows(dy, s), ∂s = rowDots(dy, x) (shaped like s)', async () => {
    const { layout, ref, x, scale, g, k } = setup();
    try {
      const [dx, ds] = tf.tidy(() => tf.grads((xx: tf.Tensor, ss: tf.Tensor) => tf.sum(tf.mul(gatherRows(xx as tf.Tensor2D, ss, layout), tf.tensor2d(g))))([tf.tensor2d(x), tf.tensor2d(scale)]));
      assert.deepEqual(ds.shape, [k, layout.numTokens]);
      close((await dx.array()) as Mat, refCombine(ref, g, scale), '∂x');
      close((await ds.array()) as Mat, refDots(ref, g, x, k), '∂s');
      tf.dispose([dx, ds]);
    } finally {
      layout.buffer.dispose();
    }
  });

  test('combineRows: ∂src = gatherRows(dy, s), ∂s = rowDots(src, dy) (shaped like s)', async () => {
    const { layout, ref, scale, g, gy, k } = setup();
    try {
      const [dsrc, ds] = tf.tidy(() => tf.grads((src: tf.Tensor, ss: tf.Tensor) => tf.sum(tf.mul(combineRows(src as tf.Tensor2D, ss, layout), tf.tensor2d(gy))))([tf.tensor2d(g), tf.tensor2d(scale)]));
      assert.deepEqual(ds.shape, [k, layout.numTokens]);
      close((await dsrc.array()) as Mat, refGather(ref, gy, scale), '∂src');
      close((await ds.array()) as Mat, refDots(ref, g, gy, k), '∂s');
      tf.dispose([dsrc, ds]);
    } finally {
      layout.buffer.dispose();
    }
  });

  test('rowDots (the gates\' gradient) differentiated again: ∂src = gatherRows(y, dd), ∂y = combineRows(src, dd)', async () => {
    // f(x, g) = Σ h ⊙ ∂s, with ∂s = rowDots(g, x) the scale gradient of gatherRows:
    // ∂f/∂x = combineRows(g, h), and through combineRows' scale gradient rowDots(src, dy): ∂f/∂src = gatherRows(dy, h).
    const { layout, ref, x, scale, g, gy, h } = setup();
    try {
      const [dxx, dsrc] = tf.tidy(() => {
        const sT = tf.tensor2d(scale);
        const hT = tf.tensor2d(h);
        const dx2 = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.grad((ss: tf.Tensor) => tf.sum(tf.mul(gatherRows(xx as tf.Tensor2D, ss, layout), tf.tensor2d(g))))(sT), hT)))(tf.tensor2d(x));
        const dsrc2 = tf.grad((src: tf.Tensor) => tf.sum(tf.mul(tf.grad((ss: tf.Tensor) => tf.sum(tf.mul(combineRows(src as tf.Tensor2D, ss, layout), tf.tensor2d(gy))))(sT), hT)))(tf.tensor2d(g));
        return [dx2, dsrc2];
      });
      close((await dxx.array()) as Mat, refCombine(ref, g, h), '∂x of rowDots');
      close((await dsrc.array()) as Mat, refGather(ref, gy, h), '∂src of rowDots');
      tf.dispose([dxx, dsrc]);
    } finally {
      layout.buffer.dispose();
    }
  });

  test('a layout computed on the tape gets a zero gradient (the index carries none), and the ops still differentiate', async () => {
    const { layout, ref, x, scale, g } = setup();
    try {
      const [dv, dx] = tf.tidy(() => {
        const base = tf.cast(layout.buffer, 'float32');
        // v·0 + buffer: the layout depends on v, so the engine asks the op for the layout's gradient
        const f = (v: tf.Tensor, xx: tf.Tensor) => {
          const onTape: PackedLayout = { ...layout, buffer: tf.cast(tf.add(base, tf.mul(v, 0)), 'int32') as tf.Tensor1D };
          return tf.sum(tf.mul(gatherRows(xx as tf.Tensor2D, tf.tensor2d(scale), onTape), tf.tensor2d(g)));
        };
        return tf.grads(f)([tf.scalar(3), tf.tensor2d(x)]);
      });
      assert.equal(dv.dtype, 'float32');
      assert.deepEqual(await dv.data(), new Float32Array([0]));
      close((await dx.array()) as Mat, refCombine(ref, g, scale), '∂x');
      tf.dispose([dv, dx]);
    } finally {
      layout.buffer.dispose();
    }
  });

  test('bad shapes and dtypes are refused, naming what was expected and what came', () => {
    const { layout, T, k, R, D } = setup();
    try {
      tf.tidy(() => {
        const s = tf.ones([k, T]);
        assert.throws(() => gatherRows(tf.ones([T + 1, D]) as tf.Tensor2D, s, layout), { message: `gatherRows: x must be [${T},D], got [${T + 1},${D}]` });
        assert.throws(() => gatherRows(tf.ones([T]) as unknown as tf.Tensor2D, s, layout), { message: `gatherRows: x must be [${T},D], got [${T}]` });
        assert.throws(() => gatherRows(tf.ones([T, D]) as tf.Tensor2D, tf.ones([k, T - 1]), layout), { message: `gatherRows: scale must be float32[${k},${T}], got float32[${k},${T - 1}]` });
        assert.throws(() => gatherRows(tf.ones([T, D]) as tf.Tensor2D, tf.ones([k, T], 'int32'), layout), { message: `gatherRows: scale must be float32[${k},${T}], got int32[${k},${T}]` });
        assert.throws(() => combineRows(tf.ones([R - 1, D]) as tf.Tensor2D, s, layout), { message: `combineRows: src must be [${R},D], got [${R - 1},${D}]` });
        assert.throws(() => combineRows(tf.ones([R]) as unknown as tf.Tensor2D, s, layout), { message: `combineRows: src must be [${R},D], got [${R}]` });
        assert.throws(() => combineRows(tf.ones([R, D]) as tf.Tensor2D, tf.ones([k * T + 1]), layout), { message: `combineRows: scale must be float32[${k},${T}], got float32[${k * T + 1}]` });
        // the same size in another shape is accepted (scale is read flat, a = j·T + t)
        assert.doesNotThrow(() => combineRows(tf.ones([R, D]) as tf.Tensor2D, tf.ones([k * T]), layout));
      });
    } finally {
      layout.buffer.dispose();
    }
  });
});
