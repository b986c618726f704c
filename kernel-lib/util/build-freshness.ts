/**
 * Whether the built entry (dist/switchyard.cjs) is older than the sources it is built from, so
 * that a notebook never runs an old build silently: the bundle warns when it loads, and
 * `npm run lab` rebuilds.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Files and folders (relative to the project root) the build reads. */
export const BUILD_INPUTS = ['kernel-lib', 'experiments', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.ts'];

/** The build outputs whose age is compared. */
export const BUILD_OUTPUTS = ['dist/switchyard.cjs', 'dist/types/index.d.ts'];

/**
 * The build inputs changed after the oldest build output, relative to `root` (at most `limit`);
 * every input when an output is missing.
 */
export function staleInputs(root: string, limit = 5): string[] {
  const outputs = BUILD_OUTPUTS.map((p) => join(root, p));
  const missing = outputs.filter((p) => !existsSync(p));
  if (missing.length) return missing.map((p) => `${relative(root, p)} (missing)`);
  const built = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  const newer: string[] = [];
  for (const input of BUILD_INPUTS) {
    for (const file of tsFiles(join(root, input))) {
      if (statSync(file).mtimeMs > built) newer.push(relative(root, file));
      if (newer.length >= limit) return newer;
    }
  }
  return newer;
}

/** `path` itself if it is a file, else every `.ts` file under it (none if it does not exist). */
export function* tsFiles(path: string): Generator<string> {
  if (!existsSync(path)) return;
  if (!statSync(path).isDirectory()) {
    yield path;
    return;
  }
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

/**
 * Called by the entry when it loads: when it runs as the bundle inside the project and the
 * sources are newer, says so on stderr (once per process) with the command that fixes it.
 */
export function warnIfStaleBuild(moduleUrl: string, root: string): void {
  if (!moduleUrl.endsWith('.cjs') || !existsSync(join(root, 'kernel-lib'))) return;
  const newer = staleInputs(root);
  if (newer.length) {
    process.stderr.write(`[switchyard] dist/switchyard.cjs is older than ${newer.join(', ')}: this process runs the old build. Run \`npm run build\` (and restart the kernel).\n`);
  }
}
