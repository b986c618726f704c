/**
 * Seed derivation: one base seed → a distinct, reproducible seed per weight and per noise site.
 * Hashing (not `seed + i`) keeps models built from neighbouring base seeds uncorrelated.
 */

/** 32-bit avalanche mix (murmur3's finaliser). */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A seed in [0, 2³¹) derived from `base` and a path of integers (e.g. layer, site).
 * Distinct paths give unrelated seeds; the same inputs always give the same seed.
 */
export function deriveSeed(base: number, ...path: number[]): number {
  let h = mix((base | 0) ^ 0x5bd1e995);
  for (const p of path) h = mix(h ^ mix((p | 0) + 0x9e3779b9));
  return h >>> 1;
}

/** `deriveSeed` when a base seed is given, else undefined (tfjs then draws fresh noise). */
export function maybeSeed(base: number | undefined, ...path: number[]): number | undefined {
  return base === undefined ? undefined : deriveSeed(base, ...path);
}
