/** The scaling sweep: dense, dense with 2×F, Switch and top-2 at each expert count of the preset, every seed. */
import type { PresetName, SweepDef, SweepRun } from '../../kernel-lib/exp/types.ts';
import { seeded } from '../common.ts';
import { PRESETS } from '../presets.ts';

/** Expert counts per preset (the paper's 2 … 64 where the budget allows). */
export const SCALING_EXPERTS: Record<PresetName, number[]> = {
  quick: [2, 8],
  cpu: [4, 16, 64],
  gpu: [2, 4, 8, 16, 32, 64],
};

/** Steps per preset: 24 runs at cpu fit about 55 minutes on 4 cores (measured step times, README). */
export const SCALING_STEPS: Record<PresetName, number | undefined> = { quick: undefined, cpu: 1400, gpu: 1500 };

export function sweep(preset: PresetName): SweepDef {
  const runs: SweepRun[] = [
    ...seeded(preset, 'dense', { model: 'dense', experts: null }, { ffn: 'dense' }),
    ...seeded(preset, 'dense-2f', { model: 'dense-2f', experts: null }, { ffn: 'dense', dFf: 2 * dFfOf(preset) }),
  ];
  for (const E of SCALING_EXPERTS[preset]) {
    runs.push(...seeded(preset, `switch-e${E}`, { model: 'switch', experts: E }, { router: 'top1', numExperts: E }));
    runs.push(...seeded(preset, `top2-e${E}`, { model: 'top2', experts: E }, { router: 'topk', k: 2, numExperts: E }));
  }
  return { base: {}, runs, steps: SCALING_STEPS[preset] };
}

const dFfOf = (preset: PresetName) => PRESETS[preset].base.dFf ?? 512;

