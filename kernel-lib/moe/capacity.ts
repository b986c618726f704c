/**
 * Expert capacity: how many assignments (token choice) or tokens (expert choice) one expert
 * processes per routing group. Pure arithmetic, evaluated left to right exactly as written in
 * docs/conformance (float64), so that C matches an independent implementation bit for bit.
 */

/**
 * Token-choice capacity `C = ceil(capacityFactor · k · T / E)` (Switch eq. 3 with k = 1; GShard
 * with k = 2). Capped at T: an expert can't receive more than T assignments, since a token picks
 * k distinct experts. Returns null for dropless (capacityFactor null).
 */
export function tokenChoiceCapacity(capacityFactor: number | null, k: number, T: number, E: number): number | null {
  if (capacityFactor === null) return null;
  return Math.min(T, Math.ceil((capacityFactor * k * T) / E));
}

/** Expert-choice capacity `C = min(T, ceil(capacityFactor · T / E))` (Zhou et al. 2022, §3.1); null → T (every expert sees every token). */
export function expertChoiceCapacity(capacityFactor: number | null, T: number, E: number): number {
  if (capacityFactor === null) return T;
  return Math.min(T, Math.ceil((capacityFactor * T) / E));
}

/** Rounds a dropless capacity up to a multiple of `multiple` (fewer distinct shapes, fewer shader compiles on WebGPU), at most T. */
export function roundCapacity(load: number, T: number, multiple = 8): number {
  return Math.max(1, Math.min(T, Math.ceil(load / multiple) * multiple));
}
