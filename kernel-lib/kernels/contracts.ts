/**
 * The contracts of Switchyard's own MoE kernels: what an op in kernel-lib/moe/ runs by name
 * (`tf.engine().runKernel`) and a backend registers under that name (wasm: backend/wasm-matmul.ts;
 * webgpu: backend/webgpu-moe-kernels.ts). Each name with its inputs and attributes, and the
 * layout constants both sides must agree on. This floor lies below both: moe/ and backend/
 * import it, and neither imports the other.
 *
 * Letters: T tokens, E experts, C capacity, k choices, R packed rows.
 */

/**
 * Batched matmul over the capacity buffer, skipping empty slots (moe/expert-matmul.ts).
 * Inputs a float32[E,C,P], b float32[E,P,Q] (or its transpose), filled int32[E]; attrs
 * {@link ExpertMatMulAttrs}.
 */
export const EXPERT_MATMUL = 'SwitchyardExpertMatMul';

/**
 * Matmul over the packed layout (moe/grouped-matmul.ts). Inputs a float32[R,P], b
 * float32[E,P,Q] (or [R,Q] for `tn`), layout int32; attrs {@link PackedAttrs} and
 * {@link ExpertMatMulAttrs}.
 */
export const GROUPED_MATMUL = 'SwitchyardGroupedMatMul';

/**
 * Slot positions in priority order (moe/positions.ts). Input choices int32[k·T]; attrs
 * {@link PositionsAttrs}; output int32[k·T], e·C + position when kept, E·C when dropped.
 */
export const EXPERT_POSITIONS = 'SwitchyardExpertPositions';

/**
 * The packed layout (moe/packed-layout.ts). Inputs slot int32[k,T], countsKept float32[E];
 * attrs {@link PackLayoutAttrs}; output int32[k·T + R + 2E], sections as {@link segmentOffset} says.
 */
export const PACK_LAYOUT = 'SwitchyardPackLayout';

/** Fused dispatch over the packed layout (moe/packed-rows.ts): inputs x, scale, layout; attrs {@link PackedAttrs}. */
export const GATHER_ROWS = 'SwitchyardGatherRows';
/** Fused combine over the packed layout (moe/packed-rows.ts): inputs src, scale, layout; attrs {@link PackedAttrs}. */
export const COMBINE_ROWS = 'SwitchyardCombineRows';
/** Row dot products over the packed layout (moe/packed-rows.ts): inputs src, y, layout; attrs {@link PackedAttrs}. */
export const ROW_DOTS = 'SwitchyardRowDots';

/** Attributes of {@link EXPERT_MATMUL} and {@link GROUPED_MATMUL}: which operand is transposed (not both). */
export interface ExpertMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Attributes of {@link EXPERT_POSITIONS}. */
export interface PositionsAttrs {
  numExperts: number;
  capacity: number;
}

/** Attributes of {@link PACK_LAYOUT}: R = `rows`, segments aligned to `rowTile`. */
export interface PackLayoutAttrs {
  numExperts: number;
  capacity: number;
  rowTile: number;
  rows: number;
}

/** Kernel attributes every packed kernel takes. */
export interface PackedAttrs {
  numTokens: number;
  k: number;
  numExperts: number;
  rows: number;
  variant: string;
}

/**
 * Index of the segment starts in the packed layout buffer (counts follow, E further on). The
 * buffer's sections, with a = j·T + t the assignment of token t's (j+1)-th choice:
 *   [0, k·T)            rowOf[a]: its row, or -1 when dropped
 *   [k·T, k·T+R)        assignOf[r]: the assignment in row r, or -1 (padding, unused tail)
 *   [k·T+R, k·T+R+E)    start of expert e's segment (a multiple of the row tile)
 *   [k·T+R+E, k·T+R+2E) kept assignments of expert e (its filled rows)
 */
export const segmentOffset = (a: PackedAttrs): number => a.k * a.numTokens + a.rows;

/** The grouped matmul's variants on webgpu (backend/webgpu-grouped-matmul.ts). */
export type MatMulVariant = 'register' | 'tiled';
export const MATMUL_VARIANTS: readonly MatMulVariant[] = ['register', 'tiled'];

/** Output rows per workgroup tile of each variant; a packed layout aligns its segments to this. */
export const ROW_TILE: Record<MatMulVariant, number> = { register: 4, tiled: 16 };
