/**
 * The capacity sweep (Switch Table 1): top-1 and top-2 at several training capacity factors and
 * dropless, with the experts' width and count fixed. Evaluation runs at one capacity factor
 * (2.0, as Switch evaluates) for every run, so quality differences come from training.
 */
import type { PresetName, SweepDef, SweepRun } from '../../kernel-lib/exp/types.ts';
import { seeded } from '../common.ts';

/** Training capacity factors per preset; null is dropless. */
export const CAPACITY_FACTORS: Record<PresetName, (number | null)[]> = {
  quick: [0.5, 1.0, 2.0, null],
  cpu: [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, null],
  gpu: [0.5, 0.75, 1.0, 1.25, 1.5, 2.0, null],
};

export const CAPACITY_EXPERTS: Record<PresetName, number> = { quick: 4, cpu: 8, gpu: 16 };

export const cfName = (cf: number | null) => (cf === null ? 'dropless' : `cf${cf}`);

export function sweep(preset: PresetName): SweepDef {
  const runs: SweepRun[] = [];
  for (const router of ['top1', 'topk'] as const) {
    for (const cf of CAPACITY_FACTORS[preset]) {
      const model = router === 'top1' ? 'top1' : 'top2';
      runs.push(...seeded(preset, `${model}-${cfName(cf)}`, { router: model, capacityFactor: cf }, { router, k: router === 'topk' ? 2 : 1, capacityFactor: cf }));
    }
  }
  return { base: { numExperts: CAPACITY_EXPERTS[preset], evalCapacityFactor: 2.0 }, runs, steps: { quick: undefined, cpu: 800, gpu: 1200 }[preset] };
}
