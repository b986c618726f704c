/**
 * The upcycle sweep (Komatsuzaki et al. 2022, "Sparse Upcycling", arXiv 2212.05055): from a dense
 * model trained for M steps, M more steps of (a) the dense model continued, (b) the dense model
 * upcycled into Switch (every expert a copy of its FFN, a fresh router), against (c) Switch
 * trained from scratch for the same 2M steps. Every arm is two phases of M steps, the second
 * starting from the first's final weights (`initFrom`) with a fresh AdamW state and its own
 * warm-up and decay, so the three arms differ only in what trains: equal steps, and equal
 * training compute up to Switch's routers. The claims and their rules are fixed here, before any run.
 */
import type { ClaimRule } from '../../kernel-lib/exp/claims.ts';
import type { PresetName, SweepDef, SweepRun } from '../../kernel-lib/exp/types.ts';
import type { TrainConfig } from '../../kernel-lib/train/config.ts';
import { assessAt } from '../common.ts';

export const UPCYCLE_EXPERTS: Record<PresetName, number> = { quick: 4, cpu: 8, gpu: 16 };
export const UPCYCLE_SEEDS: Record<PresetName, number[]> = { quick: [0, 1], cpu: [0, 1, 2], gpu: [0, 1, 2, 3, 4] };
/** M: the steps of each phase (quick: half the preset's 120, so each arm trains 120 steps in all). */
export const PHASE_STEPS: Record<PresetName, number> = { quick: 60, cpu: 600, gpu: 1500 };

/** The groups: the first phase (dense, Switch), then the second, each from the same seed's first-phase run. */
export const GROUPS = {
  'dense-pre': { phase: 1, model: 'dense', from: null },
  'switch-pre': { phase: 1, model: 'switch', from: null },
  'dense-continued': { phase: 2, model: 'dense', from: 'dense-pre' },
  upcycled: { phase: 2, model: 'switch', from: 'dense-pre' },
  'switch-continued': { phase: 2, model: 'switch', from: 'switch-pre' },
} as const;
export type UpcycleGroup = keyof typeof GROUPS;

const SOURCE = 'Komatsuzaki et al. 2022 (arXiv 2212.05055), Figs. 2 and 3: upcycled models beat both dense '
  + 'continuation and MoE models trained from scratch for the same extra compute';

export function claimRules(): ClaimRule[] {
  const departure = 'each phase has its own warm-up and cosine decay and a fresh AdamW state (in every arm alike); '
    + 'the paper continues the dense run\'s schedule and optimizer state, at 100k+ steps of T5 models';
  return [
    {
      id: 'upcycle-beats-dense', kind: 'paper', test: 'paired-t', alternative: 'greater',
      claim: 'Upcycling the dense model into Switch beats continuing the dense model for the same extra steps',
      source: SOURCE, effect: 'final validation neg. log perplexity, upcycled − dense continued', units: 'nats',
      departure,
    },
    {
      id: 'upcycle-beats-scratch', kind: 'paper', test: 'paired-t', alternative: 'greater',
      claim: 'Upcycling beats Switch trained from scratch for the same total steps (dense steps counted)',
      source: SOURCE, effect: 'final validation neg. log perplexity, upcycled − Switch from scratch', units: 'nats',
      departure,
    },
    {
      id: 'upcycle-starts-from-dense', kind: 'check', test: 'check',
      claim: 'Each second-phase run started from its own seed\'s first-phase run at its final step, by the trainer\'s '
        + 'records: upcycled runs with every MoE block made from the dense FFN, continued runs warm-started',
      source: 'Komatsuzaki et al. 2022 §3.1', effect: '', units: '',
    },
  ];
}

/** One group's runs, one per seed, each second-phase run from the same seed's source. */
function groupRuns(preset: PresetName, group: UpcycleGroup): SweepRun[] {
  const g = GROUPS[group];
  const config: Partial<TrainConfig> = {
    ...(g.model === 'dense'
      ? { ffn: 'dense' }
      : { ffn: 'moe', router: 'top1', k: 1, numExperts: UPCYCLE_EXPERTS[preset] }),
    ...(g.from ? { initFrom: `runs/${g.from}-s{seed}` } : {}),
  };
  return UPCYCLE_SEEDS[preset].map((seed) => ({
    id: `${group}-s${seed}`, group, seed, config, labels: { phase: g.phase, model: g.model, from: g.from },
  }));
}

export function sweep(preset: PresetName): SweepDef {
  // First-phase groups first: a run starts from an earlier run of the sweep (exp/sources.ts).
  const runs = (Object.keys(GROUPS) as UpcycleGroup[]).flatMap((group) => groupRuns(preset, group));
  return {
    base: { capacityFactor: 1.25, evalCapacityFactor: 2.0, zCoef: 0 }, runs,
    steps: PHASE_STEPS[preset], claims: claimRules(), assessPaperClaims: assessAt(preset),
  };
}

/** This experiment's departures from the paper (the shared ones are read from the runs' configs). */
export function differences(preset: PresetName): string[] {
  return [
    `Switch with E = ${UPCYCLE_EXPERTS[preset]} experts in every other block, upcycled from a dense model of the same `
      + 'shape; the paper upcycles T5 and ViT models with 32 experts in every other block (Base, Large, XL).',
    'Two phases of equal steps in every arm, each with its own warm-up and cosine decay and a fresh AdamW state; '
      + 'the paper continues the dense run\'s schedule (and optionally its optimizer state) and measures extra '
      + 'compute up to about 100% of the dense pretraining.',
    'The router is initialised as a fresh run initialises it (the new run\'s seed); the paper also uses a fresh '
      + 'router, with Expert Choice routing in its encoders and top-1/top-2 token choice in decoders.',
    'Compute is compared in steps: Switch (top-1, expert width = dense FFN width) costs the dense model\'s FLOPs '
      + 'per token plus its routers (the table gives both).',
  ];
}
