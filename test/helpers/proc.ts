/** Child processes for tests that exercise the command line as a user or a batch system runs it. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where test/experiments.test.ts leaves a finished quick sweep of every experiment, for the tests after it. */
export const TEST_RESULTS = join(ROOT, '.cache', 'test-results');

/** The environment for child commands: no backend or software-GPU choice inherited from the caller. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, SWITCHYARD_BACKEND: '', SWITCHYARD_ALLOW_SOFTWARE_GPU: '', XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...extra };
}

/** Runs the CLI to completion (node + tsx, as `npm run cli` does). */
export function cliSync(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'kernel-lib/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: childEnv(env) });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A running child whose output is collected as it comes. */
export interface Running {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stderr matches `re` (rejects after `ms` or if the process ends first). */
  waitForStderr(re: RegExp, ms?: number): Promise<void>;
  /** Resolves with the exit code (or 128 + signal number when killed by a signal). */
  exited: Promise<number>;
}

/**
 * `group: true` starts the child as the leader of a process group of its own, as a shell starts
 * a foreground job: `signalGroup` then signals it and everything it started, as Ctrl-C does.
 */
export function startProcess(command: string, args: string[], env: Record<string, string> = {}, o: { group?: boolean } = {}): Running {
  const proc = spawn(command, args, { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: o.group ?? false });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number>((resolve) => proc.on('close', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : signal === 'SIGINT' ? 2 : 0))));
  let ended = false;
  void exited.then(() => (ended = true));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr: async (re, ms = 60_000) => {
      const t0 = Date.now();
      while (!re.test(err)) {
        if (ended) throw new Error(`process ended before stderr matched ${re}:\n${err}`);
        if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re} on stderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** Starts the CLI in the background. */
export function startCli(args: string[], env: Record<string, string> = {}, o: { group?: boolean } = {}): Running {
  return startProcess(process.execPath, ['--import', 'tsx', 'kernel-lib/cli.ts', ...args], env, o);
}

/** Sends `sig` to every process of a child started with `group: true` (what Ctrl-C does at a terminal). */
export function signalGroup(r: Running, sig: NodeJS.Signals): void {
  process.kill(-r.proc.pid!, sig);
}

/** Command-line flags for a tiny training run (the tinyConfig of train-config.ts). */
export function tinyFlags(outDir: string, name: string, extra: Record<string, string | number> = {}): string[] {
  const v: Record<string, string | number> = {
    outDir, name, backend: 'wasm', vocabSize: 400, seqLen: 16, batchSize: 4, dModel: 32, numHeads: 2, numLayers: 2, dFf: 64,
    router: 'top1', numExperts: 4, capacityFactor: 1.0, jitterEps: 0.01, dropout: 0.1, expertDropout: 0.1, warmupSteps: 3, lr: 3e-3,
    evalEvery: 0, evalBatches: 2, checkpointEvery: 0, progress: 'lines', ...extra,
  };
  return Object.entries(v).map(([k, x]) => `--${k}=${x}`);
}
