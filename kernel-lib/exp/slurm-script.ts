/**
 * The batch scripts of a sweep on a Slurm cluster: `submit.sbatch`, a job array of one task per
 * run, and `report.sbatch`, the report, run after the array (`--dependency=afterok:<array job>`).
 *
 * Each array task `exec`s the trainer (`exp run-one <sweep folder> --index $SLURM_ARRAY_TASK_ID`):
 * the batch shell becomes the trainer, so the SIGTERM Slurm sends at the time limit, on
 * preemption, on `scontrol requeue` and on `scancel --signal=TERM --batch` reaches it, and it
 * stops at a step boundary with a checkpoint (KillWait seconds before SIGKILL). `--requeue` lets
 * Slurm put a preempted task back in the queue; the run resumes from its checkpoint. A finished
 * run is a no-op, so submitting the same script again runs only what is left.
 *
 * Pure text: nothing here touches the disk or calls Slurm.
 */
import type { ConcreteBackend } from '../backend/device.ts';
import { cliCommand, runOneCommand } from './runner.ts';
import type { PresetName, SweepFile } from './types.ts';

/** What the scripts ask Slurm for; every value is checked by {@link checkSlurmOptions}. */
export interface SlurmOptions {
  /** `--partition`, when the cluster's default is not the one. */
  partition?: string;
  /** `--account`, where the cluster charges an account. */
  account?: string;
  /** `--time` per array task (Slurm's formats: `minutes`, `h:mm:ss`, `d-hh:mm`, …). */
  time?: string;
  /** `--cpus-per-task` (tfjs-wasm trains on one thread in Node, so 1 on CPU nodes). */
  cpusPerTask: number;
  /** `--mem` per task (`16G`, `4000M`). */
  mem?: string;
  /** `--gres` per array task (`gpu:1` for the gpu preset). */
  gres?: string;
  /** Array tasks running at a time: the `%M` of `--array=0-(N-1)%M`. */
  maxRunning: number;
}

/** The array index placeholder in a task's command line: the shell expands it, so it stays unquoted. */
export const TASK_INDEX = '"$SLURM_ARRAY_TASK_ID"';

const SLURM_TIME = /^(\d+-\d{1,2}(:\d{1,2}(:\d{1,2})?)?|\d+(:\d{1,2}(:\d{1,2})?)?)$/;
const NAME_LIST = /^[A-Za-z0-9_.,-]+$/;
const GRES = /^[A-Za-z0-9_.,:-]+$/;
const MEM = /^\d+[KMGT]?$/;

/** The backend and resources a preset's array tasks use unless told otherwise: a GPU for `gpu` (WebGPU), else wasm on one CPU. */
export function slurmDefaults(preset: PresetName): { backend: ConcreteBackend; gres?: string; cpusPerTask: number } {
  return preset === 'gpu' ? { backend: 'webgpu', gres: 'gpu:1', cpusPerTask: 1 } : { backend: 'wasm', cpusPerTask: 1 };
}

/**
 * Checks every value that goes into an `#SBATCH` line, naming the option and the value: a line
 * holds one word, so spaces, quotes and line breaks would change what Slurm reads.
 */
export function checkSlurmOptions(o: SlurmOptions): void {
  const bad = (opt: string, v: unknown, what: string) => new Error(`--${opt}: ${what}, got '${v}'`);
  if (o.partition !== undefined && !NAME_LIST.test(o.partition)) throw bad('partition', o.partition, 'expected a partition name (letters, digits, . _ -; a comma-separated list)');
  if (o.account !== undefined && !NAME_LIST.test(o.account)) throw bad('account', o.account, 'expected an account name (letters, digits, . _ -)');
  if (o.time !== undefined && !SLURM_TIME.test(o.time)) throw bad('time', o.time, "expected a Slurm time limit: minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes or days-hours:minutes:seconds");
  if (o.mem !== undefined && !MEM.test(o.mem)) throw bad('mem', o.mem, 'expected a memory size such as 4000M or 16G');
  if (o.gres !== undefined && !GRES.test(o.gres)) throw bad('gres', o.gres, 'expected a generic resource such as gpu:1 or gpu:a100:1');
  if (!Number.isInteger(o.cpusPerTask) || o.cpusPerTask < 1) throw bad('cpus-per-task', o.cpusPerTask, 'expected an integer ≥ 1');
  if (!Number.isInteger(o.maxRunning) || o.maxRunning < 1) throw bad('jobs', o.maxRunning, 'expected an integer ≥ 1');
}

/** Checks that a path can stand in an `#SBATCH` line (no white space, quotes, `%` or `\`), naming it. */
export function checkSbatchPath(path: string, what: string): void {
  if (/[\s'"%\\$`]/.test(path)) throw new Error(`${what} ${JSON.stringify(path)} cannot stand in an #SBATCH line (white space, quotes, '%', '$', '\\' or '\`'); choose a folder path without them`);
}

/** A word for bash: single-quoted unless it is plainly safe. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./=:,+@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `0-(N-1)%M`, or the given indices (`1,3`) with `%M`. */
export function arraySpec(runs: number, maxRunning: number, indices?: readonly number[]): string {
  const list = indices ? indices.join(',') : runs === 1 ? '0' : `0-${runs - 1}`;
  return `${list}%${Math.min(maxRunning, indices?.length ?? runs)}`;
}

function resourceLines(o: SlurmOptions, gres: boolean): string[] {
  return [
    ...(o.partition ? [`--partition=${o.partition}`] : []),
    ...(o.account ? [`--account=${o.account}`] : []),
    ...(o.time ? [`--time=${o.time}`] : []),
    `--cpus-per-task=${o.cpusPerTask}`,
    ...(o.mem ? [`--mem=${o.mem}`] : []),
    ...(gres && o.gres ? [`--gres=${o.gres}`] : []),
  ];
}

/** The command line that `exec`s the CLI from the project's folder. `SWITCHYARD_NODE` replaces the node that wrote the script. */
function execLines(command: string, args: string[], cwd: string): string[] {
  const words = args.map((a) => (a === TASK_INDEX ? a : shellWord(a)));
  return [`cd ${shellWord(cwd)}`, `exec "\${SWITCHYARD_NODE:-${command}}" ${words.join(' ')}`];
}

function script(head: string[], sbatch: string[], body: string[]): string {
  return ['#!/bin/bash', ...head.map((l) => `# ${l}`), ...sbatch.map((l) => `#SBATCH ${l}`), 'set -eu', ...body, ''].join('\n');
}

const jobName = (sweep: SweepFile) => `switchyard-${sweep.experiment}-${sweep.preset}`;

/** `submit.sbatch`: one array task per run of the sweep in `dir` (an absolute path on disk every node mounts). */
export function submitScript(dir: string, sweep: SweepFile, backend: ConcreteBackend, o: SlurmOptions): string {
  checkSbatchPath(dir, 'sweep folder');
  const { command, args, cwd } = runOneCommand(dir, TASK_INDEX, backend);
  const n = sweep.runs.length;
  return script(
    [
      `Switchyard: experiment ${sweep.experiment}, preset ${sweep.preset}, ${n} runs of ${sweep.steps} steps (sweep.json beside this file), backend ${backend}.`,
      'One array task per run. A finished run is a no-op and a stopped one resumes from its checkpoint, so',
      'submitting again runs only what is left. Submit with the report after it:',
      `  jid=$(sbatch --parsable ${dir}/submit.sbatch)`,
      `  sbatch --dependency=afterok:$jid ${dir}/report.sbatch`,
      "The task execs the trainer: Slurm's SIGTERM (time limit, preemption, requeue) reaches it, and it",
      'stops at a step boundary with a checkpoint. `scancel --signal=TERM` needs --batch (or --full) to reach it.',
    ],
    [
      `--job-name=${jobName(sweep)}`,
      `--array=${arraySpec(n, o.maxRunning)}`,
      '--requeue',
      '--open-mode=append',
      `--output=${dir}/logs/slurm-%A_%a.out`,
      ...resourceLines(o, true),
    ],
    [': "${SLURM_ARRAY_TASK_ID:?submit.sbatch runs as a Slurm job array: sbatch submit.sbatch}"', ...execLines(command, [...args, '--diverged-ok'], cwd)],
  );
}

/** `report.sbatch`: builds the report from whatever runs exist, after the array (submit it with `--dependency=afterok:<array job>`). */
export function reportScript(dir: string, sweep: SweepFile, o: SlurmOptions): string {
  checkSbatchPath(dir, 'sweep folder');
  const { command, args, cwd } = cliCommand('report', dir);
  return script(
    [
      `Switchyard: the report of experiment ${sweep.experiment}, preset ${sweep.preset}, from the runs in ${dir}/runs.`,
      'Submit it after the array job: sbatch --dependency=afterok:<array job id> report.sbatch',
      'It names missing or failed runs in the report and in its log; it can also run anywhere: switchyard report <folder>.',
    ],
    [`--job-name=${jobName(sweep)}-report`, '--kill-on-invalid-dep=yes', '--open-mode=append', `--output=${dir}/logs/slurm-report-%j.out`, ...resourceLines({ ...o, cpusPerTask: 1 }, false)],
    execLines(command, args, cwd),
  );
}
