/**
 * The capacity rule, all of it: how many assignments (token choice) or tokens (expert choice)
 * one expert processes per routing group, dropless included, and the row bound of the packed
 * layout. Pure arithmetic on numbers (no tensor, no backend), evaluated left to right exactly as
 * written in docs/conformance (float64), so that C matches an independent implementation bit for
 * bit. What the layer reads from the device to use them (a dropless group's largest load) is
 * routing/token-choice.ts's.
 *
 * Letters: T tokens per routing group, E experts, k choices per token, C capacity (slots per
 * expert), R packed rows.
 */

/**
 * Token-choice capacity `C = min(T, ceil(capacityFactor · k · T / E))`: Switch Transformers
 * (Fedus et al. 2022) eq. 3, expert capacity = tokens per batch / experts · capacity factor,
 * with k = 1; GShard (Lepikhin et al. 2021) with k = 2. Capped at T: an expert can't receive more
 * than T assignments, since a token picks k distinct experts.
 * @param capacityFactor the capacity factor, or null for dropless (then see {@link droplessCapacity}).
 * @param k choices per token.
 * @param T tokens per group.
 * @param E experts.
 * @returns C slots per expert (an integer in [1, T] for a positive factor), or null when dropless.
 */
export function tokenChoiceCapacity(capacityFactor: number | null, k: number, T: number, E: number): number | null {
  if (capacityFactor === null) return null;
  return Math.min(T, Math.ceil((capacityFactor * k * T) / E));
}

/**
 * Expert-choice capacity `C = min(T, ceil(capacityFactor · T / E))` (Zhou et al. 2022, §3.1:
 * k = n·c/e tokens per expert); null → T (every expert sees every token).
 * @param capacityFactor the capacity factor, or null for every token.
 * @param T tokens per group.
 * @param E experts.
 * @returns C tokens each expert takes, in [1, T] for a positive factor.
 */
export function expertChoiceCapacity(capacityFactor: number | null, T: number, E: number): number {
  if (capacityFactor === null) return T;
  return Math.min(T, Math.ceil((capacityFactor * T) / E));
}

/**
 * Rounds a dropless capacity up to a multiple of `multiple` (fewer distinct shapes, fewer shader
 * compiles on WebGPU), at least 1, at most T: `max(1, min(T, ceil(load / multiple) · multiple))`.
 * @param load the largest expert load (assignments).
 * @param T tokens per group.
 * @param multiple the granularity of C.
 */
export function roundCapacity(load: number, T: number, multiple = 8): number {
  return Math.max(1, Math.min(T, Math.ceil(load / multiple) * multiple));
}

/**
 * Dropless capacity (token choice with no capacity factor: megablocks, Gale et al. 2022, drops
 * nothing): C is the largest expert load rounded up ({@link roundCapacity}), so no assignment
 * is dropped. Where that load is not read back, C = T, which holds every assignment: on the
 * packed layout's path C only numbers the slots (the experts multiply the kept rows, whose count
 * stays on the device), and on webgpu with tfjs's own ops no synchronous read exists in Node.
 * @param largestLoad max_e of the assignments to expert e (float32[E] counts' maximum), or null
 *   where it is not read.
 * @param T tokens per group.
 * @returns C in [1, T].
 */
export function droplessCapacity(largestLoad: number | null, T: number): number {
  if (largestLoad === null) return T;
  return roundCapacity(largestLoad, T);
}

/**
 * The static row bound of the packed layout (megablocks, Gale et al. 2022, §5: each expert's
 * segment padded to a multiple of the grouped matmul's row tile), known before the call:
 * `R = min(k·T + E·(tile − 1), E·⌈C/tile⌉·tile)`: every assignment plus at most tile − 1 rows
 * of padding per expert, and never more than E full padded capacity buffers.
 * @param k choices per token.
 * @param T tokens per group.
 * @param E experts.
 * @param C capacity (slots per expert).
 * @param tile the row tile segments align to (kernels/contracts.ts ROW_TILE).
 * @returns R rows.
 */
export function packedRowBound(k: number, T: number, E: number, C: number, tile: number): number {
  return Math.min(k * T + E * (tile - 1), E * Math.ceil(C / tile) * tile);
}
