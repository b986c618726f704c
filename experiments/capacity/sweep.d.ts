/**
 * The capacity sweep (Switch Table 1): top-1 and top-2 at several training capacity factors and
 * dropless, with the experts' width and count fixed. Evaluation runs at one capacity factor
 * (2.0, as Switch evaluates) for every run, so quality differences come from training.
 */
import type { PresetName, SweepDef } from '../../kernel-lib/exp/types.ts';
/** Training capacity factors per preset; null is dropless. */
export declare const CAPACITY_FACTORS: Record<PresetName, (number | null)[]>;
export declare const CAPACITY_EXPERTS: Record<PresetName, number>;
export declare const cfName: (cf: number | null) => string;
export declare function sweep(preset: PresetName): SweepDef;
