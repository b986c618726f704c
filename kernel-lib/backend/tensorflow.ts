/**
 * Optional native backend: `@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node`.
 * Neither is a dependency: their install scripts download libtensorflow 2.9.1 at install time,
 * which fails offline. Users who can install one get the `tensorflow` backend.
 */

export const TENSORFLOW_INSTALL_HINT =
  'The tensorflow backend needs @tensorflow/tfjs-node-gpu (CUDA 11.2, cuDNN 8.1, NVIDIA driver) or @tensorflow/tfjs-node (CPU), ' +
  'version 4.22.0, installed by you: `npm install @tensorflow/tfjs-node-gpu@4.22.0`. Its install script downloads libtensorflow 2.9.1, ' +
  'so it needs network access at install time.';

/** Imports the first installed tfjs-node package, which registers the `tensorflow` backend. */
export async function loadTensorflowBinding(): Promise<string> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
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
