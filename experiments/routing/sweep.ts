/**
 * The routing sweep: token choice (top-1, top-2) against Expert Choice, and the load-balancing
 * coefficient α of top-1 from 1e-1 down to 1e-5. Expert Choice is allowed in this causal LM
 * only to show what it does: its routing sees later tokens (measured by `futureLeak`).
 */
import type { PresetName, SweepDef, SweepRun } from '../../kernel-lib/exp/types.ts';
import { seeded } from '../common.ts';

export const ROUTING_EXPERTS: Record<PresetName, number> = { quick: 4, cpu: 8, gpu: 16 };
export const BALANCE_COEFS: Record<PresetName, number[]> = {
  quick: [1e-1, 1e-2, 1e-5],
  cpu: [1e-1, 1e-2, 1e-3, 1e-4, 1e-5],
  gpu: [1e-1, 1e-2, 1e-3, 1e-4, 1e-5],
};

export function sweep(preset: PresetName): SweepDef {
  const runs: SweepRun[] = [];
  for (const a of BALANCE_COEFS[preset]) runs.push(...seeded(preset, `top1-a${a}`, { router: 'top1', balanceCoef: a }, { router: 'top1', balanceCoef: a }));
  runs.push(...seeded(preset, 'top2-a0.01', { router: 'top2', balanceCoef: 1e-2 }, { router: 'topk', k: 2, balanceCoef: 1e-2 }));
  runs.push(...seeded(preset, 'expert-choice', { router: 'expert-choice', balanceCoef: null }, { router: 'expert-choice', allowExpertChoice: true }));
  return { base: { numExperts: ROUTING_EXPERTS[preset] }, runs, steps: { quick: undefined, cpu: 1600, gpu: 1200 }[preset] };
}
