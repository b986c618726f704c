/**
 * The granularity sweep: at equal active FLOPs per token and equal total expert parameters, E
 * experts of width F (top-1) against m·E experts of width F/m with k = m (Krajewski et al. 2024,
 * arXiv 2402.07871; DeepSeekMoE, Dai et al. 2024, arXiv 2401.06066), with and without one shared
 * expert carved out of the fine-grained ones (DeepSeekMoE's shared expert isolation: one of the
 * m·E experts becomes shared and k drops by one, so the totals stay equal). Dropless, so dropped
 * tokens do not confound the comparison. The claims and their rules are fixed here, before any run.
 */
import type { ClaimRule } from '../../kernel-lib/exp/claims.ts';
import type { PresetName, SweepDef, SweepRun } from '../../kernel-lib/exp/types.ts';
import type { TrainConfig } from '../../kernel-lib/train/config.ts';
import { assessAt, seeded } from '../common.ts';
import { PRESETS } from '../presets.ts';

/** Granularities m (experts m·E of width F/m, k = m) per preset; 1 is Switch. */
export const GRANULARITIES: Record<PresetName, number[]> = { quick: [1, 4], cpu: [1, 2, 4], gpu: [1, 2, 4, 8] };
/** E at granularity 1. */
export const GRANULARITY_EXPERTS: Record<PresetName, number> = { quick: 4, cpu: 8, gpu: 8 };
export const GRANULARITY_SEEDS: Record<PresetName, number[]> = {
  quick: [0, 1], cpu: [0, 1, 2], gpu: [0, 1, 2, 3, 4],
};

/** The group name of one arm (`m4`, `m4-shared`). */
export const armName = (m: number, shared: boolean) => `m${m}${shared ? '-shared' : ''}`;

/**
 * The MoE settings of granularity m (with one shared expert when `shared`): m·E experts of width
 * F/m with k = m; shared: m·E − 1 routed experts, k = m − 1, and one shared expert of width F/m.
 */
export function granularConfig(preset: PresetName, m: number, shared: boolean): Partial<TrainConfig> {
  const E = GRANULARITY_EXPERTS[preset];
  const F = PRESETS[preset].base.dFf!;
  if (F % m !== 0) throw new Error(`granularity ${m} does not divide the FFN width ${F}`);
  const k = shared ? m - 1 : m;
  return {
    ...(k === 1 ? { router: 'top1' as const, k: 1 } : { router: 'topk' as const, k }),
    numExperts: m * E - (shared ? 1 : 0), expertDff: F / m,
    ...(shared ? { numSharedExperts: 1, sharedDff: F / m } : {}),
  };
}

const SOURCE = 'Krajewski et al. 2024 (arXiv 2402.07871), Fig. 1 and §5: granularity above 1 lowers the loss at '
  + 'equal compute; DeepSeekMoE (arXiv 2401.06066) §4 and Fig. 3: fine-grained expert segmentation helps';

export function claimRules(preset: PresetName): ClaimRule[] {
  const departure = 'a few hundred steps of a 4-block model on Brown; the papers train billions of tokens, where '
    + 'the benefit of granularity grows with the training budget (Krajewski et al.)';
  const finer = GRANULARITIES[preset].filter((m) => m > 1);
  const rules: ClaimRule[] = finer.map((m) => ({
    id: `finer-${m}`, kind: 'paper', test: 'paired-t', alternative: 'greater',
    claim: `${m}× finer experts (${m}·E of width F/${m}, k = ${m}) give better quality than E experts of width F `
      + '(top-1) at equal active FLOPs and total parameters',
    source: SOURCE, effect: `final validation neg. log perplexity, m = ${m} − m = 1`, units: 'nats', departure,
  }));
  rules.push({
    id: 'shared-helps', kind: 'paper', test: 'paired-t', alternative: 'greater',
    claim: 'At granularity 4, turning one fine-grained expert into a shared expert improves quality',
    source: 'DeepSeekMoE (arXiv 2401.06066) §4.5 and Fig. 3 (shared expert isolation)',
    effect: 'final validation neg. log perplexity, m = 4 with one shared expert − m = 4', units: 'nats', departure,
  });
  rules.push({
    id: 'equal-cost', kind: 'check', test: 'check',
    claim: 'Every arm has the same training FLOPs per token and the same parameters once its routers (D·E '
      + 'weights per MoE layer) are set aside, by the library\'s counts (model/counts.ts)',
    source: 'Krajewski et al. 2024 §3 (granularity at fixed active and total parameters)', effect: '', units: '',
  });
  return rules;
}

export function sweep(preset: PresetName): SweepDef {
  const runs: SweepRun[] = [];
  for (const m of GRANULARITIES[preset]) {
    for (const shared of m > 1 ? [false, true] : [false]) {
      runs.push(...seeded(
        preset, armName(m, shared), { granularity: m, shared },
        granularConfig(preset, m, shared), GRANULARITY_SEEDS[preset],
      ));
    }
  }
  return {
    base: { capacityFactor: null, evalCapacityFactor: null, zCoef: 0 }, runs,
    steps: { quick: undefined, cpu: 500, gpu: 3000 }[preset], claims: claimRules(preset),
    assessPaperClaims: assessAt(preset),
  };
}

/** This experiment's departures from the papers (the shared ones are read from the runs' configs). */
export function differences(preset: PresetName): string[] {
  return [
    `Granularities ${GRANULARITIES[preset].join(', ')} from E = ${GRANULARITY_EXPERTS[preset]} experts of the dense `
      + 'FFN width, in every other block; Krajewski et al. fit a scaling law over granularities up to 16 and '
      + 'model sizes up to billions of parameters.',
    'Granularity 1 routes top-1 with the router probability as its gate (Switch); finer ones route top-k with '
      + 'the k gates renormalised to sum to 1 (GShard, Mixtral); DeepSeekMoE does not renormalise.',
    'The shared-expert arms carve one fine-grained expert out as shared (k − 1 routed), as DeepSeekMoE\'s '
      + 'isolation does; DeepSeekMoE sizes its shared experts from the same budget.',
    'Dropless training and evaluation (no capacity limit), so dropped tokens do not confound granularity.',
  ];
}
