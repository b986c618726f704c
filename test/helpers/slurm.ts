/**
 * A real single-node Slurm cluster for the tests (scripts/slurm-local.sh), and what the tests
 * ask it: job states through `squeue` (polled: quicker than `sbatch --wait`), job details through
 * `scontrol show job`. Starting fails, naming what to install, when Slurm or munge are missing:
 * the tests fail instead of skipping.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './proc.ts';

/** Job states after which a job does nothing more (unless requeued). */
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

export interface LocalCluster {
  /** The environment for Slurm commands and the CLI (SLURM_CONF). */
  env: Record<string, string>;
  dir: string;
  /** Runs a Slurm command; throws with its output when it fails. */
  run(command: string, args: string[]): string;
  /** State of each job id (array tasks as `<array>_<task>`), as squeue lists them (finished jobs too, for MinJobAge). */
  states(ids: string[]): Map<string, string>;
  /** `scontrol show job <id>` as key → value. */
  show(id: string): Record<string, string>;
  /** Polls until `done(states)` holds; returns the states. */
  waitFor(ids: string[], done: (s: Map<string, string>) => boolean, what: string, ms: number): Promise<Map<string, string>>;
  stop(): void;
}

const script = join(ROOT, 'scripts', 'slurm-local.sh');

/** Starts a cluster in a new temporary folder; throws with the script's message when it cannot. */
export function startCluster(): LocalCluster {
  const parent = mkdtempSync(join(tmpdir(), 'switchyard-slurm-'));
  chmodSync(parent, 0o755); // munged runs as the munge user and must reach its socket in there
  const dir = join(parent, 'cluster');
  const r = spawnSync('bash', [script, 'start', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`a local Slurm cluster could not start (bash scripts/slurm-local.sh start, exit ${r.status}):\n${r.stderr}`);
  const conf = /^export SLURM_CONF=(.+)$/m.exec(r.stdout)?.[1];
  if (!conf) throw new Error(`slurm-local.sh start printed no SLURM_CONF:\n${r.stdout}\n${r.stderr}`);
  const env = { SLURM_CONF: conf };
  const run = (command: string, args: string[]) => {
    const out = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env } });
    if (out.error || out.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${out.status}): ${out.error?.message ?? ''}${out.stderr}${out.stdout}`);
    return out.stdout;
  };
  const states = (ids: string[]) =>
    new Map(
      run('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i %T'])
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => line.trim().split(/\s+/) as [string, string]),
    );
  return {
    env,
    dir,
    run,
    states,
    show: (id) => Object.fromEntries([...run('scontrol', ['show', 'job', id]).matchAll(/(\w+)=(\S*)/g)].map((m) => [m[1], m[2]])),
    waitFor: async (ids, done, what, ms) => {
      const t0 = Date.now();
      for (;;) {
        const s = states(ids);
        if (done(s)) return s;
        if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}; squeue: ${JSON.stringify([...s])}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    stop: () => {
      const out = spawnSync('bash', [script, 'stop', dir], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`slurm-local.sh stop failed (exit ${out.status}): ${out.stderr}`);
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** Whether every id in `expected` is listed and in a terminal state. */
export function allEnded(expected: string[]): (s: Map<string, string>) => boolean {
  return (s) => expected.every((id) => TERMINAL.has(s.get(id) ?? ''));
}
