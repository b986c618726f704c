/**
 * `npm run lab [-- jupyter args]`: builds the library if a source is newer than dist/, registers
 * the project-local tslab kernelspec (.jupyter/, via JUPYTER_PATH; nothing in your home), then
 * starts JupyterLab if `jupyter-lab` is on the PATH, else Jupyter Notebook, on notebooks/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

const build = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'build.ts'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

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
  const child = spawn(jupyter, [`--notebook-dir=${join(ROOT, 'notebooks')}`, ...process.argv.slice(2)], { cwd: ROOT, env, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}
