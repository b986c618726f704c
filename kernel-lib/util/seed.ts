/**
 * Small deterministic PRNG (mulberry32) for data order and splits. Pure: the state is the value,
 * so a stream can be saved in a checkpoint and resumed exactly.
 */

/** Returns the next state and a float in [0, 1). */
export function mulberry32(state: number): { state: number; value: number } {
  const s = (state + 0x6d2b79f5) | 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { state: s, value: ((t ^ (t >>> 14)) >>> 0) / 4294967296 };
}

/** A seeded random source with an inspectable, restorable state. */
export class Rng {
  constructor(public state: number) {
    if (!Number.isInteger(state)) throw new Error(`Rng: seed must be an integer, got ${state}`);
  }
  /** Uniform float in [0, 1). */
  next(): number {
    const r = mulberry32(this.state);
    this.state = r.state;
    return r.value;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}
