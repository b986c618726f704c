/**
 * The padded packed layout of token-choice assignments (megablocks, Gale et al. 2022, §5): the
 * kept assignments sorted by expert, each expert's segment padded to a multiple of the grouped
 * matmul's row tile. Its size has a static bound known before the call, R = min(k·T +
 * E·(tile − 1), E·⌈C/tile⌉·tile) (capacity.ts `packedRowBound`), so dropless routing needs
 * neither a read back nor C = T: the experts multiply Σ_e ⌈kept_e/tile⌉·tile rows, about k·T.
 *
 * The layout is one int32 buffer of k·T + R + 2E, built on the device by the backend kernel
 * `SwitchyardPackLayout` (webgpu: backend/webgpu-routing.ts); its sections (rows of the
 * assignments, assignments of the rows, segment starts, kept counts) are the kernels' contract,
 * kernels/contracts.ts (`segmentOffset`).
 */
import * as tf from '@tensorflow/tfjs';
import { PACK_LAYOUT, ROW_TILE, type PackLayoutAttrs, type PackedAttrs } from '../kernels/contracts.ts';
import { matMulVariant } from '../kernels/webgpu-flags.ts';
import { packedRowBound } from './capacity.ts';
import { ownKernel } from './own-kernels.ts';
import { untaped } from './routing/base.ts';

export interface PackedLayout {
  /** int32[k·T + R + 2E], sections as kernels/contracts.ts says. */
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

/** The attributes every packed kernel takes, of a layout. */
export const packedAttrs = (l: PackedLayout): PackedAttrs => ({ numTokens: l.numTokens, k: l.k, numExperts: l.numExperts, rows: l.rows, variant: l.variant });

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
  const attrs = { numExperts, capacity, rowTile: plan.rowTile, rows } satisfies PackLayoutAttrs as unknown as tf.NamedAttrMap;
  const buffer = untaped(() => tf.engine().runKernel(PACK_LAYOUT, { slot, countsKept }, attrs) as tf.Tensor1D); // [kT+R+2E]
  return { buffer, numTokens: T, k, numExperts, rows, rowTile: plan.rowTile, variant: plan.variant };
}
