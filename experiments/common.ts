/**
 * What the analyses share: per-seed final quality, mean curves over seeds, wall-clock time,
 * steps and time to reach a quality, and sizes (parameters, FLOPs per token, epochs).
 */
import { flopsPerToken, parameterCounts } from '../kernel-lib/model/counts.ts';
import { modelConfigOf } from '../kernel-lib/train/model-factory.ts';
import type { LoadedRun, PresetName, SweepRun } from '../kernel-lib/exp/types.ts';
import type { Series } from '../kernel-lib/exp/plots.ts';
import { pairedTest, summarize, type Summary } from '../kernel-lib/exp/stats.ts';
import type { Evidence } from '../kernel-lib/exp/claims.ts';
import { PRESETS } from './presets.ts';

/** Runs with a usable final result (completed). */
export const done = (runs: LoadedRun[]) => runs.filter((r) => r.status === 'completed' && r.final);

/** Runs by group, in first-appearance order. */
export function byGroup(runs: LoadedRun[]): Map<string, LoadedRun[]> {
  const groups = new Map<string, LoadedRun[]>();
  for (const r of runs) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  return groups;
}

/** Final validation negative log perplexity (the paper's quality measure; higher is better). */
export const finalNegLogPerplexity = (r: LoadedRun) => r.final?.negLogPerplexity ?? NaN;

/** The seeds of one group: one run per seed, for every seed of the preset. */
export function seeded(
  preset: PresetName, group: string, labels: SweepRun['labels'], config: SweepRun['config'],
  seeds: number[] = PRESETS[preset].seeds,
): SweepRun[] {
  return seeds.map((seed) => ({ id: `${group}-s${seed}`, group, seed, config, labels }));
}

/**
 * Milliseconds one step of a run costs: its process's CPU time on the CPU backends (parallel
 * runs share the cores, which inflates wall time unevenly; CPU time is what the step computed),
 * wall time on a GPU (and for records without CPU time).
 */
export function stepCostMs(r: LoadedRun, row: LoadedRun['train'][number]): number {
  return !r.device?.gpu && row.cpuMs > 0 ? row.cpuMs : row.stepMs;
}

/** What {@link stepCostMs} measures, for axis titles and captions. */
export const TIME_MEANING = 'training time: CPU seconds of the run\'s process on CPU backends '
  + '(parallel runs share cores), wall seconds on a GPU; evaluation excluded';

/** Cumulative training time (seconds, see {@link stepCostMs}) at each step with metrics. */
export function wallClock(r: LoadedRun): Map<number, number> {
  const out = new Map<number, number>();
  let seconds = 0;
  let previousStep = 0;
  for (const row of r.train) {
    seconds += ((row.step - previousStep) * stepCostMs(r, row)) / 1000;
    previousStep = row.step;
    out.set(row.step, seconds);
  }
  return out;
}

/** A curve over steps or seconds: the mean over seeds at each point and its standard error. */
export interface Curve {
  x: number[];
  y: number[];
  se: number[];
}

/** Mean validation quality over seeds at each evaluation step (steps every seed has). */
export function meanEvalCurve(runs: LoadedRun[], axis: 'steps' | 'seconds' = 'steps'): Curve {
  const usable = runs.filter((r) => r.eval.length > 0);
  if (usable.length === 0) return { x: [], y: [], se: [] };
  const steps = usable[0].eval.map((e) => e.step)
    .filter((step) => usable.every((r) => r.eval.some((e) => e.step === step)));
  const x: number[] = [];
  const y: number[] = [];
  const se: number[] = [];
  for (const step of steps) {
    const values = usable.map((r) => r.eval.find((e) => e.step === step)!.negLogPerplexity);
    const overSeeds = summarize(values);
    x.push(axis === 'steps' ? step : summarize(usable.map((r) => wallClock(r).get(step) ?? NaN)).mean);
    y.push(overSeeds.mean);
    se.push(Number.isFinite(overSeeds.se) ? overSeeds.se : 0);
  }
  return { x, y, se };
}

/** A plot series from a curve. */
export const seriesOf = (name: string, curve: Curve, dashed = false): Series =>
  ({ name, x: curve.x, y: curve.y, error: curve.se, dashed });

/**
 * The first point where a curve reaches `target` (linear interpolation between evaluations),
 * or NaN when it never does.
 */
export function reachAt(x: number[], y: number[], target: number): number {
  for (let i = 0; i < y.length; i++) {
    if (y[i] >= target) {
      if (i === 0) return x[0];
      const fraction = (target - y[i - 1]) / (y[i] - y[i - 1]);
      return x[i - 1] + fraction * (x[i] - x[i - 1]);
    }
  }
  return NaN;
}

/** Step at which one run's validation quality first reaches `target`. */
export function stepsToReach(r: LoadedRun, target: number): number {
  return reachAt(r.eval.map((e) => e.step), r.eval.map((e) => e.negLogPerplexity), target);
}

/** Training seconds until one run's validation quality first reaches `target`. */
export function secondsToReach(r: LoadedRun, target: number): number {
  const clock = wallClock(r);
  return reachAt(
    r.eval.map((e) => clock.get(e.step) ?? NaN), r.eval.map((e) => e.negLogPerplexity), target,
  );
}

/** Parameters (total and active per token) and training FLOPs per token of a run's model. */
export function sizeOf(r: Pick<LoadedRun, 'config'>): { total: number; active: number; flops: number } {
  const model = modelConfigOf(r.config, r.config.vocabSize);
  const parameters = parameterCounts(model);
  return { total: parameters.total, active: parameters.activePerToken, flops: flopsPerToken(model).training };
}

/** Epochs of the training split a run's steps cover (NaN when its record lacks the split's size). */
export function epochs(r: Pick<LoadedRun, 'config' | 'trainTokens'>): number {
  return r.trainTokens ? (r.config.steps * r.config.batchSize * r.config.seqLen) / r.trainTokens : NaN;
}

/**
 * Tokens per second of training time ({@link stepCostMs}), over the run's metric rows but the
 * first window (start-up).
 */
export function tokensPerSec(r: LoadedRun): number {
  const rows = r.train.length > r.config.logEvery ? r.train.slice(r.config.logEvery) : r.train;
  const totalMs = rows.reduce((sum, row) => sum + stepCostMs(r, row), 0);
  return (rows.length * r.config.batchSize * r.config.seqLen * 1000) / totalMs;
}

/** Mean of the last quarter of a run's training cross-entropy, for the train/validation gap. */
export function lateTrainLoss(r: LoadedRun): number {
  const rows = r.train.slice(Math.floor(r.train.length * 0.75));
  return summarize(rows.map((t) => t.crossEntropy)).mean;
}

/** Summary of a per-seed statistic over a group's completed runs. */
export const summaryOverRuns = (runs: LoadedRun[], statistic: (r: LoadedRun) => number): Summary =>
  summarize(done(runs).map(statistic));

/** `mean ± se` as `1.234 ± 0.010` (or the mean alone with 1 seed; '–' without data). */
export function meanPlusMinus(summary: Summary, digits = 3): string {
  if (summary.n === 0 || !Number.isFinite(summary.mean)) return '–';
  return summary.n > 1 && Number.isFinite(summary.se)
    ? `${summary.mean.toFixed(digits)} ± ${summary.se.toFixed(digits)}`
    : summary.mean.toFixed(digits);
}

/** A number for a table cell, rounded to `digits` decimals (null when not finite). */
export const tableNumber = (value: number, digits = 4): number | null =>
  (Number.isFinite(value) ? Number(value.toFixed(digits)) : null);

/**
 * A run's final quality for a claim: its final validation neg. log perplexity; a diverged run
 * counts as the worst plausible model, one that predicts every word uniformly (−ln V), so it
 * is never dropped from its arm.
 */
export function qualityOrUniform(r: LoadedRun): number {
  if (r.status === 'diverged') return -Math.log(r.config.vocabSize);
  return finalNegLogPerplexity(r);
}

/** Whether a run has an outcome a claim can use: completed, or diverged (counted, not dropped). */
export const hasOutcome = (r: LoadedRun) => (r.status === 'completed' && !!r.final) || r.status === 'diverged';

/**
 * Per-seed values of two arms, paired by seed: only seeds where both arms have an outcome
 * (a missing or failed run takes its pair out, and the report names it as missing).
 */
export function pairBySeed(
  a: LoadedRun[], b: LoadedRun[], f: (r: LoadedRun) => number,
): { a: number[]; b: number[]; seeds: number[] } {
  const out = { a: [] as number[], b: [] as number[], seeds: [] as number[] };
  for (const runA of a.filter(hasOutcome)) {
    const runB = b.find((x) => x.seed === runA.seed && hasOutcome(x));
    if (!runB) continue;
    out.a.push(f(runA));
    out.b.push(f(runB));
    out.seeds.push(runA.seed);
  }
  return out;
}

/** Paired evidence for a claim rule: per-seed values of arms a and b, and what was measured in words. */
export function pairedEvidence(
  a: LoadedRun[], b: LoadedRun[], f: (r: LoadedRun) => number,
  describe: (mean: { a: Summary; b: Summary }) => string,
): Evidence {
  const paired = pairBySeed(a, b, f);
  return { kind: 'paired', ...paired, measured: describe({ a: summarize(paired.a), b: summarize(paired.b) }) };
}

/**
 * A table cell with the paired difference of two arms' final quality, a − b (diverged runs count
 * as −ln V, {@link qualityOrUniform}), and its two-sided 95% interval: `0.0125 [-0.0040, 0.0290]`;
 * '–' for an arm against itself or with fewer than two seeds paired.
 */
export function pairedDeltaCell(a: LoadedRun[], b: LoadedRun[]): string {
  const paired = pairBySeed(a, b, qualityOrUniform);
  if (a[0]?.group === b[0]?.group || paired.a.length < 2) return '–';
  const t = pairedTest(paired.a, paired.b, { alternative: 'two-sided' });
  return `${t.effect.toFixed(4)} [${t.ci95[0].toFixed(4)}, ${t.ci95[1].toFixed(4)}]`;
}

/** The caption of a table with {@link pairedDeltaCell} columns: what the difference is, how a diverged run counts. */
export const PAIRED_DELTA_CAPTION = 'Paired Δ: the mean over seeds of this arm\'s final neg. log perplexity minus the '
  + 'reference arm\'s at the same seed, with its two-sided 95% Student t interval; a diverged run counts as '
  + '−ln V (a model that predicts every token uniformly), never dropped. Mean ± standard error columns average '
  + 'the finished runs.';

/** Whether the preset decides the paper's claims (false at quick: they say `not assessed`). */
export const assessAt = (preset: PresetName): boolean => PRESETS[preset].assessesPaperClaims;

/** Mean over a run's last quarter of training and its MoE layers of a per-layer metric. */
export function lateMoe(r: LoadedRun, f: (layer: LoadedRun['train'][number]['moe'][number]) => number): number {
  const rows = r.train.slice(Math.floor(r.train.length * 0.75));
  return summarize(rows.flatMap((t) => t.moe.map(f))).mean;
}
