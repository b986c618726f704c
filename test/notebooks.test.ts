/**
 * Every notebook in notebooks/, and a notebook made of README.md's ```ts blocks, runs top to
 * bottom on the project's tslab kernel without an error; its HTML export, opened in headless
 * Chromium with every request intercepted, draws every figure with plotly, with no page error
 * and no request but file: and data:. Needs Debian's jupyter-nbconvert, python3-nbclient,
 * jupyter-client and chromium: without them these tests fail, saying what to install.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { checkPage, launchChromium, requireChromium, type PageCheck } from './helpers/browser.ts';
import { notebookJson, outputText, prepareKernel, requireJupyter, ROOT, runNotebook, tsBlocks, type ExecutedNotebook } from './helpers/notebook.ts';

const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
/** nbconvert's Debian template links optional local copies of require.js and MathJax (libjs-* packages). */
const DEBIAN_TEMPLATE_FILES = 'file:///usr/share/javascript/';

const notebooks = readdirSync(join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();

/** Asserts two texts are the same but for numbers that differ by at most 1e-3 relative (float rounding across backends). */
function assertSameNumbers(got: string, want: string): void {
  const split = (t: string) => t.split(/(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)/);
  const g = split(got);
  const w = split(want);
  assert.equal(g.length, w.length, `different shape:\n${got}\n---\n${want}`);
  g.forEach((part, i) => {
    if (i % 2 === 0) assert.equal(part, w[i], `text differs:\n${got}\n---\n${want}`);
    else assert.ok(Math.abs(Number(part) - Number(w[i])) <= 1e-3 * Math.max(1, Math.abs(Number(w[i]))), `${part} vs ${w[i]}:\n${got}\n---\n${want}`);
  });
}

/** Asserts a run succeeded and its export drew every figure offline; returns the page check. */
async function assertRunAndExport(browser: Browser, name: string, run: ExecutedNotebook, html: string): Promise<PageCheck> {
  assert.ok(run.ok, `${name} failed on the tslab kernel:\n${run.stderr}`);
  const errors = run.outputs.filter((o) => o.output_type === 'error');
  assert.deepEqual(errors.map(outputText), [], `${name}: error outputs`);
  const figures = run.outputs.filter((o) => o.data && PLOTLY_MIME in o.data).length;
  const page = await checkPage(browser, html);
  assert.deepEqual(page.pageErrors, [], `${name}: page errors in the HTML export`);
  assert.deepEqual(page.blocked, [], `${name}: the HTML export asked for the network`);
  assert.deepEqual(page.failedFiles.filter((u) => !u.startsWith(DEBIAN_TEMPLATE_FILES)), [], `${name}: missing local files`);
  assert.equal(page.plots.length, figures, `${name}: ${figures} figures shown, ${page.plots.length} plot divs in the export`);
  for (const p of page.plots) {
    assert.ok(p.drawn, `${name}: figure ${p.id} was not drawn by plotly${p.text ? ` (it says: ${p.text})` : ''}`);
    assert.ok(p.traces > 0 && p.drawnTraces >= p.traces, `${name}: figure ${p.id} drew ${p.drawnTraces} of ${p.traces} traces`);
  }
  return page;
}

describe('notebooks', () => {
  let browser: Browser;
  let jupyterPath: string;
  const out = mkdtempSync(join(tmpdir(), 'switchyard-notebooks-'));
  /** Executed notebooks by file name, for comparisons across backends. */
  const runs = new Map<string, ExecutedNotebook>();

  before(async () => {
    requireJupyter();
    requireChromium();
    jupyterPath = prepareKernel();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    rmSync(out, { recursive: true, force: true });
  });

  test('there are notebooks, starting with 00-switch-layer', () => {
    assert.equal(notebooks[0], '00-switch-layer.ipynb');
  });

  for (const nb of notebooks) {
    test(`${nb} runs top to bottom on tslab; its HTML export draws every figure offline`, async (t) => {
      const name = basename(nb, '.ipynb');
      const html = join(out, `${name}.html`);
      const run = runNotebook(join(ROOT, 'notebooks', nb), { jupyterPath, outIpynb: join(out, nb), outHtml: html });
      runs.set(nb, run);
      const page = await assertRunAndExport(browser, nb, run, html);
      const text = run.outputs.map(outputText).join('');
      assert.match(text, /backend \w+ on /, `${nb} does not say which backend and device ran`);
      t.diagnostic(`${nb}: ${run.seconds.toFixed(1)} s on the kernel, ${page.plots.length} figures drawn`);
    });
  }

  test('00-switch-layer also runs on WebGPU (asynchronous reads only), routing as on the default backend', (t) => {
    const nb = '00-switch-layer.ipynb';
    const base = runs.get(nb) ?? runNotebook(join(ROOT, 'notebooks', nb), { jupyterPath, outIpynb: join(out, nb), outHtml: join(out, '00.html') });
    const run = runNotebook(join(ROOT, 'notebooks', nb), {
      jupyterPath,
      outIpynb: join(out, '00-webgpu.ipynb'),
      outHtml: join(out, '00-webgpu.html'),
      env: { SWITCHYARD_ALLOW_SOFTWARE_GPU: '1' }, // 'auto' then takes a software adapter too (lavapipe in CI)
    });
    assert.ok(run.ok, `00-switch-layer failed on webgpu:\n${run.stderr}`);
    const text = run.outputs.map(outputText).join('');
    assert.match(text, /backend webgpu on /);
    // Every routing decision (counts, capacities, drops) as the default backend made them; losses agree to display precision.
    const tables = (r: ExecutedNotebook) => r.outputs.filter((o) => String(o.data?.['text/html'] ?? '').includes('switchyard-table')).map((o) => String(o.data?.['text/plain']));
    const capacityLine = (r: ExecutedNotebook) => r.outputs.map(outputText).join('').match(/capacity C = .*/)?.[0];
    assert.ok(capacityLine(base), 'the default run printed no capacity line');
    assert.equal(capacityLine(run), capacityLine(base));
    const a = tables(run);
    const b = tables(base);
    assert.equal(a.length, b.length);
    a.forEach((tab, i) => assertSameNumbers(tab, b[i]));
    assert.match(text, /tensors: 0 now, 0 at the start/);
    t.diagnostic(`00-switch-layer on webgpu: ${run.seconds.toFixed(1)} s`);
  });

  test("README's ts examples run in order in one tslab notebook, leave no tensor, and draw their figure", async (t) => {
    const blocks = tsBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    assert.ok(blocks.length >= 3, `README.md has ${blocks.length} ts blocks`);
    for (const b of blocks) assert.match(b, /from 'switchyard'/, `a README example does not import from 'switchyard':\n${b}`);
    const check = "import * as tf from '@tensorflow/tfjs';\nif (tf.memory().numTensors !== 0) throw new Error(`the README examples left ${tf.memory().numTensors} tensors`);";
    // A folder under notebooks/ (tslab resolves 'switchyard' from the kernel's working directory); runs/ goes there too.
    const dir = mkdtempSync(join(ROOT, 'notebooks', '.readme-'));
    try {
      const nb = join(dir, 'readme.ipynb');
      writeFileSync(nb, notebookJson([...blocks, check]));
      const html = join(out, 'readme.html');
      const run = runNotebook(nb, { jupyterPath, outIpynb: join(out, 'readme.ipynb'), outHtml: html, cwd: dir });
      const page = await assertRunAndExport(browser, 'README', run, html);
      assert.ok(page.plots.length >= 1, 'the README examples show no figure');
      t.diagnostic(`README examples: ${run.seconds.toFixed(1)} s on the kernel`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
