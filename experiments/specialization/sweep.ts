/**
 * The specialisation sweep: one Switch model per seed, with routing snapshots of a fixed
 * validation sample spread over training (routing-dump.ts), which the analysis reads. The
 * claim and its rule are fixed here, before any run.
 */
import type { ClaimRule } from '../../kernel-lib/exp/claims.ts';
import type { PresetName, SweepDef } from '../../kernel-lib/exp/types.ts';
import { assessAt, seeded } from '../common.ts';

export const SPECIALIZATION_EXPERTS: Record<PresetName, number> = { quick: 4, cpu: 8, gpu: 16 };
export const SNAPSHOTS: Record<PresetName, number> = { quick: 3, cpu: 8, gpu: 10 };
export const SPECIALIZATION_SEEDS: Record<PresetName, number[]> = {
  quick: [0, 1], cpu: [0, 1, 2, 3, 4], gpu: [0, 1, 2, 3, 4],
};

export function claimRules(): ClaimRule[] {
  return [{
    id: 'pos-specialisation', kind: 'paper', test: 'paired-t', alternative: 'greater',
    claim: 'Experts specialise during training: routing carries more information '
      + 'about a token\'s part of speech than the untrained router does',
    source: 'ST-MoE §7, Table 13 (Switch has only prose)',
    effect: 'NMI(expert; part of speech) at the end − at step 0, same seed, layers averaged within a seed',
    units: 'NMI',
    departure: 'part of speech of the input token in a causal LM on '
      + 'Brown (ST-MoE inspects encoder experts on C4 by token type)',
  }];
}

export function sweep(preset: PresetName): SweepDef {
  const E = SPECIALIZATION_EXPERTS[preset];
  return {
    base: { router: 'top1', numExperts: E },
    runs: seeded(preset, `switch-e${E}`, { model: 'switch', experts: E }, {}, SPECIALIZATION_SEEDS[preset]),
    snapshots: SNAPSHOTS[preset], steps: { quick: undefined, cpu: 1000, gpu: 3000 }[preset], claims: claimRules(),
    assessPaperClaims: assessAt(preset),
  };
}

/** This experiment's departures from the paper (the shared ones are read from the runs' configs). */
export function differences(_preset: PresetName): string[] {
  return [
    "Specialisation is measured as the normalised mutual information between a token's expert and its part of "
      + "speech (Brown's tags), genre and word, against the same seed's untrained router (step 0) and against "
      + "shuffled labels; ST-MoE (§7) inspects encoder experts on C4 by token type, and Switch reports none.",
    'Layers within a seed are averaged, not counted as independent; seeds are the unit of the test.',
  ];
}
