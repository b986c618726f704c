/**
 * Runs notebooks headlessly on the project's tslab kernel (scripts/run-notebook.py: nbclient,
 * then nbconvert's HTML export) and reads their outputs. Jupyter comes from Debian: its
 * `/usr/bin/python3`, not whatever `python3` is first on the PATH.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registerKernelspec } from '../../scripts/kernelspec.ts';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const PYTHON = process.env.SWITCHYARD_JUPYTER_PYTHON ?? '/usr/bin/python3';
const JUPYTER_PACKAGES = 'jupyter-nbconvert python3-nbclient jupyter-client';

/** Throws naming the Debian packages when nbclient or nbconvert cannot be imported. */
export function requireJupyter(): void {
  const r = spawnSync(PYTHON, ['-c', 'import nbclient, nbconvert, jupyter_client'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.stderr.trim().split('\n').pop();
    throw new Error(`${PYTHON} cannot run notebooks (${why}): install Debian's ${JUPYTER_PACKAGES} (sudo apt-get install ${JUPYTER_PACKAGES})`);
  }
}

/** Builds dist/ when a source is newer (the kernel loads the built `switchyard`), and registers the kernelspec. */
export function prepareKernel(): string {
  const b = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'build.ts'), '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stderr}`);
  return registerKernelspec(ROOT);
}

export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

export interface ExecutedNotebook {
  ok: boolean;
  /** run-notebook.py's stderr (the failing cell's error, when one failed). */
  stderr: string;
  outputs: NotebookOutput[];
  seconds: number;
}

/** Executes `notebook` (kernel cwd: `cwd`), writing the executed copy and its HTML export. */
export function runNotebook(
  notebook: string,
  opts: { jupyterPath: string; outIpynb: string; outHtml: string; cwd?: string; timeoutSec?: number; env?: Record<string, string> },
): ExecutedNotebook {
  const t0 = Date.now();
  const args = [join(ROOT, 'scripts', 'run-notebook.py'), notebook, '--out-ipynb', opts.outIpynb, '--out-html', opts.outHtml, '--timeout', String(opts.timeoutSec ?? 600)];
  if (opts.cwd) args.push('--cwd', opts.cwd);
  const r = spawnSync(PYTHON, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, JUPYTER_PATH: opts.jupyterPath, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (Date.now() - t0) / 1000;
  let outputs: NotebookOutput[] = [];
  try {
    const nb = JSON.parse(readFileSync(opts.outIpynb, 'utf8')) as { cells: { outputs?: NotebookOutput[] }[] };
    outputs = nb.cells.flatMap((c) => c.outputs ?? []);
  } catch {
    // no executed copy: the run failed before writing it; stderr says why
  }
  return { ok: r.status === 0, stderr: `${r.error?.message ?? ''}${r.stderr}`, outputs, seconds };
}

/** One notebook JSON (nbformat 4.5) from code cells, for the tslab kernel. */
export function notebookJson(cells: string[]): string {
  return JSON.stringify(
    {
      cells: cells.map((source, i) => ({ cell_type: 'code', id: `cell-${i}`, metadata: {}, execution_count: null, outputs: [], source })),
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript (Switchyard)', language: 'typescript' }, language_info: { name: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    },
    null,
    1,
  );
}

/** The ```ts code blocks of a Markdown file, in order. */
export function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** A display output's data of one MIME type ('' for other outputs, or without that type). */
function displayData(o: NotebookOutput, mime: string): string {
  const t = o.data?.[mime];
  return Array.isArray(t) ? t.join('') : typeof t === 'string' ? t : '';
}

/** A display output's `text/plain`. */
export const displayText = (o: NotebookOutput): string => displayData(o, 'text/plain');

/** A display output's `text/html`. */
export const displayHtml = (o: NotebookOutput): string => displayData(o, 'text/html');

/** Text of a stream or error output. */
export function outputText(o: NotebookOutput): string {
  if (o.output_type === 'error') return `${o.ename}: ${o.evalue}`;
  const t = o.text ?? '';
  return Array.isArray(t) ? t.join('') : t;
}
