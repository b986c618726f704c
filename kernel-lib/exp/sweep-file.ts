/**
 * Resolving a sweep into `sweep.json` and finding its results folder.
 *
 * A sweep's folder is `results/<experiment>/<preset>-<key>/`, where the key is a hash of what
 * defines the comparison (preset, base config, every run's config and seed, the budget asked
 * for), not of the step count a budget calibration chose. The same command therefore finds the
 * same folder again: finished runs are skipped and stopped ones resume. A changed definition
 * gets a new folder; an explicit `--id` naming a folder that holds another sweep is refused.
 *
 * Run configs keep `outDir: 'runs'`, relative to the sweep folder, so the folder can move (or
 * be mounted elsewhere on a cluster node) and still resume.
 */
import { checkClaimRules, type ClaimRule } from './claims.ts';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_FIELDS } from '../config/fields.ts';
import { resolveTrainConfig, type TrainConfig } from '../train/config.ts';
import { checkPathComponent, checkRunName } from '../train/run-dir.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { readJsonOrNull } from '../util/read-json.ts';
import type { BackendName } from '../backend/device.ts';
import { isFinished } from './runner.ts';
import { resolvedInitFrom } from './sources.ts';
import { withSeeds } from './seeds.ts';
import { PRESET_NAMES, type Experiment, type PresetName, type ResolvedRun, type Schedule, type SweepFile, type SweepRun } from './types.ts';

/** Keys a sweep sets itself, which run overrides must not. */
const SWEEP_OWNED = ['name', 'outDir', 'steps', 'seed', 'backend'] as const;

export function checkPreset(preset: string): PresetName {
  if (!(PRESET_NAMES as readonly string[]).includes(preset)) throw new Error(`unknown preset '${preset}' (presets: ${PRESET_NAMES.join(', ')})`);
  return preset as PresetName;
}

export interface ResolveOptions {
  /** Base config of the preset (model size, schedule, …), below the experiment's own base. */
  presetBase: Partial<TrainConfig>;
  /** Steps when no budget sets them (the sweep's own `steps` takes precedence). */
  steps: number;
  schedule: Schedule;
  budgetMinutes?: number | null;
  backend: BackendName;
  /** Every configuration at these seeds instead of the definition's (`--seeds`; seeds.ts). Not part of the key. */
  seeds?: readonly number[];
}

/**
 * A run's config with `{seed}` in a relative `initFrom` replaced by its seed (`runs/dense-s{seed}`:
 * each seed starts from the same seed's source, and `--seeds` can add seeds to such a group).
 */
const withSeedIn = (config: Partial<TrainConfig>, seed: number): Partial<TrainConfig> =>
  (config.initFrom?.includes('{seed}') ? { ...config, initFrom: config.initFrom.replaceAll('{seed}', String(seed)) } : config);

/** Resolves every run's full config (checked) and the definition key. Steps are filled in later when a budget sets them. */
export function resolveSweep(exp: Experiment, preset: PresetName, o: ResolveOptions): SweepFile {
  const def = exp.sweep(preset);
  if (def.runs.length === 0) throw new Error(`experiment '${exp.name}' defines no runs for preset '${preset}'`);
  const resolveRuns = (list: SweepRun[]): ResolvedRun[] => {
    const ids = new Set<string>();
    return list.map((r) => {
      checkRunName(r.id);
      if (ids.has(r.id)) throw new Error(`experiment '${exp.name}': run id '${r.id}' is used twice`);
      ids.add(r.id);
      for (const k of SWEEP_OWNED) if (k in r.config || k in def.base) throw new Error(`experiment '${exp.name}', run '${r.id}': '${k}' is set by the sweep, not by a run`);
      const config = resolveTrainConfig(
        { source: `preset ${preset}`, values: o.presetBase },
        { source: `experiment ${exp.name}`, values: def.base },
        { source: `experiment ${exp.name}, run ${r.id}`, values: withSeedIn(r.config, r.seed) },
        { source: 'sweep', values: { name: r.id, outDir: 'runs', seed: r.seed, backend: o.backend, progress: 'lines' } },
      );
      return { ...r, config };
    });
  };
  // The key is of the definition's runs: the seeds asked for (--seeds) do not change the folder.
  const runs = resolveRuns(def.runs);
  const budgetMinutes = o.budgetMinutes ?? null;
  // The step count is part of the definition unless a budget sets it (then the budget is).
  const claims = def.claims ?? [];
  checkClaimRules(claims);
  // The claim rules are part of the definition: a rule cannot change once runs exist.
  const key = definitionKey(exp.name, preset, budgetMinutes !== null ? `budget ${budgetMinutes} min` : `${def.steps ?? o.steps} steps`, runs, claims, def.assessPaperClaims ?? true);
  const steps = def.steps ?? o.steps;
  const sweep: SweepFile = {
    format: 'switchyard-sweep-1', experiment: exp.name, preset, key, created: new Date().toISOString(), budgetMinutes,
    steps, stepsFrom: { kind: 'preset' }, schedule: o.schedule, snapshots: def.snapshots ?? 0, runs, claims, assessPaperClaims: def.assessPaperClaims ?? true,
  };
  return withSteps(o.seeds ? { ...sweep, runs: resolveRuns(withSeeds(exp.name, def.runs, o.seeds)) } : sweep, steps);
}

/**
 * The sweep with every run set to `steps`, and what depends on it: evaluations evenly spaced
 * (checkpoints with them), warm-up as a fraction, routing snapshots evenly spaced.
 */
export function withSteps(sweep: SweepFile, steps: number): SweepFile {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be an integer ≥ 1, got ${steps}`);
  const evalEvery = Math.max(1, Math.ceil(steps / sweep.schedule.evalPoints));
  const runs = sweep.runs.map((r) => ({
    ...r,
    config: resolveTrainConfig({
      source: `sweep ${sweep.experiment}, run ${r.id}`,
      values: {
        ...r.config,
        steps,
        evalEvery,
        checkpointEvery: evalEvery,
        warmupSteps: Math.round(steps * sweep.schedule.warmupFraction),
        routingEvery: sweep.snapshots > 0 ? Math.max(1, Math.ceil(steps / sweep.snapshots)) : 0,
      },
    }),
  }));
  return { ...sweep, steps, runs };
}

/**
 * Settings added after sweep folders were first keyed (issue 18): left out of the key while at
 * their default, so that a sweep defined before they existed keeps its folder, and resumes, under
 * newer code. A run that sets one away from its default is another comparison: it is keyed.
 */
const KEYED_WHEN_SET: readonly (keyof typeof CONFIG_FIELDS)[] = ['numSharedExperts', 'sharedDff', 'biasUpdateRate'];

/** Hash of what defines the comparison: every run's config and labels (without place or backend), and its length (steps, or the budget that sets them). */
export function definitionKey(experiment: string, preset: string, length: string, runs: ResolvedRun[], claims: ClaimRule[] = [], assess = true): string {
  const atAddedDefault = (k: string, v: unknown) => KEYED_WHEN_SET.some((f) => f === k && CONFIG_FIELDS[f].default === v);
  const strip = (c: TrainConfig) => Object.fromEntries(Object.entries(c).filter(([k, v]) =>
    !['steps', 'outDir', 'backend', 'progress', 'evalEvery', 'checkpointEvery', 'routingEvery'].includes(k) && !atAddedDefault(k, v)));
  const text = JSON.stringify({ experiment, preset, length, runs: runs.map((r) => ({ id: r.id, group: r.group, seed: r.seed, labels: r.labels, config: strip(r.config) })), claims, assess });
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** `<results>/<experiment>/<preset>-<id or key>`. */
export function sweepDir(resultsRoot: string, sweep: Pick<SweepFile, 'experiment' | 'preset' | 'key'>, id?: string): string {
  if (id !== undefined) checkPathComponent(id, '--id');
  return resolve(resultsRoot, sweep.experiment, `${sweep.preset}-${id ?? sweep.key}`);
}

/** Reads `sweep.json`; throws naming the file when it is missing or not a sweep. */
export function readSweep(dir: string): SweepFile {
  const path = join(dir, 'sweep.json');
  if (!existsSync(path)) throw new Error(`${dir} is not a sweep folder (no sweep.json)`);
  let s: SweepFile;
  try {
    s = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path} is unreadable (${(err as Error).message})`);
  }
  if (s?.format !== 'switchyard-sweep-1' || !Array.isArray(s.runs)) throw new Error(`${path} is not a Switchyard sweep file`);
  return s;
}

export function writeSweep(dir: string, sweep: SweepFile): void {
  writeJsonAtomic(join(dir, 'sweep.json'), sweep);
}

/** The config of run `index`, placed in the sweep folder and on the given backend. */
export function runConfig(dir: string, sweep: SweepFile, index: number, backend?: BackendName): TrainConfig {
  if (!Number.isInteger(index) || index < 0 || index >= sweep.runs.length) {
    throw new Error(`run index ${index} is out of range: the sweep in ${dir} has runs 0..${sweep.runs.length - 1}`);
  }
  const r = sweep.runs[index];
  const initFrom = resolvedInitFrom(dir, r.config.initFrom);
  return {
    ...r.config, outDir: join(dir, 'runs'), steps: sweep.steps, ...(initFrom ? { initFrom } : {}), ...(backend ? { backend } : {}),
  };
}

/**
 * Refuses to continue a sweep on another backend than its runs used: its time measures
 * (tokens/s, time to a quality) would mix backends, and Slurm's report would no longer equal a
 * local one. The backend is not part of the sweep's definition (the same sweep runs locally or
 * on a cluster), so it is checked against what the runs recorded (`environment.json`). Only
 * where something would run: a finished sweep's report may be rebuilt anywhere.
 * @param ids the runs about to be started (default: all); nothing is checked when all are finished.
 */
export function checkSweepBackend(dir: string, sweep: SweepFile, backend: string, ids: readonly string[] = sweep.runs.map((r) => r.id)): void {
  if (ids.every((id) => isFinished(dir, id, sweep.steps))) return;
  const others = new Map<string, string[]>();
  for (const r of sweep.runs) {
    // A missing or torn record says nothing here (the run's own checks name a torn one when it starts).
    const env = readJsonOrNull<{ device?: { backend?: string }; resumed?: { device?: { backend?: string } }[] }>(join(dir, 'runs', r.id, 'environment.json'));
    if (!env) continue;
    const used = new Set([env.device?.backend, ...(env.resumed ?? []).map((x) => x.device?.backend)]);
    for (const b of used) if (b && b !== backend) others.set(b, [...(others.get(b) ?? []), r.id]);
  }
  if (others.size === 0) return;
  const list = [...others].map(([b, ids]) => `${b} (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? `, +${ids.length - 3} more` : ''})`).join(', ');
  throw new Error(
    `the sweep in ${dir} has runs on ${list}; this one would run on ${backend}, mixing backends in its times. ` +
      `Continue it with --backend ${[...others.keys()][0]}, or start another sweep (--id with exp, --out with --emit).`,
  );
}
