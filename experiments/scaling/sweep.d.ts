/** The scaling sweep: dense, dense with 2×F, Switch and top-2 at each expert count of the preset, every seed. */
import type { PresetName, SweepDef } from '../../kernel-lib/exp/types.ts';
/** Expert counts per preset (the paper's 2 … 64 where the budget allows). */
export declare const SCALING_EXPERTS: Record<PresetName, number[]>;
export declare function sweep(preset: PresetName): SweepDef;
