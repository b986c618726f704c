/**
 * The specialisation sweep: one Switch model per seed, with routing snapshots of a fixed
 * validation sample spread over training (routing-dump.ts), which the analysis reads.
 */
import type { PresetName, SweepDef } from '../../kernel-lib/exp/types.ts';
export declare const SPECIALIZATION_EXPERTS: Record<PresetName, number>;
export declare const SNAPSHOTS: Record<PresetName, number>;
export declare function sweep(preset: PresetName): SweepDef;
