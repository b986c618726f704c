/**
 * The upcycle analysis: validation quality over both phases per arm, the second phase's final
 * quality paired by seed, the compute each arm spent, and the evidence for the claims (the rules
 * are in sweep.ts).
 */
import { basename } from 'node:path';
import type { Evidence } from '../../kernel-lib/exp/claims.ts';
import { lineFigure, type Series } from '../../kernel-lib/exp/plots.ts';
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { moeLayerIndices } from '../../kernel-lib/model/config.ts';
import type { Table } from '../../kernel-lib/report/types.ts';
import {
  PAIRED_DELTA_CAPTION, byGroup, done, finalNegLogPerplexity, meanEvalCurve, meanPlusMinus, pairedDeltaCell,
  pairedEvidence, qualityOrUniform, sizeOf, summaryOverRuns,
} from '../common.ts';
import { GROUPS, type UpcycleGroup } from './sweep.ts';

/** The three arms: a second-phase group and the first-phase group it starts from. */
const ARMS = [
  { name: 'dense continued', second: 'dense-continued', first: 'dense-pre' },
  { name: 'upcycled to Switch', second: 'upcycled', first: 'dense-pre' },
  { name: 'Switch from scratch', second: 'switch-continued', first: 'switch-pre' },
] as const satisfies readonly { name: string; second: UpcycleGroup; first: UpcycleGroup }[];

/**
 * What is wrong with how a second-phase run started, from its own record (environment.json's
 * initFrom, written by the trainer), or null: it must have started from its own seed's run of
 * the group it continues, at that run's final step, upcycled (every MoE block made from the dense
 * FFN) when that run was dense and this one is Switch, a warm start otherwise.
 */
export function startProblem(r: LoadedRun, sourceSteps: number): string | null {
  const from = GROUPS[r.group as UpcycleGroup]?.from;
  const init = r.initFrom;
  if (!from) return `${r.id} is not a second-phase run`;
  if (!init) return `${r.id} has no initFrom record`;
  if (basename(init.path) !== `${from}-s${r.seed}`) return `${r.id} started from ${init.path}`;
  if (init.step !== sourceSteps) return `${r.id} started from step ${init.step}, not ${sourceSteps}`;
  const upcycle = GROUPS[from].model === 'dense' && GROUPS[r.group as UpcycleGroup].model === 'switch';
  if (init.kind !== (upcycle ? 'upcycle' : 'warm start')) return `${r.id} was a ${init.kind}`;
  const blocks = moeLayerIndices(r.config);
  if (upcycle && init.upcycledBlocks.join() !== blocks.join()) {
    return `${r.id} upcycled blocks ${init.upcycledBlocks.join(', ')}, its MoE blocks are ${blocks.join(', ')}`;
  }
  return null;
}

/** The upcycle experiment's report sections, summary table and the evidence for its claims. */
export function analyze(runs: LoadedRun[]): Analysis {
  const groups = byGroup(runs);
  const group = (g: UpcycleGroup) => groups.get(g) ?? [];
  const steps = runs[0]?.config.steps ?? 0;

  const series: Series[] = ARMS.flatMap((arm, i) => {
    const first = meanEvalCurve(group(arm.first));
    const second = meanEvalCurve(group(arm.second));
    // The dense first phase is shared by two arms: drawn once.
    const firstShown = i === 0 || arm.first !== ARMS[i - 1].first;
    return [
      ...(firstShown
        ? [{ name: `${GROUPS[arm.first].model} (phase 1)`, x: first.x, y: first.y, error: first.se, dashed: true }]
        : []),
      { name: arm.name, x: second.x.map((s) => s + steps), y: second.y, error: second.se },
    ];
  });
  const quality = lineFigure({
    id: 'quality-vs-total-steps', title: 'Validation quality over both phases', x: 'total training steps',
    y: 'neg. log perplexity', series,
    caption: `Dashed: the first phase (steps 0–${steps}); solid: the second, from the first phase's final weights with `
      + 'a fresh optimizer and schedule. Mean over seeds ± standard error on the fixed evaluation batches.',
  });

  const table: Table = {
    id: 'upcycle',
    title: 'Per arm after both phases (mean ± standard error over seeds)',
    columns: ['arm', 'phase 1', 'phase 2', 'total steps', 'training FLOPs (both phases)',
      'final neg. log ppl', 'paired Δ vs dense continued [95% CI]', 'paired Δ vs Switch from scratch [95% CI]',
      'seeds'],
    caption: PAIRED_DELTA_CAPTION,
    rows: ARMS.map((arm) => {
      const [first, second] = [group(arm.first), group(arm.second)];
      /** Training FLOPs of one phase: per token, times the tokens of a step, times the steps. */
      const flops = (g: LoadedRun[]) =>
        (g[0] ? sizeOf(g[0]).flops * g[0].config.batchSize * g[0].config.seqLen * steps : NaN);
      return [
        arm.name, GROUPS[arm.first].model, GROUPS[arm.second].model, 2 * steps, flops(first) + flops(second),
        meanPlusMinus(summaryOverRuns(second, finalNegLogPerplexity)),
        pairedDeltaCell(second, group('dense-continued')), pairedDeltaCell(second, group('switch-continued')),
        done(second).length,
      ];
    }),
  };

  const evidence: Record<string, Evidence> = {};
  const [upcycled, dense, scratch] = [group('upcycled'), group('dense-continued'), group('switch-continued')];
  if (upcycled.length && dense.length) {
    evidence['upcycle-beats-dense'] = pairedEvidence(upcycled, dense, qualityOrUniform, (m) =>
      `upcycled ${m.a.mean.toFixed(4)} vs dense continued ${m.b.mean.toFixed(4)}`);
  }
  if (upcycled.length && scratch.length) {
    evidence['upcycle-beats-scratch'] = pairedEvidence(upcycled, scratch, qualityOrUniform, (m) =>
      `upcycled ${m.a.mean.toFixed(4)} vs Switch from scratch ${m.b.mean.toFixed(4)}`);
  }
  const secondPhase = done(runs.filter((r) => GROUPS[r.group as UpcycleGroup]?.phase === 2));
  const problems = secondPhase.map((r) => startProblem(r, steps)).filter((p): p is string => p !== null);
  evidence['upcycle-starts-from-dense'] = {
    kind: 'check', pass: secondPhase.length > 0 && problems.length === 0,
    measured: problems.length
      ? `${problems.length} run(s) did not start as they should: ${problems.join('; ')}`
      : `${secondPhase.length} second-phase run(s), each from its own seed's first-phase run at step ${steps} `
        + '(its records): upcycled runs with every MoE block made from the dense FFN, continued ones warm-started',
  };

  return {
    evidence,
    sections: [{
      heading: 'Sparse upcycling',
      paragraphs: [
        'Upcycling copies the dense model\'s FFN into every expert of each MoE block and gives the block a new router; '
          + 'everything else is copied. With top-1 the upcycled layer first outputs p·FFN(x), p the router\'s top '
          + `probability, so it starts below the dense model and must learn to route. Each phase is ${steps} steps.`,
      ],
      figures: [quality],
      tables: [table],
    }],
    summary: table,
  };
}
