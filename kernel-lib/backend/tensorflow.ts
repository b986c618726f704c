/**
 * Optional native backend: `@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node`.
 * Neither is a dependency: their install scripts download libtensorflow 2.9.1 at install time,
 * which fails offline. Users who can install one get the `tensorflow` backend.
 *
 * A package installed under one of these names that is not the binding is not loaded: the
 * project's npm overrides give danfojs-node (tables in notebooks) plain `@tensorflow/tfjs` under
 * the name `@tensorflow/tfjs-node`, and npm may hoist that alias to the top of node_modules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const TENSORFLOW_INSTALL_HINT =
  'The tensorflow backend needs @tensorflow/tfjs-node-gpu (CUDA 11.2, cuDNN 8.1, NVIDIA driver) or @tensorflow/tfjs-node (CPU), ' +
  'version 4.22.0, installed by you: `npm install @tensorflow/tfjs-node-gpu@4.22.0`. Its install script downloads libtensorflow 2.9.1, ' +
  'so it needs network access at install time.';

/** Imports the first installed tfjs-node package, which registers the `tensorflow` backend. */
export async function loadTensorflowBinding(): Promise<string> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if (!isInstalledAs(pkg)) continue;
    try {
      await import(pkg);
      return pkg;
    } catch (err) {
      // Missing is the usual case; anything else (a missing libcuda, a version clash) is worth showing.
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ERR_MODULE_NOT_FOUND') errors.push(`${pkg} failed to load: ${e.message.split('\n')[0]}`);
    }
  }
  const why = errors.length ? errors.join('; ') : 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed';
  throw new Error(`${why}. ${TENSORFLOW_INSTALL_HINT}`);
}

/**
 * False when `pkg` is not installed or is an alias of another package (its package.json has
 * another name); true otherwise, also when its package.json cannot be read (the import decides).
 */
function isInstalledAs(pkg: string): boolean {
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND';
  }
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: string }).name === pkg;
  } catch {
    return true;
  }
}
