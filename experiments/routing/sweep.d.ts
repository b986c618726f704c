/**
 * The routing sweep: token choice (top-1, top-2) against Expert Choice, and the load-balancing
 * coefficient α of top-1 from 1e-1 down to 1e-5. Expert Choice is allowed in this causal LM
 * only to show what it does: its routing sees later tokens (measured by `futureLeak`).
 */
import type { PresetName, SweepDef } from '../../kernel-lib/exp/types.ts';
export declare const ROUTING_EXPERTS: Record<PresetName, number>;
export declare const BALANCE_COEFS: Record<PresetName, number[]>;
export declare function sweep(preset: PresetName): SweepDef;
