/**
 * The specialisation sweep: one Switch model per seed, with routing snapshots of a fixed
 * validation sample spread over training (routing-dump.ts), which the analysis reads.
 */
import type { PresetName, SweepDef } from '../../kernel-lib/exp/types.ts';
import { seeded } from '../common.ts';

export const SPECIALIZATION_EXPERTS: Record<PresetName, number> = { quick: 4, cpu: 8, gpu: 16 };
export const SNAPSHOTS: Record<PresetName, number> = { quick: 3, cpu: 8, gpu: 10 };

export function sweep(preset: PresetName): SweepDef {
  const E = SPECIALIZATION_EXPERTS[preset];
  return { base: { router: 'top1', numExperts: E }, runs: seeded(preset, `switch-e${E}`, { model: 'switch', experts: E }, {}), snapshots: SNAPSHOTS[preset], steps: { quick: undefined, cpu: 3000, gpu: 2000 }[preset] };
}
