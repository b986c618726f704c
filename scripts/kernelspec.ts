/**
 * Registers the project-local tslab kernelspec: `.jupyter/kernels/tslab/kernel.json` in the
 * project (git-ignored), found by Jupyter through `JUPYTER_PATH=<project>/.jupyter`. Nothing is
 * written to the user's home. The kernel runs this project's tslab with the Node running this
 * script, so notebooks use the project's dependencies and its `switchyard` build.
 *
 * `npm run lab` and the notebook tests call it; `tsx scripts/kernelspec.ts` prints the
 * JUPYTER_PATH to use.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeJsonAtomic } from '../kernel-lib/util/atomic.ts';
import { projectRoot } from '../kernel-lib/util/project-root.ts';

/** The kernelspec name notebooks name in their metadata (the same as tslab's own installer). */
export const KERNEL_NAME = 'tslab';

/** Writes the kernelspec; returns the folder to put in JUPYTER_PATH. */
export function registerKernelspec(root: string = projectRoot(import.meta.url)): string {
  const tslab = join(root, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!existsSync(tslab)) throw new Error(`kernelspec: ${tslab} is missing; run \`npm install\` in ${root}`);
  const jupyterPath = join(root, '.jupyter');
  writeJsonAtomic(join(jupyterPath, 'kernels', KERNEL_NAME, 'kernel.json'), {
    argv: [process.execPath, tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (Switchyard)',
    language: 'typescript',
    env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
  });
  return jupyterPath;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${registerKernelspec()}\n`);
}
