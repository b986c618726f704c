/**
 * bfloat16 emulation for the router-precision experiment (Switch §2.4, Table 2: a router run in
 * bfloat16 destabilises training; Switch keeps the router in float32, "selective precision").
 *
 * tfjs has no bfloat16 dtype, so values are rounded the way a cast to bfloat16 would round
 * them: to 8 significant bits (7 stored), round to nearest, ties to even, keeping the float32
 * exponent range. No bit operations exist in tfjs, so the rounding is arithmetic: find the
 * binade 2^e of |x|, then round x / 2^(e−7) to an integer (tf.round rounds half to even) and
 * scale back; every step is exact in float32 (scaling by powers of two). Exact for |x| ≥ 2^−100
 * and for 0; smaller magnitudes (never a router logit) round to multiples of 2^−107, because
 * GPUs flush float32 subnormals to zero.
 */
import * as tf from '@tensorflow/tfjs';
import { ROUTER_DTYPES } from '../config/fields.ts';

export { ROUTER_DTYPES };
export type RouterDtype = (typeof ROUTER_DTYPES)[number];

/** Binades below 2^MIN_EXPONENT share its spacing 2^(MIN_EXPONENT−7), which stays a normal float32. */
const MIN_EXPONENT = -100;

/**
 * Rounds float32 values to the nearest bfloat16 value (ties to even), as float32. The gradient
 * passes straight through (the usual emulation of a lower-precision forward pass).
 * @param x float32[...] finite values.
 * @returns float32[...] of the same shape, each a bfloat16 value.
 */
export function roundToBfloat16<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad(((v: tf.Tensor) => ({
    value: tf.tidy(() => {
      const a = tf.abs(v);
      const safe = tf.maximum(a, 2 ** MIN_EXPONENT); // log of 0 is −∞: 0 rounds to 0 below anyway
      // floor(log2 a), then corrected by one either way: log() is not exact at binade edges.
      let e = tf.floor(tf.mul(tf.log(safe), Math.LOG2E));
      const p = tf.pow(tf.scalar(2), e);
      e = tf.add(e, tf.sub(tf.cast(tf.greaterEqual(safe, tf.mul(p, 2)), 'float32'), tf.cast(tf.less(safe, p), 'float32')));
      e = tf.maximum(e, MIN_EXPONENT);
      const ulp = tf.pow(tf.scalar(2), tf.sub(e, 7)); // spacing of bfloat16 values in this binade
      return tf.mul(tf.round(tf.div(v, ulp)), ulp);
    }),
    gradFunc: (dy: tf.Tensor) => dy,
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}
