/**
 * Running an experiment end to end: resolve the sweep of a preset, find (or create) its results
 * folder, set the steps (from the preset, or a calibration for `--budget`), run the runs in
 * parallel processes, and build the report. The command line (`exp`) and the notebooks call
 * this; it trains nothing in the calling process, so a notebook's tensors stay as they were.
 */
import { accessSync, constants, existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { backendFromEnv, useBackend, type BackendName, type DeviceInfo } from '../backend/index.ts';
import { checkPathComponent } from '../train/run-dir.ts';
import { prepareData } from '../train/trainer.ts';
import { ensureDir } from '../util/fs-error.ts';
import { log } from '../util/log.ts';
import { projectRoot } from '../util/project-root.ts';
import { planBudget } from './budget.ts';
import { buildReport, type BuiltReport } from './report.ts';
import { isFinished, runSweep, type RunProgress, type SweepOutcome } from './runner.ts';
import { addedRuns } from './seeds.ts';
import { sourceIndices } from './sources.ts';
import { checkSweepBackend, readSweep, resolveSweep, sweepDir, withSteps, writeSweep } from './sweep-file.ts';
import type { Experiment, PresetDef, SweepFile } from './types.ts';

export interface ExperimentOptions {
  /** Where results go (default `<project>/results`). */
  resultsRoot?: string;
  /** Name the sweep folder `<preset>-<id>` instead of by the definition's hash. */
  id?: string;
  /** Fit the sweep into this many minutes (a calibration sets the steps). */
  budgetMinutes?: number;
  /** Runs at a time (default: cores on wasm/cpu, 1 on a GPU). */
  jobs?: number;
  /** Backend for every run (default SWITCHYARD_BACKEND, else auto). */
  backend?: BackendName;
  /** Train on a `.txt` or `.jsonl` file of your own instead of Brown (not for experiments that need Brown's tags). */
  corpus?: string;
  /**
   * Every configuration at these seeds instead of the preset's (`--seeds`, parsed by
   * `parseSeeds`). The folder is the preset's: seeds the sweep lacks are added, its finished runs
   * are kept, and the report covers every seed it holds.
   */
  seeds?: readonly number[];
  onUpdate?: (runs: readonly RunProgress[]) => void;
  signal?: AbortSignal;
}

export interface ExperimentRun extends BuiltReport {
  dir: string;
  sweep: SweepFile;
  outcome: SweepOutcome;
  device: DeviceInfo;
}

/** `SWITCHYARD_RESULTS`, else `<project>/results`. */
export function defaultResultsRoot(): string {
  return process.env.SWITCHYARD_RESULTS?.trim() || join(projectRoot(import.meta.url), 'results');
}

/** Default parallel runs: one per core on the CPU backends (tfjs-wasm is single-threaded in Node), one on a GPU. */
export function defaultJobs(device: DeviceInfo): number {
  return device.backend === 'wasm' || device.backend === 'cpu' ? availableParallelism() : 1;
}

/** Checks that `dir` can be created and written, naming it when not (before anything runs). */
function checkWritable(dir: string): void {
  ensureDir(dir, 'create results folder');
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new Error(`results folder ${dir} is not writable (${(err as NodeJS.ErrnoException).code})`);
  }
}

/** The config a `corpus` option adds: an absolute path (runs start elsewhere), checked to exist, refused where Brown's tags are needed. */
function corpusOption(exp: Experiment, corpus: string | undefined): { corpus?: string } {
  if (corpus === undefined || corpus === 'brown') return {};
  if (exp.needsTags) throw new Error(`experiment '${exp.name}' analyses Brown's part-of-speech tags and genres, so it runs on Brown only, not on ${corpus}`);
  const path = resolve(corpus);
  if (!existsSync(path)) throw new Error(`--corpus ${corpus}: no such file (${path})`);
  return { corpus: path };
}

/**
 * Checks the inputs every run of a sweep shares, once, before anything is written: the corpus
 * (readable, enough documents and text) and the data sizes against it, for each distinct data
 * configuration of the sweep. A bad `--corpus` is refused here, naming it, instead of failing
 * every run. Loading the corpus also fills its cache for the runs.
 */
export function checkSweepInputs(sweep: SweepFile): void {
  sourceIndices(sweep); // a run's initFrom names an earlier run of the sweep, or an absolute path
  const seen = new Set<string>();
  for (const r of sweep.runs) {
    const c = r.config;
    const key = JSON.stringify([c.corpus, c.splitSeed, c.vocabSize, c.seqLen, c.batchSize, c.evalBatches, c.routingEvery > 0 ? c.routingBatches : 0]);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      prepareData({ ...c, steps: sweep.steps });
    } catch (err) {
      throw new Error(`${sweep.experiment}, run ${r.id}: ${(err as Error).message}; nothing was written`, { cause: err });
    }
  }
}

/** The sweep of an experiment at a preset, every run resolved and checked; nothing is written. */
export function presetSweep(exp: Experiment, preset: PresetDef, backend: BackendName, budgetMinutes: number | null = null, corpus?: string, seeds?: readonly number[]): SweepFile {
  return resolveSweep(exp, preset.name, { presetBase: { ...preset.base, ...corpusOption(exp, corpus) }, steps: preset.steps, schedule: preset.schedule, budgetMinutes, backend, seeds });
}

/**
 * Claims the folder `dir` for the sweep `fresh`, writing nothing else: a folder holding the same
 * sweep (same definition key) gives back the sweep file already there (its runs continue); a
 * new or empty folder gets `fresh` as its `sweep.json`. A folder holding another sweep, or
 * anything but a sweep, is refused and left as it is. `choose` says what to change in that case
 * (`--id`, `--out`). With `addRuns` (`--seeds`), runs of `fresh` that the sweep there lacks are
 * added after its own (whose indices stay), at its step count.
 */
export function claimSweepFolder(dir: string, fresh: SweepFile, choose: string, o: { addRuns?: boolean } = {}): { sweep: SweepFile; existed: boolean } {
  checkWritable(dir);
  if (existsSync(join(dir, 'sweep.json'))) {
    const old = readSweep(dir);
    if (old.key !== fresh.key || old.experiment !== fresh.experiment) {
      throw new Error(`${dir} holds another sweep (${old.experiment}, definition ${old.key}; this one is ${fresh.key}); nothing was changed. Choose another ${choose}.`);
    }
    const added = o.addRuns ? addedRuns(old.runs, fresh.runs) : [];
    if (o.addRuns) {
      const asked = new Set(fresh.runs.map((r) => r.id));
      const others = [...new Set(old.runs.filter((r) => !asked.has(r.id)).map((r) => r.seed))];
      if (others.length) log(`the sweep in ${dir} also holds seed(s) ${others.join(', ')}; they stay in it and in its report (for a sweep of only the seeds asked for, choose another ${choose})`);
    }
    if (added.length === 0) {
      log(`continuing the sweep in ${dir} (${old.runs.length} runs of ${old.steps} steps)`);
      return { sweep: old, existed: true };
    }
    const sweep = withSteps({ ...old, runs: [...old.runs, ...added] }, old.steps);
    writeSweep(dir, sweep);
    log(`added ${added.length} run(s) to the sweep in ${dir} (seed(s) ${[...new Set(added.map((r) => r.seed))].join(', ')}); its ${old.runs.length} earlier run(s) are kept (${sweep.runs.length} runs of ${sweep.steps} steps)`);
    return { sweep, existed: true };
  }
  if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty and holds no sweep; nothing was changed. Choose another ${choose}.`);
  writeSweep(dir, fresh);
  return { sweep: fresh, existed: false };
}

/** Finds the sweep folder and settles its sweep file (see {@link claimSweepFolder}); a new sweep with a budget gets its steps from a calibration. */
async function settleSweep(exp: Experiment, preset: PresetDef, o: ExperimentOptions, device: DeviceInfo, jobs: number): Promise<{ dir: string; sweep: SweepFile }> {
  const fresh = presetSweep(exp, preset, device.backend, o.budgetMinutes ?? null, o.corpus, o.seeds);
  const dir = sweepDir(o.resultsRoot ?? defaultResultsRoot(), fresh, o.id);
  const made = firstMissing(dir); // what claiming the folder creates, taken back if the budget is refused
  const claimed = claimSweepFolder(dir, fresh, '--id', { addRuns: o.seeds !== undefined });
  let sweep = claimed.sweep;
  if (claimed.existed || o.budgetMinutes === undefined) return { dir, sweep };
  // sweep.json is written: the children of a calibration read it. A calibration that fails or
  // refuses the budget takes back all it wrote (the folder was empty), so running the command
  // again calibrates again instead of finding a sweep at the preset's steps.
  let plan: Awaited<ReturnType<typeof planBudget>>;
  try {
    plan = await planBudget(dir, sweep, o.budgetMinutes, jobs, device.backend);
  } catch (err) {
    for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
    removeEmptyUpTo(dir, made);
    throw err;
  }
  sweep = withSteps(sweep, plan.steps);
  sweep.stepsFrom = { kind: 'budget', msPerStep: Object.fromEntries(Object.entries(plan.timings).map(([g, t]) => [g, t.msPerStep])), jobs, minutes: o.budgetMinutes };
  log(`budget ${o.budgetMinutes} min: ${plan.steps} steps per run (estimated ${plan.estimateMinutes.toFixed(1)} min with ${jobs} parallel run(s))`);
  writeSweep(dir, sweep);
  return { dir, sweep };
}

/** The outermost of `dir` and its ancestors that does not exist yet, or null when `dir` exists. */
function firstMissing(dir: string): string | null {
  let missing: string | null = null;
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing = d;
    if (dirname(d) === d) break;
  }
  return missing;
}

/** Removes `dir` and its parents up to and including `top` while they are empty (a folder something else wrote into stays). */
function removeEmptyUpTo(dir: string, top: string | null): void {
  if (top === null) return;
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === top) return;
  }
}

/** Runs (or continues) an experiment at a preset and builds its report. */
export async function runExperimentSweep(exp: Experiment, preset: PresetDef, o: ExperimentOptions = {}): Promise<ExperimentRun> {
  if (o.jobs !== undefined && (!Number.isInteger(o.jobs) || o.jobs < 1)) throw new Error(`--jobs must be an integer ≥ 1, got ${o.jobs}`);
  if (o.id !== undefined) checkPathComponent(o.id, '--id'); // a bad folder name, too
  corpusOption(exp, o.corpus); // refuse a bad corpus before the backend starts
  checkSweepInputs(presetSweep(exp, preset, o.backend ?? backendFromEnv(), o.budgetMinutes ?? null, o.corpus, o.seeds)); // and the data every run shares
  const device = await useBackend(o.backend ?? backendFromEnv());
  const jobs = o.jobs ?? defaultJobs(device);
  const { dir, sweep } = await settleSweep(exp, preset, o, device, jobs);
  checkSweepBackend(dir, sweep, device.backend);
  const outcome = await runSweep(dir, sweep, { jobs, backend: device.backend, onUpdate: o.onUpdate, signal: o.signal });
  const built = await buildReport(exp, dir);
  return { ...built, dir, sweep, outcome, device };
}

/**
 * The newest sweep folder of an experiment (at a preset) whose runs all finished (completed or
 * diverged) and whose report was built after every run's record (a report built while runs were
 * missing, e.g. by `report` after a Slurm task hit its time limit, is not taken), or null.
 * Running the experiment again on such a folder skips its runs and builds the report anew.
 */
export function latestFinishedSweep(experiment: string, preset?: string, resultsRoot = defaultResultsRoot()): string | null {
  const root = resolve(resultsRoot, experiment);
  if (!existsSync(root)) return null;
  const candidates = readdirSync(root)
    .filter((d) => !preset || d.startsWith(`${preset}-`))
    .map((d) => join(root, d))
    .filter((d) => existsSync(join(d, 'report.json')) && existsSync(join(d, 'sweep.json')))
    .map((d) => ({ d, s: readSweep(d) }))
    .filter(({ d, s }) => s.runs.every((r) => isFinished(d, r.id, s.steps)) && reportIsCurrent(d, s))
    .sort((a, b) => b.s.created.localeCompare(a.s.created));
  return candidates[0]?.d ?? null;
}

/** Whether `report.json` in `dir` is newer than every run's `run.json`. */
function reportIsCurrent(dir: string, sweep: SweepFile): boolean {
  const reportAt = statSync(join(dir, 'report.json')).mtimeMs;
  return sweep.runs.every((r) => {
    const rec = join(dir, 'runs', r.id, 'run.json');
    return !existsSync(rec) || statSync(rec).mtimeMs <= reportAt;
  });
}
