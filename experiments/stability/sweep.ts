/**
 * The stability sweep (Switch Tables 2 and 3): initialisation scale 0.1 vs 1.0, and the router's
 * logits in float32 vs bfloat16 (emulated), several seeds each. Without the later stabilisers
 * (no z-loss, no gradient clipping), as in the Switch paper's setting, so instability can show.
 */
import type { PresetName, SweepDef, SweepRun } from '../../kernel-lib/exp/types.ts';
import { seeded } from '../common.ts';

export const STABILITY_EXPERTS: Record<PresetName, number> = { quick: 4, cpu: 8, gpu: 16 };

export function sweep(preset: PresetName): SweepDef {
  const runs: SweepRun[] = [];
  for (const initScale of [0.1, 1.0]) {
    for (const routerDtype of ['float32', 'bfloat16'] as const) {
      runs.push(...seeded(preset, `init${initScale}-${routerDtype}`, { initScale, routerDtype }, { initScale, routerDtype }));
    }
  }
  return { base: { router: 'top1', numExperts: STABILITY_EXPERTS[preset], zCoef: 0, gradClip: 0 }, runs, steps: { quick: undefined, cpu: 2500, gpu: 1200 }[preset] };
}
