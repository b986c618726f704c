/**
 * The balance sweep: Switch's auxiliary load-balancing loss (eq. 4) against loss-free balancing
 * (Wang et al. 2024, arXiv 2408.15664: a per-expert bias on the router's scores, moved after
 * every step towards the mean load), both together and neither, for top-1 and top-2, at training
 * capacity factor 1.0 where imbalance costs dropped tokens. The claims and their rules are fixed
 * here, before any run.
 */
import type { ClaimRule } from '../../kernel-lib/exp/claims.ts';
import type { PresetName, SweepDef, SweepRun } from '../../kernel-lib/exp/types.ts';
import { assessAt, seeded } from '../common.ts';

/** The four ways to balance: which of the loss (α) and the bias (γ) is on. */
export const BALANCE_MODES = ['loss', 'bias', 'both', 'none'] as const;
export type BalanceMode = (typeof BALANCE_MODES)[number];
/** The routers compared: Switch's top-1 and GShard's top-2 (top-1 alone at quick, to keep CI short). */
export type BalanceRouter = 'top1' | 'top2';
export const BALANCE_ROUTERS: Record<PresetName, BalanceRouter[]> = {
  quick: ['top1'], cpu: ['top1', 'top2'], gpu: ['top1', 'top2'],
};

/** α of Switch eq. 4 where the loss is on (the paper's 1e-2). */
export const BALANCE_ALPHA = 1e-2;
/** γ, the bias update rate where the bias is on (Wang et al. 2024 use u = 0.001). */
export const BALANCE_GAMMA = 1e-3;
/** Training capacity factor: 1.0, so an unbalanced step drops tokens (evaluation at 2.0, as Switch). */
export const BALANCE_CF = 1.0;
/** The capacity factor of the evaluations (Switch evaluates at 2.0). */
export const BALANCE_EVAL_CF = 2.0;
export const BALANCE_EXPERTS: Record<PresetName, number> = { quick: 4, cpu: 8, gpu: 16 };
export const BALANCE_SEEDS: Record<PresetName, number[]> = { quick: [0, 1], cpu: [0, 1, 2], gpu: [0, 1, 2, 3, 4] };

/** The group name of one arm (`top1-bias`). */
export const armName = (router: BalanceRouter, mode: BalanceMode) => `${router}-${mode}`;

const SOURCE = 'Wang et al. 2024 (arXiv 2408.15664), Table 2 and Fig. 3: Loss-Free Balancing reaches lower '
  + 'validation perplexity and lower MaxVio than the auxiliary loss, at 1B and 3B parameters';
const IMBALANCE = 'load imbalance max_e/mean_e of the experts\' assignment counts per step (1 = balanced), '
  + 'mean over the last quarter of training and the MoE layers';

export function claimRules(preset: PresetName): ClaimRule[] {
  const departure = 'top-1/top-2 over softmax probabilities (the paper: top-6 of 64 over sigmoid scores '
    + 'with shared experts); the bias is added to the probabilities; training capacity factor 1.0 '
    + '(the paper is dropless)';
  return BALANCE_ROUTERS[preset].flatMap((router): ClaimRule[] => {
    const name = router === 'top1' ? 'top-1' : 'top-2';
    return [
      {
        id: `bias-balances-${router}`, kind: 'paper', test: 'paired-t', alternative: 'less',
        claim: `${name}: the loss-free bias balances expert load better than the auxiliary loss`,
        source: SOURCE, effect: `${IMBALANCE}, ${name} bias − ${name} loss`, units: 'max/mean', departure,
      },
      {
        id: `bias-quality-${router}`, kind: 'paper', test: 'paired-t', alternative: 'greater',
        claim: `${name}: the loss-free bias gives better quality than the auxiliary loss`,
        source: SOURCE, effect: `final validation neg. log perplexity, ${name} bias − ${name} loss`, units: 'nats',
        departure,
      },
    ];
  }).concat([{
    id: 'bias-state', kind: 'check', test: 'check',
    claim: 'Runs with γ = 0 carry no router bias; runs with γ > 0 end with a non-zero bias in every MoE layer, '
      + 'with |b_e| ≤ γ·step (b_e moves by at most γ per step)',
    source: 'Wang et al. 2024, Algorithm 1', effect: '', units: '',
  }]);
}

export function sweep(preset: PresetName): SweepDef {
  const runs: SweepRun[] = [];
  for (const router of BALANCE_ROUTERS[preset]) {
    for (const mode of BALANCE_MODES) {
      const loss = mode === 'loss' || mode === 'both';
      const bias = mode === 'bias' || mode === 'both';
      runs.push(...seeded(
        preset, armName(router, mode), { router, mode },
        {
          ...(router === 'top1' ? { router: 'top1', k: 1 } : { router: 'topk', k: 2 }),
          balanceCoef: loss ? BALANCE_ALPHA : 0, biasUpdateRate: bias ? BALANCE_GAMMA : 0,
        },
        BALANCE_SEEDS[preset],
      ));
    }
  }
  return {
    base: {
      numExperts: BALANCE_EXPERTS[preset], capacityFactor: BALANCE_CF, evalCapacityFactor: BALANCE_EVAL_CF, zCoef: 0,
    },
    runs,
    steps: { quick: undefined, cpu: 500, gpu: 3000 }[preset],
    claims: claimRules(preset),
    assessPaperClaims: assessAt(preset),
  };
}

/** This experiment's departures from the paper (the shared ones are read from the runs' configs). */
export function differences(preset: PresetName): string[] {
  return [
    `E = ${BALANCE_EXPERTS[preset]} experts in every other block, top-1 (Switch) and top-2 (GShard) over softmax `
      + 'probabilities; Wang et al. route top-6 of 64 fine-grained experts (plus 2 shared) over sigmoid scores.',
    `The bias is added to the softmax probabilities to choose experts (γ = ${BALANCE_GAMMA}, the paper's u), `
      + 'never to the gates; the paper adds it to sigmoid scores.',
    `Training capacity factor ${BALANCE_CF}: load imbalance then also drops tokens (reported); the paper's models `
      + 'are dropless. Evaluation at capacity factor 2.0, as Switch evaluates.',
    `Auxiliary loss: Switch eq. 4 with α = ${BALANCE_ALPHA}; the paper's baseline uses its own α tuned per model.`,
    'Imbalance is max/mean of the assignment counts of each logged training step (MaxVio_batch + 1), not the '
      + "paper's MaxVio_global over the validation set.",
  ];
}
