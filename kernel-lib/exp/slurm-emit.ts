/**
 * `exp <name> --preset <p> --emit slurm [--out <folder>]`: writes a sweep folder that a Slurm
 * cluster runs as a job array, without running anything here: `sweep.json` (every run's
 * resolved config, the same file a local run writes), `submit.sbatch`, `report.sbatch` and
 * `logs/`. The folder is claimed as a local run claims it: the same sweep is continued, another
 * sweep (or anything else) is refused and left as it is.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConcreteBackend } from '../backend/device.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { withFsError } from '../util/fs-error.ts';
import { checkSweepInputs, claimSweepFolder, defaultResultsRoot, presetSweep } from './orchestrate.ts';
import { checkSbatchPath, checkSlurmOptions, reportScript, slurmDefaults, submitScript, type SlurmOptions } from './slurm-script.ts';
import { checkSweepBackend, sweepDir } from './sweep-file.ts';
import type { Experiment, PresetDef, SweepFile } from './types.ts';

export interface SlurmEmitOptions extends Partial<SlurmOptions> {
  /** The sweep folder (default: the one a local run would use under `resultsRoot`, named by `id` or the definition's key). */
  out?: string;
  resultsRoot?: string;
  id?: string;
  /** Backend of every array task (default: webgpu for the gpu preset, else wasm). */
  backend?: ConcreteBackend;
  /** A `.txt` or `.jsonl` corpus of your own instead of Brown (the path must be readable from the nodes). */
  corpus?: string;
  /** Every configuration at these seeds instead of the preset's (`--seeds`): added to the sweep in the folder. */
  seeds?: readonly number[];
}

export interface EmittedSweep {
  dir: string;
  sweep: SweepFile;
  backend: ConcreteBackend;
  options: SlurmOptions;
  /** Paths of the two batch scripts. */
  submit: string;
  report: string;
  /** Whether the folder already held this sweep (its finished runs stay finished). */
  existed: boolean;
}

/** Writes (or refreshes) the sweep folder and its batch scripts; checks every option and the folder before writing anything. */
export function emitSlurmSweep(exp: Experiment, preset: PresetDef, o: SlurmEmitOptions = {}): EmittedSweep {
  const defaults = slurmDefaults(preset.name);
  const backend = o.backend ?? defaults.backend;
  const fresh = presetSweep(exp, preset, backend, null, o.corpus, o.seeds);
  const options: SlurmOptions = {
    partition: o.partition, account: o.account, time: o.time, mem: o.mem,
    cpusPerTask: o.cpusPerTask ?? defaults.cpusPerTask,
    gres: o.gres ?? defaults.gres,
    maxRunning: o.maxRunning ?? fresh.runs.length,
  };
  checkSlurmOptions(options);
  checkSweepInputs(fresh);
  const dir = o.out !== undefined ? resolve(o.out) : sweepDir(o.resultsRoot ?? defaultResultsRoot(), fresh, o.id);
  checkSbatchPath(dir, o.out !== undefined ? '--out' : 'sweep folder');
  const { sweep, existed } = claimSweepFolder(dir, fresh, o.out !== undefined ? '--out folder' : '--id', { addRuns: o.seeds !== undefined });
  if (existed) checkSweepBackend(dir, sweep, backend);
  if (o.maxRunning === undefined) options.maxRunning = sweep.runs.length; // all of them, including runs the folder held (--seeds)
  withFsError('create', join(dir, 'logs'), () => mkdirSync(join(dir, 'logs'), { recursive: true }));
  const submit = join(dir, 'submit.sbatch');
  const report = join(dir, 'report.sbatch');
  writeFileAtomic(submit, submitScript(dir, sweep, backend, options));
  writeFileAtomic(report, reportScript(dir, sweep, options));
  return { dir, sweep, backend, options, submit, report, existed };
}
