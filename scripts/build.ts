/**
 * `npm run build` (also run by `npm install`/`npm ci` through `prepare`, and first by `npm test`):
 * builds the public entry `switchyard` from kernel-lib/index.ts.
 *
 * 1. dist/switchyard.cjs: one CommonJS bundle (esbuild) with every npm package external, so a
 *    process that also imports @tensorflow/tfjs shares one tfjs instance with the library.
 *    CommonJS serves tslab (which compiles cells to CommonJS), `require`, and ESM `import` alike,
 *    so there is one copy of the library per process whichever way it is loaded.
 * 2. dist/types/: declarations (tsc), relative `.ts` specifiers rewritten to `.js`, which
 *    TypeScript's node10 resolution (tslab's) and NodeNext both read.
 * 3. notebooks/node_modules/switchyard: a link to the project, for tslab's TypeScript (node10
 *    resolution reads packages from node_modules only). Node, tsx and tsc (NodeNext) need no
 *    link: inside the project they resolve `'switchyard'` to the project itself through its
 *    package.json `exports` (self-reference). The link lives outside the root node_modules,
 *    which npm prunes of anything it did not install.
 *
 * `--if-stale` builds only when a build input is newer than the outputs (`npm run lab`).
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../kernel-lib/util/atomic.ts';
import { projectRoot } from '../kernel-lib/util/project-root.ts';
import { staleInputs, tsFiles } from '../kernel-lib/util/build-freshness.ts';

const ROOT = projectRoot(import.meta.url);
const DIST = join(ROOT, 'dist');
const log = (msg: string) => process.stderr.write(`[build] ${msg}\n`);

/** Bundles kernel-lib/index.ts; fails on any esbuild warning (e.g. a new `import.meta` use it cannot map). */
async function bundle(): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['kernel-lib/index.ts'],
    outfile: join(DIST, 'switchyard.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    write: false,
    logLevel: 'silent',
    // import.meta.url is the bundle's own file: modules find the project root from it (util/project-root.ts).
    define: { 'import.meta.url': '__switchyardBundleUrl' },
    banner: { js: `'use strict';\nconst __switchyardBundleUrl = require('node:url').pathToFileURL(__filename).href;` },
  });
  const problems = [...result.errors, ...result.warnings];
  if (problems.length) {
    throw new Error(`esbuild: ${problems.map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`).join('\n')}`);
  }
  for (const f of result.outputFiles) writeFileAtomic(f.path, f.contents);
}

/** Emits declarations into a fresh folder, rewrites `.ts` specifiers, then swaps it in. */
function declarations(): void {
  const tmp = join(DIST, `.types-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) throw new Error(`build: ${tsc} is missing: install the dev dependencies (\`npm install\`, not \`--omit=dev\`)`);
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', tmp], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`build: tsc (declarations) failed:\n${r.stdout}${r.stderr}`);
  }
  for (const file of tsFiles(tmp)) {
    if (!file.endsWith('.d.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(/(['"])(\.\.?\/[^'"]*?)\.ts\1/g, '$1$2.js$1');
    if (fixed !== text) writeFileSync(file, fixed);
  }
  // The entry's declarations sit at kernel-lib/index.d.ts (the root is the project: the library
  // re-exports experiments/); index.d.ts points there.
  writeFileSync(join(tmp, 'index.d.ts'), "export * from './kernel-lib/index.js';\n");
  rmSync(join(DIST, 'types'), { recursive: true, force: true });
  renameSync(tmp, join(DIST, 'types'));
}

/** Links notebooks/node_modules/switchyard to the project (a relative link). */
function linkForNotebooks(root: string = ROOT): void {
  const link = join(root, 'notebooks', 'node_modules', 'switchyard');
  const target = relative(dirname(link), root);
  let current: string | null = null;
  try {
    if (!lstatSync(link).isSymbolicLink()) throw new Error(`build: ${link} exists and is not a link to the project; remove it and run \`npm run build\``);
    current = readlinkSync(link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (current === target) return;
  if (current !== null) rmSync(link);
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link, 'junction');
  log(`linked ${relative(root, link)} -> ${target}`);
}

const t0 = Date.now();
const stale = staleInputs(ROOT);
if (process.argv.includes('--if-stale') && stale.length === 0) {
  log('dist/ is up to date');
} else {
  await bundle();
  declarations();
  log(`dist/switchyard.cjs and dist/types/ built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
linkForNotebooks();
