/**
 * `exp <name> --preset <p>`: runs an experiment's sweep (parallel processes) and builds its report.
 * `exp --list`: the experiments and presets. `exp run-one <dir> --index i`: one run of a sweep
 * (what the runner's children and Slurm array tasks run). `exp calibrate <dir> --index i`: times
 * a run's training step (for `--budget`). `report <dir>`: rebuilds a report from its runs alone.
 * `exp <name> --emit slurm [--submit]`: the sweep as a Slurm job array (exp-slurm.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EXPERIMENTS, getExperiment, PRESETS, runExperiment } from '../../experiments/index.ts';
import { useBackend, BACKEND_NAMES, type ConcreteBackend } from '../backend/index.ts';
import { corpusFor } from '../train/corpus-for.ts';
import { timeTrainSteps } from '../exp/budget.ts';
import { buildReport } from '../exp/report.ts';
import { sweepProgressDisplay } from '../display/sweep.ts';
import { releaseEarlierIncarnationLock } from '../exp/slurm-lock.ts';
import { failurePath } from '../exp/records.ts';
import { waitForSource } from '../exp/runner.ts';
import { checkSweepBackend, readSweep, runConfig } from '../exp/sweep-file.ts';
import { PRESET_NAMES } from '../exp/types.ts';
import { formatOptions, parseArgs, type OptionSpecs } from './args.ts';
import { COMMON_OPTIONS, log } from './common.ts';
import { emitCommand, seedsOption, SLURM_OPTIONS, wantsEmit } from './exp-slurm.ts';
import { stopOnSignals } from './signals.ts';
import { trainAsCommand } from './train.ts';

export const EXP_OPTIONS: OptionSpecs = {
  preset: { type: 'string', choices: PRESET_NAMES, default: 'quick', help: 'quick (minutes, CI), cpu (≤ 1 h per experiment on 4 cores), gpu (one GPU)' },
  budget: { type: 'number', min: 0.1, max: 525_600, help: 'fit the sweep into this many minutes (at most a year, 525600): a calibration sets one step count for every run' },
  jobs: { type: 'integer', min: 1, max: 256, help: 'runs at a time (default: cores on wasm/cpu, 1 on a GPU; with --emit: array tasks running at a time, default all)' },
  results: { type: 'string', help: 'results folder (default <project>/results)' },
  id: { type: 'string', help: 'name the sweep folder <preset>-<id> (default: a hash of the sweep\'s definition)' },
  corpus: { type: 'string', help: 'train on a .txt or .jsonl file of your own instead of Brown (not specialization, which needs Brown\'s tags)' },
  seeds: { type: 'string', help: 'seeds of every configuration instead of the preset\'s: 0-9, 0,1,2,5 or 0-2,7; the sweep folder stays the preset\'s, so seeds are added to it (finished runs kept, report rebuilt)' },
  list: { type: 'boolean', help: 'list the experiments and presets' },
};

const RUN_ONE_OPTIONS: OptionSpecs = {
  index: { type: 'integer', min: 0, help: 'which run of the sweep (0-based; a Slurm array task passes $SLURM_ARRAY_TASK_ID)' },
  restart: { type: 'boolean', help: 'start the run afresh, moving its old directory aside' },
  divergedOk: { type: 'boolean', help: 'exit 0 for a diverged run (a result, not a failure), as Slurm array tasks do so the report\'s afterok dependency holds' },
};

export const EXP_USAGE = `usage: switchyard exp <name> [--preset quick|cpu|gpu] [--seeds 0-9] [--budget minutes] [--jobs n] [--results dir] [--id id]
       switchyard exp <name> [--preset p] --emit slurm [--out dir] [--submit] [--partition p] [--time t] [--gres g] [--jobs n]
       switchyard exp --list
       switchyard exp run-one <sweep folder> --index i
       switchyard exp calibrate <sweep folder> --index i
       switchyard report <sweep folder>`;

function listText(): string {
  const exps = Object.values(EXPERIMENTS).map((e) => `  ${e.name.padEnd(16)} ${e.title}`);
  const presets = PRESET_NAMES.map((p) => `  ${p.padEnd(16)} ${PRESETS[p].description} (${PRESETS[p].minutes})`);
  return `experiments:\n${exps.join('\n')}\n\npresets:\n${presets.join('\n')}\n`;
}

async function runOne(positional: string[], o: Record<string, unknown>, calibrate: boolean): Promise<number> {
  const [dir, ...extra] = positional;
  if (!dir) throw new Error(`exp ${calibrate ? 'calibrate' : 'run-one'}: name the sweep folder`);
  if (extra.length) throw new Error(`exp run-one: unexpected argument '${extra[0]}'`);
  if (o.index === undefined) throw new Error('exp run-one: --index is required');
  const sweep = readSweep(dir);
  const cfg = runConfig(dir, sweep, o.index as number, o.backend as ConcreteBackend | undefined);
  if (calibrate) {
    await useBackend(cfg.backend);
    const t0 = performance.now();
    const msPerStep = await timeTrainSteps({ ...cfg, vocabSize: corpusFor(cfg).vocab.size });
    process.stdout.write(JSON.stringify({ msPerStep, timedMs: performance.now() - t0 }) + '\n');
    return 0;
  }
  if (cfg.backend !== 'auto') checkSweepBackend(dir, sweep, cfg.backend, [cfg.name]); // the sweep and Slurm scripts always name it
  // A failure note of an earlier attempt is stale now: a run that starts from this one must not read it (sources.ts).
  rmSync(failurePath(dir, cfg.name), { force: true });
  await waitForSource(dir, sweep, o.index as number); // a run that starts from another (initFrom) waits for it
  releaseEarlierIncarnationLock(join(cfg.outDir, cfg.name)); // a requeued Slurm task
  const code = await trainAsCommand(cfg, o.restart as boolean | undefined);
  return code === 3 && o.divergedOk ? 0 : code; // 3: diverged
}

export async function expCommand(args: string[]): Promise<number> {
  const sub = args[0];
  if (sub === 'run-one' || sub === 'calibrate') {
    const specs = { ...COMMON_OPTIONS, ...RUN_ONE_OPTIONS };
    const { positional, options } = parseArgs(args.slice(1), specs, `exp ${sub}`);
    if (options.help) {
      process.stdout.write(`${EXP_USAGE}\n\n${formatOptions(specs)}\n`);
      return 0;
    }
    return runOne(positional, options, sub === 'calibrate');
  }
  const specs = { ...COMMON_OPTIONS, ...EXP_OPTIONS, ...SLURM_OPTIONS };
  const { positional, options: o } = parseArgs(args, specs, 'exp');
  if (o.help) {
    process.stdout.write(`${EXP_USAGE}\n\n${formatOptions(specs)}\n\n${listText()}`);
    return 0;
  }
  if (o.list) {
    process.stdout.write(listText());
    return 0;
  }
  const [name, ...extra] = positional;
  if (!name) throw new Error(`exp: name an experiment (${Object.keys(EXPERIMENTS).join(', ')}), or --list`);
  if (extra.length) throw new Error(`exp: unexpected argument '${extra[0]}'`);
  getExperiment(name); // unknown names fail before anything starts
  const seeds = seedsOption(o); // a bad seed list too
  if (wantsEmit(o)) return emitCommand(name, o);
  const stop = stopOnSignals(`experiment ${name}`);
  try {
    const r = await runExperiment(name, {
      preset: o.preset as string,
      budgetMinutes: o.budget as number | undefined,
      jobs: o.jobs as number | undefined,
      resultsRoot: o.results as string | undefined,
      id: o.id as string | undefined,
      corpus: o.corpus as string | undefined,
      seeds,
      backend: o.backend as (typeof BACKEND_NAMES)[number] | undefined,
      onUpdate: sweepProgressDisplay(`${name}/${o.preset}`).update,
      signal: stop.signal,
    });
    for (const f of r.outcome.failed) log(`run ${f.id} failed (exit ${f.code}); see ${r.dir}/logs/${f.id}.log`);
    log(`report: ${r.written.html}`);
    process.stdout.write(JSON.stringify({ experiment: name, preset: o.preset, dir: r.dir, report: r.written.html, summary: r.summaryCsv, claims: r.doc.claims, missing: r.doc.missing }) + '\n');
    if (r.outcome.interrupted) return stop.exitCode() ?? 130;
    // Done only when the report has every run.
    for (const m of r.doc.missing) if (!r.outcome.failed.some((f) => f.id === m.run)) log(`run ${m.run} has no final result (${m.reason})`);
    return r.outcome.failed.length || r.doc.missing.length ? 1 : 0;
  } finally {
    stop.dispose();
  }
}

/** `report <dir>`: rebuilds the report of a sweep folder from its runs alone. */
export async function reportCommand(positional: string[]): Promise<number> {
  const [dir, ...extra] = positional;
  if (!dir) throw new Error('report: name a sweep folder (results/<experiment>/<preset>-<id>)');
  if (extra.length) throw new Error(`report: unexpected argument '${extra[0]}'`);
  const sweep = readSweep(dir);
  const built = await buildReport(getExperiment(sweep.experiment), dir);
  log(`report: ${built.written.html}${built.doc.missing.length ? ` (${built.doc.missing.length} run(s) without a final result, named in the report)` : ''}`);
  process.stdout.write(JSON.stringify({ experiment: sweep.experiment, dir, report: built.written.html, summary: built.summaryCsv, claims: built.doc.claims, missing: built.doc.missing }) + '\n');
  return 0;
}
