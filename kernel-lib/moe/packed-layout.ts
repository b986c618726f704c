/**
 * The padded packed layout of token-choice assignments (megablocks, Gale et al. 2022, §5): the
 * kept assignments sorted by expert, each expert's segment padded to a multiple of the grouped
 * matmul's row tile. Its size has a static bound known before the call,
 * R = min(k·T + E·(tile − 1), E·⌈C/tile⌉·tile), so dropless routing needs neither a read back
 * nor C = T: the experts multiply Σ_e ⌈kept_e/tile⌉·tile rows, about k·T.
 *
 * The layout is one int32 buffer, built on the device by the backend kernel `SwitchyardPackLayout`
 * (webgpu: backend/webgpu-routing.ts). With a = j·T + t the assignment of token t's (j+1)-th
 * choice:
 *   [0, k·T)            rowOf[a]: its row, or -1 when dropped
 *   [k·T, k·T+R)        assignOf[r]: the assignment in row r, or -1 (padding, unused tail)
 *   [k·T+R, k·T+R+E)    start of expert e's segment (a multiple of the tile)
 *   [k·T+R+E, k·T+R+2E) kept assignments of expert e (its filled rows)
 */
import * as tf from '@tensorflow/tfjs';
import { matMulVariant } from '../backend/webgpu-flags.ts';
import { ROW_TILE } from '../backend/webgpu-grouped-matmul.ts';
import { ownKernel } from './own-kernels.ts';
import { untaped } from './routing/base.ts';

export const PACK_LAYOUT = 'SwitchyardPackLayout';

export interface PackedLayout {
  /** int32[k·T + R + 2E], sections as above. */
  buffer: tf.Tensor1D;
  /** T tokens */
  numTokens: number;
  /** k choices per token */
  k: number;
  /** E experts */
  numExperts: number;
  /** R rows (the static bound) */
  rows: number;
  /** Segment alignment: the grouped matmul's row tile. */
  rowTile: number;
  /** Grouped matmul variant the layout was built for. */
  variant: string;
}

/** Kernel attributes every packed kernel takes. */
export interface PackedAttrs {
  numTokens: number;
  k: number;
  numExperts: number;
  rows: number;
  variant: string;
}

export const packedAttrs = (l: PackedLayout): PackedAttrs => ({ numTokens: l.numTokens, k: l.k, numExperts: l.numExperts, rows: l.rows, variant: l.variant });

/** Index of the segment starts in the layout buffer (counts follow E further on). */
export const segmentOffset = (a: PackedAttrs): number => a.k * a.numTokens + a.rows;

/** The static row bound R for k·T assignments to E experts of capacity C, segments aligned to `tile`. */
export function packedRowBound(k: number, T: number, E: number, C: number, tile: number): number {
  return Math.min(k * T + E * (tile - 1), E * Math.ceil(C / tile) * tile);
}

/** The row tile the packed path aligns to on this backend now, or null where it does not run. */
export function packedRowTile(): { rowTile: number; variant: string } | null {
  if (!ownKernel(PACK_LAYOUT)) return null;
  const variant = matMulVariant();
  return { rowTile: ROW_TILE[variant], variant };
}

/**
 * Builds the layout on the device, with the gradient tape off (like the routing decisions it
 * encodes, it is a constant to backprop).
 * @param slot int32[k,T] e·C + position for kept assignments, E·C for dropped (assignmentSlots).
 * @param countsKept float32[E] kept assignments per expert.
 */
export function packLayout(slot: tf.Tensor2D, countsKept: tf.Tensor1D, numExperts: number, capacity: number, plan: { rowTile: number; variant: string }): PackedLayout {
  const [k, T] = slot.shape;
  const rows = packedRowBound(k, T, numExperts, capacity, plan.rowTile);
  const attrs = { numExperts, capacity, rowTile: plan.rowTile, rows } as unknown as tf.NamedAttrMap;
  const buffer = untaped(() => tf.engine().runKernel(PACK_LAYOUT, { slot, countsKept }, attrs) as tf.Tensor1D); // [kT+R+2E]
  return { buffer, numTokens: T, k, numExperts, rows, rowTile: plan.rowTile, variant: plan.variant };
}
