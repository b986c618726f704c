/**
 * The stability sweep (Switch Tables 2 and 3): initialisation scale 0.1 vs 1.0, and the router's
 * logits in float32 vs bfloat16 (emulated), several seeds each. Without the later stabilisers
 * (no z-loss, no gradient clipping), as in the Switch paper's setting, so instability can show.
 */
import type { PresetName, SweepDef } from '../../kernel-lib/exp/types.ts';
export declare const STABILITY_EXPERTS: Record<PresetName, number>;
export declare function sweep(preset: PresetName): SweepDef;
