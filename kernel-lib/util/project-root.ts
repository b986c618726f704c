/**
 * The project root (the folder holding Switchyard's package.json), found the same way from the
 * TypeScript sources (`kernel-lib/…/*.ts` under tsx) and from the bundle (`dist/switchyard.cjs`):
 * walk up from the calling module's file to the nearest package.json named `switchyard`. Paths
 * such as `.cache/` and the notebooks' folder are resolved from it, never from `../..` of a source
 * file (which is wrong from dist/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package name that marks the root. */
export const PACKAGE_NAME = 'switchyard';

/**
 * @param from a file URL or path inside the project (pass `import.meta.url`; the bundle maps it to its own file).
 * @returns the absolute path of the nearest enclosing folder whose package.json is named `switchyard`.
 * @throws naming `from` when there is none (a copy of a source file outside the project).
 */
export function projectRoot(from: string = import.meta.url): string {
  const start = from.startsWith('file:') ? fileURLToPath(from) : from;
  for (let dir = dirname(start); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && readName(pkg) === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`projectRoot: no package.json named '${PACKAGE_NAME}' above ${start}`);
}

function readName(pkg: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}
