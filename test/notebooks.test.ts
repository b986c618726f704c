/**
 * Every notebook in notebooks/, and a notebook made of README.md's ```ts blocks, runs top to
 * bottom on the project's tslab kernel without an error; its HTML export, opened in headless
 * Chromium with every request intercepted, draws every figure with plotly, with no page error
 * and no request but file: and data:. Needs Debian's jupyter-nbconvert, python3-nbclient,
 * jupyter-client and chromium: without them these tests fail, saying what to install.
 *
 * The experiment notebooks (01-scaling …) load the latest finished quick sweep from
 * `.cache/test-results/`, where test/experiments.test.ts (run before this file) leaves one per
 * experiment; where none is there they run the quick preset into it (slower, never skipped).
 * One of them, specialization (the cheapest), gets an empty results folder instead, so the path
 * that runs a sweep from a notebook, with its progress display, runs every time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser } from 'playwright-core';
import { EXPERIMENTS } from '../experiments/index.ts';
import { latestFinishedSweep } from '../kernel-lib/exp/orchestrate.ts';
import { loadReport } from '../kernel-lib/exp/report.ts';
import { deviceText } from '../kernel-lib/report/device.ts';
import { UNDRAWN_FIGURE_TEXT } from '../kernel-lib/report/plotly.ts';
import type { Figure } from '../kernel-lib/report/types.ts';
import { UNIVERSAL_TAGS } from '../kernel-lib/data/index.ts';
import { pathToFileURL } from 'node:url';
import { checkPage, launchChromium, requireChromium, type PageCheck } from './helpers/browser.ts';
import { displayHtml, displayText, notebookJson, outputText, prepareKernel, requireJupyter, ROOT, runNotebook, tsBlocks, type ExecutedNotebook } from './helpers/notebook.ts';
import { TEST_RESULTS } from './helpers/proc.ts';

const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
/** nbconvert's Debian template links optional local copies of require.js and MathJax (libjs-* packages). */
const DEBIAN_TEMPLATE_FILES = 'file:///usr/share/javascript/';

const notebooks = readdirSync(join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();

/** The experiment whose notebook gets an empty results folder, so that it runs its sweep (the cheapest one). */
const RUNS_HERE = 'specialization';
/** The experiment a notebook shows: `01-scaling.ipynb` → `scaling`; null for the others. */
const experimentOf = (nb: string): string | null => {
  const name = nb.match(/^\d\d-(.+)\.ipynb$/)?.[1];
  return name && Object.hasOwn(EXPERIMENTS, name) ? name : null;
};
/** The plot div of figure `id` is `switchyard-<id>-<16 hex digits>`. */
const figureIdOf = (divId: string) => divId.replace(/^switchyard-/, '').replace(/-[0-9a-f]{16}$/, '');
/** Ids of the tables shown (`data-table-id`) in HTML. */
const tableIdsIn = (html: string) => [...html.matchAll(/data-table-id="([^"]*)"/g)].map((m) => m[1]);

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

/**
 * The figure boxes of an HTML export as Chromium shows them with scripts off: what Jupyter shows
 * of a notebook it does not trust (its outputs' HTML, no script run). Each box's text.
 */
async function boxesWithoutScripts(browser: Browser, file: string): Promise<{ id: string; text: string }[]> {
  const context = await browser.newContext({ offline: true, javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
    return await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.switchyard-plot')].map((el) => ({ id: el.id, text: el.innerText })));
  } finally {
    await context.close();
  }
}

/**
 * With scripts on, once plotly has drawn: for every figure, a drawn box that still shows the
 * "no script has run" text; for every heatmap, an axis title that overlaps one of its axis's tick
 * labels or lies outside the figure. Each problem as a sentence.
 */
async function layoutProblems(browser: Browser, file: string): Promise<string[]> {
  const context = await browser.newContext({ offline: true, viewport: { width: 1200, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('.switchyard-plot')].every((el) => el.querySelector('.main-svg') !== null), undefined, { timeout: 30_000, polling: 200 });
    return await page.evaluate(() => {
      // No named function in here: tsx would wrap it in a helper that the page does not have.
      const problems: string[] = [];
      for (const el of document.querySelectorAll<HTMLElement>('.switchyard-plot')) {
        if (el.querySelector('.switchyard-undrawn')) problems.push(`${el.id}: drawn, yet still says no script has run`);
        if (!el.querySelector('g.hm')) continue;
        const svg = el.querySelector('.main-svg')!.getBoundingClientRect();
        for (const axis of ['x', 'y']) {
          const title = el.querySelector(`.g-${axis}title text`)?.getBoundingClientRect();
          if (!title) continue;
          const inside = title.left >= svg.left - 1 && title.right <= svg.right + 1 && title.top >= svg.top - 1 && title.bottom <= svg.bottom + 1;
          if (!inside) problems.push(`${el.id}: the ${axis} axis title lies outside the figure`);
          const hits = [...el.querySelectorAll(`.${axis}tick text`)]
            .filter((t) => {
              const r = t.getBoundingClientRect();
              return r.left < title.right && title.left < r.right && r.top < title.bottom && title.top < r.bottom;
            })
            .map((t) => t.textContent);
          if (hits.length) problems.push(`${el.id}: the ${axis} axis title overlaps the tick labels ${hits.join(', ')}`);
        }
      }
      return problems;
    });
  } finally {
    await context.close();
  }
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
  assert.deepEqual(await layoutProblems(browser, html), [], `${name}: figure layout in the HTML export`);
  // Opened untrusted (no script runs): every figure box says why it is empty and what to do, instead of staying blank.
  const untrusted = await boxesWithoutScripts(browser, html);
  assert.equal(untrusted.length, figures, `${name}: ${untrusted.length} figure boxes without scripts, ${figures} figures`);
  for (const box of untrusted) assert.ok(box.text.replace(/\s+/g, ' ').includes(UNDRAWN_FIGURE_TEXT), `${name}: figure box ${box.id} without scripts says: ${JSON.stringify(box.text)}`);
  return page;
}

/**
 * Asserts the specialisation heatmaps show only labels present in the sample: every column sums
 * to 1, as the caption says, and the caption counts the labels left out; the NMI-over-training
 * caption speaks of the part of speech it plots, not of the word.
 */
function assertSpecializationFigures(nb: string, figures: Figure[], genres: number): void {
  const heatmaps = figures.filter((f) => /^(tags|genres)-layer/.test(f.id));
  assert.ok(heatmaps.length >= 2, `${nb}: no tag or genre heatmaps`);
  for (const f of heatmaps) {
    const trace = f.data[0] as { x: string[]; z: (number | null)[][] };
    const all = f.id.startsWith('tags') ? UNIVERSAL_TAGS.length : genres;
    trace.x.forEach((label, j) => {
      const sum = trace.z.reduce((s, row) => s + (row[j] ?? 0), 0);
      assert.ok(Math.abs(sum - 1) < 1e-9, `${nb}: ${f.id}: column ${label} sums to ${sum}, the caption says 1`);
    });
    assert.match(f.caption ?? '', /^Each column sums to 1/, `${nb}: ${f.id}: caption`);
    const left = all - trace.x.length;
    const noun = f.id.startsWith('tags') ? 'tag' : 'genre';
    if (left === 0) assert.doesNotMatch(f.caption ?? '', /left out/, `${nb}: ${f.id}: nothing left out, yet the caption says so`);
    else assert.match(f.caption ?? '', new RegExp(` ${left} ${noun}s? absent from the sample (is|are) left out: `), `${nb}: ${f.id}: ${left} columns left out, the caption does not say so: ${f.caption}`);
  }
  for (const f of figures.filter((x) => x.id.startsWith('nmi-over-training-layer'))) {
    assert.match(f.title, /part of speech/);
    assert.match(f.caption ?? '', /part of speech/, `${nb}: ${f.id}: the caption does not say what is plotted`);
    assert.doesNotMatch(f.caption ?? '', /\bword\b/, `${nb}: ${f.id}: the caption speaks of the word; the plot is of the part of speech`);
  }
}

/**
 * Asserts that an experiment notebook showed its report: loaded from the newest finished sweep when
 * there was one (`finishedBefore`), else run (its progress display ending with every run done);
 * the runs' devices, the claims table with a row per claim, and every figure and table of the
 * analysis, drawn in the export.
 */
function assertShowsReport(nb: string, experiment: string, results: string, finishedBefore: string | null, run: ExecutedNotebook, exportHtml: string, page: PageCheck): void {
  const dir = latestFinishedSweep(experiment, 'quick', results);
  assert.ok(dir, `${nb}: no finished ${experiment} sweep in ${results} after the notebook ran`);
  if (finishedBefore) assert.equal(dir, finishedBefore, `${nb}: a finished sweep was there, yet another one was made`);
  const doc = loadReport(dir);
  const texts = run.outputs.map(displayText);
  const htmls = run.outputs.map(displayHtml);
  if (finishedBefore) {
    assert.ok(texts.some((x) => x.startsWith(`Loaded the finished sweep in \`${dir}\`; its report was built ${doc.generated}`)), `${nb}: does not say which results it loaded and when they were built`);
  } else {
    assert.ok(texts.includes(`Ran the sweep in \`${dir}\`.`), `${nb}: does not say it ran the sweep`);
    const runsInSweep = doc.sections[0].tables.find((x) => x.id === 'runs')!.rows.length;
    const progress = texts.filter((x) => x.startsWith(`${experiment}, preset quick: `));
    assert.equal(progress.length, 1, `${nb}: expected one progress output updated in place, got ${progress.length}`);
    assert.match(progress[0], new RegExp(`^${experiment}, preset quick: ${runsInSweep}/${runsInSweep} done`), `${nb}: the progress display did not end with every run done`);
  }
  for (const d of doc.devices) assert.ok(texts.includes(deviceText(d)), `${nb}: does not show the device the runs ran on (${deviceText(d)})`);
  // The claims: the paper's claims in one table (a row each), implementation checks in another, in the notebook and its export.
  const paperClaims = doc.claims.filter((c) => c.kind === 'paper');
  const checkClaims = doc.claims.filter((c) => c.kind === 'check');
  assert.ok(paperClaims.length >= 1, `${nb}: the report has no paper claim`);
  const claims = htmls.filter((h) => tableIdsIn(h).includes('claims'));
  assert.equal(claims.length, 1, `${nb}: expected the paper's claims table once, got ${claims.length}`);
  assert.match(claims[0], /<th[^>]*>paper&#39;s claim<\/th>/);
  assert.equal([...claims[0].matchAll(/<tr>/g)].length, paperClaims.length + 1, `${nb}: the claims table does not have a row per paper claim`);
  const checks = htmls.filter((h) => tableIdsIn(h).includes('checks'));
  assert.equal(checks.length, checkClaims.length ? 1 : 0, `${nb}: expected the checks table ${checkClaims.length ? 'once' : 'not at all'}, got ${checks.length}`);
  if (checkClaims.length) assert.equal([...checks[0].matchAll(/<tr>/g)].length, checkClaims.length + 1, `${nb}: the checks table does not have a row per check`);
  // Every figure and table of the analysis (the sections after "What was run"), figures drawn in the export.
  const analysis = doc.sections.slice(1);
  const drawn = new Set(page.plots.filter((p) => p.drawn).map((p) => figureIdOf(p.id)));
  const missingFigures = analysis.flatMap((s) => s.figures.map((f) => f.id)).filter((id) => !drawn.has(id));
  assert.deepEqual(missingFigures, [], `${nb}: report figures not drawn in the export`);
  const shownTables = new Set(tableIdsIn(exportHtml));
  const missingTables = ['claims', ...(checkClaims.length ? ['checks'] : []), ...analysis.flatMap((s) => s.tables.map((x) => x.id))].filter((id) => !shownTables.has(id));
  assert.deepEqual(missingTables, [], `${nb}: report tables not in the export`);
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

  test('a notebook with a failing cell: the runner fails, names the error and the cell, stops there, still exports what ran', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-failing-nb-'));
    try {
      const nb = join(dir, 'failing.ipynb');
      writeFileSync(nb, notebookJson(['console.log("first cell ran");', 'throw new Error("deliberate failure 7311");', 'console.log("third cell ran");']));
      const html = join(dir, 'failing.html');
      const run = runNotebook(nb, { jupyterPath, outIpynb: join(dir, 'failing.out.ipynb'), outHtml: html, cwd: dir, timeoutSec: 120 });
      assert.equal(run.ok, false, 'a failing cell must fail the run');
      assert.match(run.stderr, /failing\.ipynb: a cell failed:/);
      assert.match(run.stderr, /deliberate failure 7311/);
      assert.match(run.stderr, /throw new Error\("deliberate failure 7311"\)/, 'the failing cell is quoted');
      const texts = run.outputs.map(outputText).join('\n');
      assert.match(texts, /first cell ran/);
      assert.doesNotMatch(texts, /third cell ran/, 'cells after the failure must not run');
      assert.match(texts, /Error: deliberate failure 7311/, 'the executed copy records the error (tslab writes it to the cell\'s stderr)');
      assert.match(readFileSync(html, 'utf8'), /deliberate failure 7311/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('there are notebooks: 00-switch-layer, then one per experiment in order', () => {
    assert.equal(notebooks[0], '00-switch-layer.ipynb');
    Object.keys(EXPERIMENTS).forEach((name, i) => {
      const nb = `${String(i + 1).padStart(2, '0')}-${name}.ipynb`;
      assert.ok(notebooks.includes(nb), `no notebook ${nb} for experiment ${name}`);
    });
  });

  test('notebooks are saved without outputs, import only switchyard and tfjs, and the experiment notebooks default to the quick preset', () => {
    for (const nb of notebooks) {
      const cells = (JSON.parse(readFileSync(join(ROOT, 'notebooks', nb), 'utf8')) as { cells: { cell_type: string; source: string | string[]; outputs?: unknown[]; execution_count?: unknown }[] }).cells;
      const code = cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
      for (const c of cells.filter((x) => x.cell_type === 'code')) {
        assert.deepEqual(c.outputs, [], `${nb} is saved with outputs: clear them before committing`);
        assert.equal(c.execution_count, null, `${nb} is saved with execution counts`);
      }
      const modules = code.flatMap((src) => [...src.matchAll(/\bfrom\s+'([^']+)'|\brequire\('([^']+)'\)|\bimport\('([^']+)'\)/g)].map((m) => m[1] ?? m[2] ?? m[3]));
      assert.deepEqual([...new Set(modules)].filter((m) => m !== 'switchyard' && m !== '@tensorflow/tfjs'), [], `${nb} imports something other than 'switchyard' and '@tensorflow/tfjs'`);
      if (experimentOf(nb)) {
        const config = code.filter((src) => /\bconst PRESET\b/.test(src));
        assert.equal(config.length, 1, `${nb}: one cell must set PRESET`);
        assert.match(config[0], /^const PRESET: PresetName = 'quick'; const RUN_AGAIN = false; const BUDGET_MINUTES: number \| undefined = undefined;$/m, `${nb}: the configuration line must default to the quick preset, loading finished results`);
      }
    }
  });

  for (const nb of notebooks) {
    const experiment = experimentOf(nb);
    test(`${nb} runs top to bottom on tslab; its HTML export draws every figure offline${experiment ? `; it shows the ${experiment} report (${experiment === RUNS_HERE ? 'running its quick preset into an empty results folder' : 'from the shared quick results, run into them when missing'})` : ''}`, async (t) => {
      const name = basename(nb, '.ipynb');
      const html = join(out, `${name}.html`);
      // Experiment notebooks: the shared finished results, or for one of them an empty folder (it runs its sweep).
      const results = experiment === RUNS_HERE ? mkdtempSync(join(tmpdir(), 'switchyard-nb-results-')) : TEST_RESULTS;
      try {
        const finishedBefore = experiment ? latestFinishedSweep(experiment, 'quick', results) : null;
        // A sweep run from a notebook is one cell: up to a few minutes at the quick preset on 2 busy cores.
        const run = runNotebook(join(ROOT, 'notebooks', nb), { jupyterPath, outIpynb: join(out, nb), outHtml: html, env: experiment ? { SWITCHYARD_RESULTS: results } : {}, timeoutSec: experiment ? 1200 : undefined });
        runs.set(nb, run);
        const page = await assertRunAndExport(browser, nb, run, html);
        const text = [...run.outputs.map(outputText), ...run.outputs.map(displayText)].join('\n');
        assert.match(text, /backend \w+ on /, `${nb} does not say which backend and device ran`);
        assert.match(text, /tensors: (\d+) now, \1 at the start/, `${nb} does not end with tf.memory().numTensors where it started`);
        if (experiment) assertShowsReport(nb, experiment, results, finishedBefore, run, readFileSync(html, 'utf8'), page);
        if (experiment === 'specialization') {
          const doc = loadReport(latestFinishedSweep(experiment, 'quick', results)!);
          assertSpecializationFigures(nb, doc.sections.flatMap((s) => s.figures), 15); // Brown's 15 genres
        }
        if (nb === '01-scaling.ipynb') {
          // The danfojs group-by table: readable headers, and each column's numbers in one format.
          const grouped = run.outputs.map(displayHtml).find((h) => h.includes('Final validation loss per configuration'));
          assert.ok(grouped, `${nb}: no grouped table`);
          const headers = [...grouped.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
          assert.deepEqual(headers, ['group', 'final validation loss (mean)', 'final validation loss (std)', 'final validation loss (count)']);
          const rows = [...grouped.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((c) => c[1])).filter((r) => r.length > 0);
          assert.ok(rows.length >= 2, `${nb}: grouped table has ${rows.length} rows`);
          for (let j = 1; j < headers.length; j++) {
            const formats = new Set(rows.map((r) => {
              const m = /^-?\d+(?:\.(\d+))?$/.exec(r[j]);
              return m ? `${m[1]?.length ?? 0} decimals` : r[j];
            }));
            assert.equal(formats.size, 1, `${nb}: column ${headers[j]} mixes number formats: ${rows.map((r) => r[j]).join(', ')}`);
          }
        }
        if (nb === '00-switch-layer.ipynb') {
          // The backend line once, as the device banner: no stderr box (useBackend's own line is off there).
          const streams = run.outputs.filter((o) => o.output_type === 'stream');
          assert.deepEqual(streams.filter((o) => o.name === 'stderr').map(outputText), [], `${nb}: stderr outputs`);
          const mentions = [...run.outputs.map(outputText), ...run.outputs.map(displayText)].filter((x) => /backend \w+ on /.test(x));
          assert.equal(mentions.length, 1, `${nb}: the backend line is shown ${mentions.length} times:\n${mentions.join('\n')}`);
          assert.match(mentions[0], /^Ran on backend /);
        }
        t.diagnostic(`${nb}: ${run.seconds.toFixed(1)} s on the kernel, ${page.plots.length} figures drawn${experiment ? (finishedBefore ? ', results loaded' : ', quick preset run here') : ''}`);
      } finally {
        if (results !== TEST_RESULTS) rmSync(results, { recursive: true, force: true });
      }
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
    const text = [...run.outputs.map(outputText), ...run.outputs.map(displayText)].join('');
    assert.match(text, /Ran on backend webgpu on /);
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
