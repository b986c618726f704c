/**
 * Optional native backend: `@tensorflow/tfjs-node-gpu`, else `@tensorflow/tfjs-node`.
 * Neither is a dependency: their install scripts download libtensorflow 2.9.1 at install time,
 * which fails offline. Users who can install one get the `tensorflow` backend.
 */

export const TENSORFLOW_INSTALL_HINT =
  'The tensorflow backend needs @tensorflow/tfjs-node-gpu (CUDA 11.2, cuDNN 8.1, NVIDIA driver) or @tensorflow/tfjs-node (CPU), ' +
  'version 4.22.0, installed by you: `npm install @tensorflow/tfjs-node-gpu@4.22.0`. Its install script downloads libtensorflow 2.9.1, ' +
  'so it needs network access to storage.googleapis.com at install time.';

/** Imports the first installed tfjs-node package, which registers the `tensorflow` backend. */
export async function loadTensorflowBinding(): Promise<string> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return pkg;
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      errors.push(`${pkg}: ${msg}`);
    }
  }
  throw new Error(`not installed (${errors.join('; ')}). ${TENSORFLOW_INSTALL_HINT}`);
}
