/**
 * `npm run lab [-- jupyter args]`: builds the library if a source is newer than dist/, registers
 * the project-local tslab kernelspec (.jupyter/, via JUPYTER_PATH; nothing in your home), then
 * starts JupyterLab if `jupyter-lab` is on the PATH, else Jupyter Notebook, on notebooks/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';
import { projectRoot } from '../kernel-lib/util/project-root.ts';
import { registerKernelspec } from './kernelspec.ts';

const ROOT = projectRoot(import.meta.url);

/** The first of `names` found on the PATH, or null. */
function onPath(...names: string[]): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of names) if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

// Signals (Ctrl-C, `kill` of `npm run lab`, a closed terminal) stop Jupyter, which shuts its
// kernels down, and then this process: nothing is left serving the port. npm delivers them here
// because the script is `exec node …` (no shell in between that would die without passing them on).
let stopping: NodeJS.Signals | null = null;
let child: ChildProcess | null = null;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    stopping ??= sig;
    if (child && child.exitCode === null && child.signalCode === null) child.kill(sig);
    else if (!child) process.exit(128 + constants.signals[sig]); // still building: nothing to stop yet
  });
}

/** Runs `command` to its end with the terminal; resolves with its exit code (128 + n if a signal ended it). */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    child = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.on('error', (err) => {
      process.stderr.write(`npm run lab: cannot start ${command}: ${err.message}\n`);
      resolve(2);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

const built = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'build.ts'), '--if-stale']);
child = null;
if (built !== 0 || stopping) {
  process.exitCode = stopping ? 128 + constants.signals[stopping] : built;
} else {
  const jupyterPath = registerKernelspec(ROOT);
  const jupyter = onPath('jupyter-lab') ?? onPath('jupyter-notebook');
  if (!jupyter) {
    process.stderr.write(
      'npm run lab: Jupyter is not installed (no jupyter-lab or jupyter-notebook on the PATH).\n' +
        '  Debian/Ubuntu: sudo apt-get install jupyter-notebook\n' +
        '  elsewhere:     pip install notebook   (or jupyterlab)\n' +
        `The TypeScript kernel is registered in ${jupyterPath}; any Jupyter started with JUPYTER_PATH=${jupyterPath} finds it.\n`,
    );
    process.exitCode = 2;
  } else {
    const env = { ...process.env, JUPYTER_PATH: [jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(delimiter) };
    process.stderr.write(`[lab] ${jupyter} on notebooks/ with the kernel in ${jupyterPath}\n`);
    process.exitCode = await run(jupyter, [`--notebook-dir=${join(ROOT, 'notebooks')}`, ...process.argv.slice(2)], env);
  }
}
