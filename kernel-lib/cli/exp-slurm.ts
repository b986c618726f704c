/**
 * `exp <name> --preset <p> --emit slurm [--out <folder>] [--submit]`: the sweep as a Slurm job
 * array (kernel-lib/exp/slurm-*.ts), written and, with `--submit`, handed to `sbatch`. Nothing
 * trains here and no backend starts.
 */
import { getExperiment, PRESETS } from '../../experiments/index.ts';
import { backendFromEnv, type BackendName, type ConcreteBackend } from '../backend/index.ts';
import { emitSlurmSweep } from '../exp/slurm-emit.ts';
import { requireSlurm, submitSweep, type Submitted } from '../exp/slurm-submit.ts';
import { parseSeeds } from '../exp/seeds.ts';
import { checkPreset } from '../exp/sweep-file.ts';
import { kebab, type OptionSpecs } from './args.ts';
import { log } from './common.ts';

export const EMIT_KINDS = ['slurm'] as const;

export const SLURM_OPTIONS: OptionSpecs = {
  emit: { type: 'string', choices: EMIT_KINDS, help: 'write the sweep and its Slurm batch scripts (submit.sbatch: one array task per run; report.sbatch) instead of running it' },
  submit: { type: 'boolean', help: 'with --emit slurm: also submit both with sbatch, and print the job ids and how to watch them' },
  out: { type: 'string', help: 'with --emit: the sweep folder, on disk that every node mounts (default: the folder under --results)' },
  partition: { type: 'string', help: 'with --emit: Slurm partition' },
  account: { type: 'string', help: 'with --emit: Slurm account' },
  time: { type: 'string', help: 'with --emit: time limit per run (Slurm format, e.g. 2:00:00)' },
  cpusPerTask: { type: 'integer', min: 1, max: 1024, help: 'with --emit: CPUs per run (default 1: tfjs-wasm trains on one thread)' },
  mem: { type: 'string', help: 'with --emit: memory per run (e.g. 8G)' },
  gres: { type: 'string', help: 'with --emit: generic resources per run (default gpu:1 for the gpu preset)' },
};

/** Options that mean something only with --emit. */
const EMIT_ONLY = ['out', 'partition', 'account', 'time', 'cpusPerTask', 'mem', 'gres'];

/** Whether the command line asks for a batch-system sweep instead of a local run; refuses emit-only options without it. */
export function wantsEmit(o: Record<string, unknown>): boolean {
  const emit = o.emit !== undefined || o.submit === true;
  if (!emit) {
    const stray = EMIT_ONLY.find((k) => o[k] !== undefined);
    if (stray) throw new Error(`exp: --${kebab(stray)} goes with --emit slurm`);
  }
  return emit;
}

/** The backend of every array task: --backend, else SWITCHYARD_BACKEND, else the preset's (undefined); never `auto`, which each node would resolve on its own. */
function emitBackend(o: Record<string, unknown>): ConcreteBackend | undefined {
  const asked = (o.backend as BackendName | undefined) ?? (process.env.SWITCHYARD_BACKEND?.trim() ? backendFromEnv() : undefined);
  if (asked === 'auto') throw new Error("exp --emit: name a backend (wasm, webgpu, cpu, tensorflow), not 'auto': each node would resolve 'auto' on its own, and the runs of one sweep must agree");
  return asked;
}

/** `--seeds`, parsed (undefined when not given). */
export function seedsOption(o: Record<string, unknown>): number[] | undefined {
  return o.seeds === undefined ? undefined : parseSeeds(String(o.seeds));
}

export async function emitCommand(name: string, o: Record<string, unknown>): Promise<number> {
  if (o.budget !== undefined) throw new Error('exp --emit: --budget calibrates on this machine, not on the cluster; leave it out (the preset sets the steps; --time sets the time limit per run)');
  if (o.out !== undefined && o.id !== undefined) throw new Error('exp --emit: --out names the sweep folder itself; leave out --id');
  const exp = getExperiment(name);
  const preset = PRESETS[checkPreset(o.preset as string)];
  const backend = emitBackend(o);
  if (o.submit) requireSlurm(['sbatch', 'squeue']);
  const e = emitSlurmSweep(exp, preset, {
    out: o.out as string | undefined, resultsRoot: o.results as string | undefined, id: o.id as string | undefined, backend, corpus: o.corpus as string | undefined, seeds: seedsOption(o),
    partition: o.partition as string | undefined, account: o.account as string | undefined, time: o.time as string | undefined,
    cpusPerTask: o.cpusPerTask as number | undefined, mem: o.mem as string | undefined, gres: o.gres as string | undefined, maxRunning: o.jobs as number | undefined,
  });
  log(`${e.existed ? 'kept' : 'wrote'} ${e.dir}/sweep.json (${e.sweep.runs.length} runs of ${e.sweep.steps} steps, backend ${e.backend}); wrote submit.sbatch and report.sbatch`);
  let submitted: Submitted | undefined;
  if (o.submit) {
    submitted = submitSweep(e);
    const runs = submitted.arrayJob ? `array job ${submitted.arrayJob} (runs ${submitted.indices.join(',')}), then report job ${submitted.reportJob}` : `report job ${submitted.reportJob} (every run had finished)`;
    log(`submitted ${runs}; watch with: ${submitted.watch}; the report will be ${e.dir}/report.html`);
  } else {
    log(`submit with: jid=$(sbatch --parsable ${e.submit}) && sbatch --dependency=afterok:$jid ${e.report}`);
  }
  process.stdout.write(JSON.stringify({ experiment: name, preset: preset.name, dir: e.dir, runs: e.sweep.runs.length, backend: e.backend, submit: e.submit, report: e.report, ...(submitted ? { submitted } : {}) }) + '\n');
  return 0;
}
