/**
 * The stability sweep (Switch Tables 2 and 3): initialisation scale 0.1 vs 1.0, and the router in
 * float32 vs bfloat16 (emulated: logits and softmax output rounded to bfloat16), several seeds
 * each. Without the later stabilisers (no z-loss, no gradient clipping), as in the Switch
 * paper's setting, so instability can show. Claims and rules fixed here, before any run.
 */
import type { ClaimRule } from '../../kernel-lib/exp/claims.ts';
import type { PresetName, SweepDef, SweepRun } from '../../kernel-lib/exp/types.ts';
import { assessAt, seeded } from '../common.ts';

export const STABILITY_EXPERTS: Record<PresetName, number> = { quick: 4, cpu: 8, gpu: 16 };
export const STABILITY_SEEDS: Record<PresetName, number[]> = { quick: [0, 1], cpu: [0, 1, 2], gpu: [0, 1, 2, 3, 4] };
/**
 * Table 3 compares early in training (3.5k of Switch's steps): here the first evaluation at or after this fraction
 * of the steps.
 */
export const EARLY_FRACTION = 0.25;

const ARMS: { initScale: number; routerDtype: 'float32' | 'bfloat16' }[] = [
  { initScale: 0.1, routerDtype: 'float32' },
  { initScale: 1.0, routerDtype: 'float32' },
  { initScale: 0.1, routerDtype: 'bfloat16' },
];

export function claimRules(): ClaimRule[] {
  return [
    {
      id: 'init-early', kind: 'paper', test: 'paired-t', alternative: 'greater',
      claim: 'A 10× smaller initialisation (s = 0.1) gives better quality early in training than s = 1.0',
      source: 'Switch §2.4, Table 3 (−2.72 ± 0.01 vs −3.60 ± 0.68 after 3.5k steps)',
      effect: `validation neg. log perplexity at the first evaluation after ${EARLY_FRACTION * 100}% of the steps, `
        + 's = 0.1 − s = 1.0',
      units: 'nats',
      departure: 'a diverged run counts as a uniform predictor (−ln V)',
    },
    {
      id: 'init-final', kind: 'paper', test: 'paired-t', alternative: 'greater',
      claim: 'The smaller initialisation is still ahead at the end of training',
      source: 'Switch §2.4 (Table 3 reports only the early comparison; this extends it to the end)',
      effect: 'final validation neg. log perplexity, s = 0.1 − s = 1.0', units: 'nats',
      departure: 'a diverged run counts as a uniform predictor (−ln V)',
    },
    {
      id: 'bf16-diverges', kind: 'paper', test: 'fisher-exact',
      claim: 'A bfloat16 router diverges more often than a float32 router',
      source: 'Switch §2.4, Table 2 ("selective precision": the bfloat16 router diverged)',
      effect: 'diverged share, bfloat16 − float32', units: '',
      departure: 'bfloat16 is emulated in the router only (logits and softmax output '
        + 'rounded to bfloat16, round to nearest even; the softmax itself runs in '
        + 'float32); the rest of the model is float32, where Switch ran it in bfloat16',
    },
    {
      id: 'bf16-quality', kind: 'paper', test: 'paired-t', alternative: 'greater',
      claim: 'A float32 router reaches better quality than a bfloat16 router',
      source: 'Switch §2.4, Table 2 (float32 −1.718; bfloat16 diverged)',
      effect: 'final validation neg. log perplexity, float32 − bfloat16 router', units: 'nats',
      departure: 'a diverged run counts as a uniform predictor (−ln V); bfloat16 emulated in the router only',
    },
  ];
}

export function sweep(preset: PresetName): SweepDef {
  const runs: SweepRun[] = ARMS.flatMap(({ initScale, routerDtype }) =>
    seeded(
      preset, `init${initScale}-${routerDtype}`, { initScale, routerDtype }, { initScale, routerDtype },
      STABILITY_SEEDS[preset],
    ));
  return {
    base: { router: 'top1', numExperts: STABILITY_EXPERTS[preset], zCoef: 0, gradClip: 0 }, runs,
    steps: { quick: undefined, cpu: 800, gpu: 3000 }[preset], claims: claimRules(), assessPaperClaims: assessAt(preset),
  };
}

/** This experiment's departures from the paper (the shared ones are read from the runs' configs). */
export function differences(_preset: PresetName): string[] {
  return [
    'Initialisation scales 0.1 and 1.0 compared early (the first evaluation '
      + `after ${EARLY_FRACTION * 100}% of the steps, as Table 3 compares after 3.5k of its `
      + 'steps) and at the end; no gradient clipping in these runs, so instability can show.',
    'The bfloat16 router is emulated: its logits and its softmax output are rounded to bfloat16 '
      + '(round to nearest even) while the softmax runs in float32 and the rest of the model stays '
      + 'float32; the paper ran the whole model in bfloat16 and kept only the router in float32.',
    'A diverged run is never dropped: it counts as the quality of a uniform predictor (−ln V).',
  ];
}
