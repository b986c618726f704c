/**
 * What the analyses share: per-seed final quality, mean curves over seeds, wall-clock time,
 * steps and time to reach a quality, and sizes (parameters, FLOPs per token, epochs).
 */
import { flopsPerToken, parameterCounts } from '../kernel-lib/model/counts.ts';
import { modelConfigOf } from '../kernel-lib/train/model-factory.ts';
import type { LoadedRun, PresetName, SweepRun } from '../kernel-lib/exp/types.ts';
import type { Series } from '../kernel-lib/exp/plots.ts';
import { summarize, type Summary } from '../kernel-lib/exp/stats.ts';
import type { Evidence } from '../kernel-lib/exp/claims.ts';
import { PRESETS } from './presets.ts';

/** Runs with a usable final result (completed). */
export const done = (runs: LoadedRun[]) => runs.filter((r) => r.status === 'completed' && r.final);

/** Runs by group, in first-appearance order. */
export function byGroup(runs: LoadedRun[]): Map<string, LoadedRun[]> {
  const m = new Map<string, LoadedRun[]>();
  for (const r of runs) m.set(r.group, [...(m.get(r.group) ?? []), r]);
  return m;
}

/** Final validation negative log perplexity (the paper's quality measure; higher is better). */
export const finalNlp = (r: LoadedRun) => r.final?.negLogPerplexity ?? NaN;

/** The seeds of one group: one run per seed, for every seed of the preset. */
export function seeded(preset: PresetName, group: string, labels: SweepRun['labels'], config: SweepRun['config'], seeds: number[] = PRESETS[preset].seeds): SweepRun[] {
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
export const TIME_MEANING = 'training time: CPU seconds of the run\'s process on CPU backends (parallel runs share cores), wall seconds on a GPU; evaluation excluded';

/** Cumulative training time (seconds, see {@link stepCostMs}) at each step with metrics. */
export function wallClock(r: LoadedRun): Map<number, number> {
  const out = new Map<number, number>();
  let t = 0;
  let prev = 0;
  for (const row of r.train) {
    t += ((row.step - prev) * stepCostMs(r, row)) / 1000;
    prev = row.step;
    out.set(row.step, t);
  }
  return out;
}

export interface Curve {
  x: number[];
  y: number[];
  se: number[];
}

/** Mean validation quality over seeds at each evaluation step (steps every seed has). */
export function meanEvalCurve(runs: LoadedRun[], axis: 'steps' | 'seconds' = 'steps'): Curve {
  const usable = runs.filter((r) => r.eval.length > 0);
  if (usable.length === 0) return { x: [], y: [], se: [] };
  const steps = usable[0].eval.map((e) => e.step).filter((s) => usable.every((r) => r.eval.some((e) => e.step === s)));
  const x: number[] = [];
  const y: number[] = [];
  const se: number[] = [];
  for (const s of steps) {
    const vals = usable.map((r) => r.eval.find((e) => e.step === s)!.negLogPerplexity);
    const sm = summarize(vals);
    x.push(axis === 'steps' ? s : summarize(usable.map((r) => wallClock(r).get(s) ?? NaN)).mean);
    y.push(sm.mean);
    se.push(Number.isFinite(sm.se) ? sm.se : 0);
  }
  return { x, y, se };
}

/** A plot series from a curve. */
export const seriesOf = (name: string, c: Curve, dashed = false): Series => ({ name, x: c.x, y: c.y, error: c.se, dashed });

/**
 * The first point where a curve reaches `target` (linear interpolation between evaluations),
 * or NaN when it never does.
 */
export function reachAt(x: number[], y: number[], target: number): number {
  for (let i = 0; i < y.length; i++) {
    if (y[i] >= target) {
      if (i === 0) return x[0];
      const f = (target - y[i - 1]) / (y[i] - y[i - 1]);
      return x[i - 1] + f * (x[i] - x[i - 1]);
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
  return reachAt(r.eval.map((e) => clock.get(e.step) ?? NaN), r.eval.map((e) => e.negLogPerplexity), target);
}

/** Parameters (total and active per token) and training FLOPs per token of a run's model. */
export function sizeOf(r: Pick<LoadedRun, 'config'>): { total: number; active: number; flops: number } {
  const m = modelConfigOf(r.config, r.config.vocabSize);
  const p = parameterCounts(m);
  return { total: p.total, active: p.activePerToken, flops: flopsPerToken(m).training };
}

/** Epochs of the training split a run's steps cover (NaN when its record lacks the split's size). */
export function epochs(r: Pick<LoadedRun, 'config' | 'trainTokens'>): number {
  return r.trainTokens ? (r.config.steps * r.config.batchSize * r.config.seqLen) / r.trainTokens : NaN;
}

/** Tokens per second of training time ({@link stepCostMs}), over the run's metric rows but the first window (start-up). */
export function tokensPerSec(r: LoadedRun): number {
  const rows = r.train.length > r.config.logEvery ? r.train.slice(r.config.logEvery) : r.train;
  const ms = rows.reduce((a, t) => a + stepCostMs(r, t), 0);
  return (rows.length * r.config.batchSize * r.config.seqLen * 1000) / ms;
}

/** Mean of the last quarter of a run's training cross-entropy, for the train/validation gap. */
export function lateTrainLoss(r: LoadedRun): number {
  const rows = r.train.slice(Math.floor(r.train.length * 0.75));
  return summarize(rows.map((t) => t.crossEntropy)).mean;
}

/** Summary of a per-seed statistic over a group's completed runs. */
export const over = (runs: LoadedRun[], f: (r: LoadedRun) => number): Summary => summarize(done(runs).map(f));

/** `1.234 ± 0.010` (or the value with 1 seed; '–' without data). */
export function pm(s: Summary, digits = 3): string {
  if (s.n === 0 || !Number.isFinite(s.mean)) return '–';
  return s.n > 1 && Number.isFinite(s.se) ? `${s.mean.toFixed(digits)} ± ${s.se.toFixed(digits)}` : s.mean.toFixed(digits);
}

/** A number for a table cell (null when not finite). */
export const num = (v: number, digits = 4): number | null => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

/**
 * A run's final quality for a claim: its final validation neg. log perplexity; a diverged run
 * counts as the worst plausible model, one that predicts every word uniformly (−ln V), so it
 * is never dropped from its arm.
 */
export function qualityOrUniform(r: LoadedRun): number {
  if (r.status === 'diverged') return -Math.log(r.config.vocabSize);
  return finalNlp(r);
}

/** Whether a run has an outcome a claim can use: completed, or diverged (counted, not dropped). */
export const hasOutcome = (r: LoadedRun) => (r.status === 'completed' && !!r.final) || r.status === 'diverged';

/**
 * Per-seed values of two arms, paired by seed: only seeds where both arms have an outcome
 * (a missing or failed run takes its pair out, and the report names it as missing).
 */
export function pairBySeed(a: LoadedRun[], b: LoadedRun[], f: (r: LoadedRun) => number): { a: number[]; b: number[]; seeds: number[] } {
  const out = { a: [] as number[], b: [] as number[], seeds: [] as number[] };
  for (const ra of a.filter(hasOutcome)) {
    const rb = b.find((x) => x.seed === ra.seed && hasOutcome(x));
    if (!rb) continue;
    out.a.push(f(ra));
    out.b.push(f(rb));
    out.seeds.push(ra.seed);
  }
  return out;
}

/** Paired evidence for a claim rule: per-seed values of arms a and b, and what was measured in words. */
export function pairedEvidence(a: LoadedRun[], b: LoadedRun[], f: (r: LoadedRun) => number, describe: (mean: { a: Summary; b: Summary }) => string): Evidence {
  const p = pairBySeed(a, b, f);
  return { kind: 'paired', ...p, measured: describe({ a: summarize(p.a), b: summarize(p.b) }) };
}

/** Whether the preset decides the paper's claims (false at quick: they say `not assessed`). */
export const assessAt = (preset: PresetName): boolean => PRESETS[preset].assessesPaperClaims;

/** Mean over a run's last quarter of training and its MoE layers of a per-layer metric. */
export function lateMoe(r: LoadedRun, f: (m: LoadedRun['train'][number]['moe'][number]) => number): number {
  const rows = r.train.slice(Math.floor(r.train.length * 0.75));
  return summarize(rows.flatMap((t) => t.moe.map(f))).mean;
}
