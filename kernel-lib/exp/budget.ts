/**
 * `--budget <minutes>`: a short calibration times one training step of each configuration of
 * the sweep (in child processes, `jobs` at a time, so under the same load as the sweep), then
 * one step count is chosen for every run so that the whole sweep fits the budget. A
 * comparison keeps equal steps, so the slowest configuration sets the pace for all.
 *
 * Estimate of the sweep's wall time for S steps with J processes:
 *   (Σ_runs (startup + S·t_run + evaluations) ) / min(J, runs) × 1.1 (uneven packing),
 * and no single run may take longer than the budget by itself, nor a run together with the runs it
 * starts from (`initFrom`, sources.ts), which run before it.
 */
import { spawn } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import type { ConcreteBackend } from '../backend/device.ts';
import { timeInterleaved } from '../bench/timing.ts';
import { AdamW } from '../train/optimizer.ts';
import { createModel } from '../train/model-factory.ts';
import { createTrainStep } from '../train/step.ts';
import { MAX_STEPS, type TrainConfig } from '../train/config.ts';
import { runOneCommand } from './runner.ts';
import { sourceIndices } from './sources.ts';
import type { SweepFile } from './types.ts';

export interface StepTiming {
  /** Median wall time of one training step, ms. */
  msPerStep: number;
  /** Process start to the first timed step (runtime, corpus, backend, model), ms. */
  startupMs: number;
}

/** Times `steps` training steps of `cfg` on synthetic batches in this process (after warm-up). */
export async function timeTrainSteps(cfg: TrainConfig, steps = 5, warmup = 2): Promise<number> {
  const V = cfg.vocabSize;
  const N = cfg.batchSize * cfg.seqLen;
  const ids = Int32Array.from({ length: N }, (_, i) => (i * 2654435761) % V >>> 0);
  const targets = Int32Array.from({ length: N }, (_, i) => ids[(i + 1) % N]);
  const model = createModel(cfg, V);
  const params = model.namedVariables();
  const opt = new AdamW(params, { beta1: cfg.beta1, beta2: cfg.beta2, epsilon: cfg.epsilon, weightDecay: cfg.weightDecay });
  try {
    const stepper = createTrainStep(model, params, opt, { batchSize: cfg.batchSize, seqLen: cfg.seqLen, seed: cfg.seed, gradClip: cfg.gradClip });
    let step = 0;
    const [t] = await timeInterleaved([() => tf.tidy(() => tf.sum(stepper.run(ids, targets, step++, cfg.lr)) as tf.Scalar)], warmup, steps);
    return t.medianMs;
  } finally {
    model.dispose();
    opt.dispose();
  }
}

/** Runs `exp calibrate` for one run index in a child process and returns its timing. */
function calibrateChild(dir: string, index: number, backend: ConcreteBackend): Promise<StepTiming> {
  const { command, args, cwd } = runOneCommand(dir, index, backend);
  const calArgs = args.map((a) => (a === 'run-one' ? 'calibrate' : a));
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, calArgs, { cwd, env: { ...process.env, SWITCHYARD_BACKEND: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`calibration of run ${index} failed (exit ${code}): ${err.trim().split('\n').pop()}`));
      const { msPerStep, timedMs } = JSON.parse(out) as { msPerStep: number; timedMs: number };
      resolve({ msPerStep, startupMs: performance.now() - t0 - timedMs });
    });
  });
}

export interface BudgetPlan {
  steps: number;
  /** Per group: its timing. */
  timings: Record<string, StepTiming>;
  /** Estimated wall time of the sweep, minutes. */
  estimateMinutes: number;
}

/**
 * Times one run of each group and picks the steps that fit `minutes`.
 * @throws naming the budget and what one step of the sweep needs, when not even `minSteps` fit.
 */
export async function planBudget(dir: string, sweep: SweepFile, minutes: number, jobs: number, backend: ConcreteBackend, minSteps = 10): Promise<BudgetPlan> {
  if (!(minutes > 0) || !Number.isFinite(minutes)) throw new Error(`--budget must be a number of minutes > 0, got ${minutes}`);
  const firstOfGroup = new Map<string, number>();
  sweep.runs.forEach((r, i) => firstOfGroup.has(r.group) || firstOfGroup.set(r.group, i));
  const groups = [...firstOfGroup.entries()];
  const timings: Record<string, StepTiming> = {};
  const queue = [...groups];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(jobs, groups.length) }, async () => {
      for (let g = queue.shift(); g; g = queue.shift()) timings[g[0]] = await calibrateChild(dir, g[1], backend);
    }),
  );
  const calibrationMs = performance.now() - t0;
  const J = Math.min(jobs, sweep.runs.length);
  const packing = 1.1;
  const evalPasses = sweep.schedule.evalPoints * sweep.runs[0].config.evalBatches;
  // Per run: fixed cost (startup + evaluations, a forward pass ≈ a third of a step) and cost per step.
  const fixed = sweep.runs.reduce((s, r) => s + timings[r.group].startupMs + (evalPasses * timings[r.group].msPerStep) / 3, 0);
  const perStep = sweep.runs.reduce((s, r) => s + timings[r.group].msPerStep, 0);
  const slowest = Math.max(...sweep.runs.map((r) => timings[r.group].msPerStep));
  const budgetMs = minutes * 60_000 - calibrationMs;
  const bySweep = Math.floor(((budgetMs * J) / packing - fixed) / perStep);
  const byLongestRun = Math.floor((budgetMs - Math.max(...Object.values(timings).map((t) => t.startupMs))) / slowest);
  // A run that starts from another (initFrom) runs after it: each such chain must fit the budget by itself too.
  const sources = sourceIndices(sweep);
  const chains: { ms: number; startupMs: number }[] = [];
  sweep.runs.forEach((r, i) => {
    const before = sources[i] === null ? { ms: 0, startupMs: 0 } : chains[sources[i]!];
    chains.push({ ms: before.ms + timings[r.group].msPerStep, startupMs: before.startupMs + timings[r.group].startupMs });
  });
  const byLongestChain = Math.min(...chains.filter((_, i) => sources[i] !== null)
    .map((c) => Math.floor((budgetMs - c.startupMs) / c.ms)));
  const steps = Math.min(bySweep, byLongestRun, byLongestChain);
  const needMinutes = (calibrationMs + ((fixed + minSteps * perStep) * packing) / J) / 60_000;
  if (!(steps >= minSteps)) {
    throw new Error(`--budget ${minutes} minutes cannot fit this sweep: ${sweep.runs.length} runs of at least ${minSteps} steps need about ${needMinutes.toFixed(1)} minutes with ${J} parallel run(s) (a step takes ${Math.round(slowest)} ms for the slowest configuration)`);
  }
  if (steps > MAX_STEPS) {
    throw new Error(`--budget ${minutes} minutes would give every run ${steps.toLocaleString('en-US')} steps, more than a run may take (${MAX_STEPS.toLocaleString('en-US')}); give a budget in minutes (${Math.ceil(needMinutes)} fit ${minSteps} steps per run)`);
  }
  const rounded = steps >= 100 ? Math.floor(steps / 10) * 10 : steps;
  const estimateMinutes = (calibrationMs + ((fixed + rounded * perStep) * packing) / J) / 60_000;
  return { steps: rounded, timings, estimateMinutes };
}
