/**
 * Empty capacity slots are never read into a result, on cpu and wasm: the capacity buffer's
 * empty rows are filled with NaN (dispatch leaves them 0, which would hide a read) and the
 * layer's output must stay finite and equal to the zero-filled one.
 * - wasm runs the experts with `expertMatMul`, told how many slots are filled: the experts'
 *   output rows of empty slots are 0 and ∂W adds filled slots only, NaN or not.
 * - cpu multiplies the whole buffer (a plain matMul: the empty rows' outputs are NaN there), and
 *   combine gathers only kept slots: y is still exact.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { assignmentSlots, combine, dispatch, expertFfn, expertLoads, skipsEmptySlots, slotTokens } from '../kernel-lib/moe/index.ts';

// T = 6 tokens, k = 2, E = 3 experts, C = 3: experts 0 and 1 are chosen 5 times each (2 dropped
// each), expert 2 twice (its third slot stays empty).
const choices = [
  [0, 0, 1, 0, 2, 1], // 1st choices
  [1, 2, 0, 1, 1, 0], // 2nd choices
];
const [k, T, E, C, D, F] = [2, 6, 3, 3, 4, 5];
const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 31 + i * 7.3) * 0.8);

async function run(fillEmpty: number): Promise<{ y: number[][]; out: number[][][]; dW1: number[][][]; dW2: number[][][]; kept: number[] }> {
  return tf.tidy(() => {
    const ch = tf.tensor2d(choices, [k, T], 'int32');
    const slot = assignmentSlots(ch, E, C);
    const st = slotTokens(slot, E, C);
    const x = tf.tensor2d(rand(T * D, 1), [T, D]);
    const gates = tf.tensor2d(rand(k * T, 2).map((v) => 0.5 + v / 2), [k, T]);
    const kept = tf.minimum(expertLoads(ch, E), C); // filled slots per expert
    const empty = tf.reshape(tf.equal(st, 0), [E, C, 1]); // slotTokens: 0 = empty
    const w1 = tf.tensor3d(rand(E * D * F, 3), [E, D, F]);
    const w2 = tf.tensor3d(rand(E * F * D, 4), [E, F, D]);
    const cot = tf.tensor2d(rand(T * D, 5), [T, D]);
    const buffer = tf.where(tf.broadcastTo(empty, [E, C, D]), tf.fill([E, C, D], fillEmpty), dispatch(x, st, E, C)) as tf.Tensor3D;
    const layer = (a: tf.Tensor3D, b: tf.Tensor3D) => {
      const out = expertFfn(buffer, a, b, { activation: 'relu', dropout: 0, training: false }, tf.cast(kept, 'int32') as tf.Tensor1D);
      return { out, y: combine(out, slot, gates) };
    };
    const { out, y } = layer(w1, w2);
    const [dW1, dW2] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layer(a as tf.Tensor3D, b as tf.Tensor3D).y, cot)))([w1, w2]);
    return { y: y.arraySync() as number[][], out: out.arraySync() as number[][][], dW1: dW1.arraySync() as number[][][], dW2: dW2.arraySync() as number[][][], kept: kept.arraySync() as number[] };
  });
}

const allFinite = (v: unknown): boolean => (Array.isArray(v) ? v.every(allFinite) : Number.isFinite(v));

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`empty capacity slots on ${backend}`, () => {
    test(`filled with NaN, they change nothing in y${backend === 'wasm' ? ', the experts\' output or ∂W' : ''}`, async () => {
      await useBackend(backend, { log: false });
      assert.equal(tf.getBackend(), backend);
      assert.equal(skipsEmptySlots(), backend === 'wasm', 'wasm skips empty slots, cpu multiplies them');
      const zero = await run(0);
      // loads before capacity: expert 0: 5, expert 1: 5, expert 2: 2 → kept 3, 3, 2: one empty slot (expert 2's last)
      assert.deepEqual(zero.kept, [3, 3, 2]);
      const nan = await run(NaN);
      assert.ok(allFinite(nan.y), `y must stay finite: ${JSON.stringify(nan.y)}`);
      assert.deepEqual(nan.y, zero.y);
      if (backend === 'wasm') {
        assert.deepEqual(nan.out[2][2], [0, 0, 0, 0], "the empty slot's output row is 0, not NaN");
        assert.deepEqual(nan.out, zero.out);
        assert.ok(allFinite(nan.dW1) && allFinite(nan.dW2), '∂W adds filled slots only');
        assert.deepEqual(nan.dW1, zero.dW1);
        assert.deepEqual(nan.dW2, zero.dW2);
      } else {
        // cpu reads the empty slot in the experts' matmul (its output row is NaN) but combine never does
        assert.ok(nan.out[2][2].every(Number.isNaN), 'cpu multiplies the whole buffer');
        assert.ok(nan.out.every((rows, e) => rows.every((row, c) => c >= [3, 3, 2][e] || allFinite(row))));
      }
    });
  });
}
