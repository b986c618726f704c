/**
 * Display helpers without Jupyter: escaping, tables as HTML/text/DataFrames, and what is sent to
 * the kernel (a stand-in for tslab's display writer): plotly.js once per kernel session, each
 * figure as HTML plus plotly JSON, progress as one output updated in place; outside a kernel,
 * text on stdout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeHtml, jsonForScript, scriptSafe } from '../kernel-lib/report/escape.ts';
import { formatCell, formatColumn, tableHtml, tableText } from '../kernel-lib/report/table.ts';
import { readableColumnName, tableFromDataFrame, toDataFrame } from '../kernel-lib/display/dataframe.ts';
import { figureHtml, PLOTLY_MIME, plotlyPackage, UNDRAWN_FIGURE_TEXT } from '../kernel-lib/report/plotly.ts';
import { heatmapFigure } from '../kernel-lib/exp/plots.ts';
import { absentNote, presentShares } from '../experiments/specialization/measures.ts';
import { loadPlotly, showDevice, showFigure, showTable } from '../kernel-lib/display/notebook.ts';
import { progressDisplay } from '../kernel-lib/display/progress.ts';
import type { Figure, Table } from '../kernel-lib/report/types.ts';

const table: Table = { id: 't', title: 'Per <expert>', columns: ['expert', 'load', 'note'], rows: [['e0', 0.123456, 'a&b'], ['e1', 12, null]] };
const figure: Figure = { id: 'f', title: 'Loads', data: [{ type: 'bar', x: [0, 1], y: [1, 2] }], layout: {} };

type Sent = { data: Record<string, unknown>; transient: { display_id?: string }; update: boolean };

/** Installs a stand-in for tslab's jupyter module (found the way the display code finds tslab's). */
function fakeKernel(): { sent: Sent[]; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-fake-'));
  const file = join(dir, 'tslab', 'dist', 'jupyter.js');
  mkdirSync(join(dir, 'tslab', 'dist'), { recursive: true });
  writeFileSync(file, 'exports.lastWriteDisplayData = null;\n');
  const req = createRequire(import.meta.url);
  const mod = req(file) as { lastWriteDisplayData: unknown };
  const sent: Sent[] = [];
  mod.lastWriteDisplayData = (msg: Omit<Sent, 'update'>, update: boolean) => sent.push({ ...msg, update });
  return {
    sent,
    remove: () => {
      delete req.cache[file];
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function captureStdout(fn: () => void): string {
  const write = process.stdout.write.bind(process.stdout);
  let text = '';
  process.stdout.write = ((chunk: string) => {
    text += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return text;
}

describe('escaping', () => {
  test('HTML text and attributes', () => assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;'));
  test('data in a script cannot close it', () => {
    const s = jsonForScript({ t: '</script><script>alert(1)</script>', u: '\u2028' });
    assert.doesNotMatch(s, /<|>|\u2028/);
    assert.deepEqual(JSON.parse(s), { t: '</script><script>alert(1)</script>', u: '\u2028' });
  });
  test('code in a script cannot close it', () => assert.equal(scriptSafe('a="</SCRIPT>"; b="<!--"'), 'a="<\\/SCRIPT>"; b="<\\!--"'));
});

describe('tables', () => {
  test('cells: integers in full, 4 significant digits, exponents for tiny and huge, null empty', () => {
    assert.deepEqual([12, 0.123456, 1234.5678, 1e-5, 2.5e7, null, true, 'x', NaN].map(formatCell), ['12', '0.1235', '1235', '1.000e-5', '25000000', '', 'true', 'x', 'NaN']);
  });
  test('columns: one format per column (integers in full; else fixed decimals for 4 significant digits of the largest, 2 of the smallest; exponents when that is too many)', () => {
    assert.deepEqual(formatColumn([3, 12, 0, null]), ['3', '12', '0', '']);
    assert.deepEqual(formatColumn([5.17895, 5.0002, 5.5]), ['5.179', '5.000', '5.500']);
    assert.deepEqual(formatColumn([0.0785595, 0.000141421, 0]), ['0.07856', '0.00014', '0.00000']);
    assert.deepEqual(formatColumn([0.25, 16, 1]), ['0.25', '16.00', '1.00']);
    assert.deepEqual(formatColumn([1.5, 1e-8]), ['1.500e+0', '1.000e-8']);
    assert.deepEqual(formatColumn([2.5e7, 0.5]), ['2.500e+7', '5.000e-1']);
    assert.deepEqual(formatColumn(['x', 0.5, NaN, -1.25]), ['x', '0.500', 'NaN', '-1.250']);
  });
  test('HTML: caption, escaped cells, numbers right-aligned', () => {
    const html = tableHtml(table);
    assert.match(html, /<caption>Per &#60;expert&#62;<\/caption>/);
    assert.match(html, /<td style="text-align:right">0\.12<\/td>/);
    assert.match(html, /<td style="text-align:right">12\.00<\/td>/);
    assert.match(html, /<td style="text-align:left">a&#38;b<\/td>/);
    assert.throws(() => tableHtml({ ...table, rows: [['e0', 1]] }), /table 't': row 0 has 2 cells, expected 3/);
  });
  test('text: aligned columns', () => assert.equal(tableText(table), 'Per <expert>\nexpert  load   note\n------  -----  ----\ne0      0.12   a&b\ne1      12.00'));
  test('DataFrame both ways keeps every digit', () => {
    const df = toDataFrame(table);
    assert.deepEqual(df.columns, ['expert', 'load', 'note']);
    assert.deepEqual(df.shape, [2, 3]);
    assert.deepEqual(tableFromDataFrame(df, { id: 't', title: 'Per <expert>' }).rows, table.rows);
  });
  test("a danfojs group-by reads '<column> (<statistic>)', each column in one number format", () => {
    const runs: Table = {
      id: 'runs',
      title: 'Runs',
      columns: ['run', 'group', 'final validation loss'],
      rows: [['a', 'dense', 5.1234], ['b', 'dense', 5.2345], ['c', 'switch', 5.0001], ['d', 'switch', 5.0003], ['e', 'top2', 5.5]],
    };
    const grouped = tableFromDataFrame(toDataFrame(runs).groupby(['group']).agg({ 'final validation loss': ['mean', 'std', 'count'] }), { id: 'g', title: 'Per group' });
    assert.deepEqual(grouped.columns, ['group', 'final validation loss (mean)', 'final validation loss (std)', 'final validation loss (count)']);
    assert.equal(
      tableText(grouped),
      [
        'Per group',
        'group   final validation loss (mean)  final validation loss (std)  final validation loss (count)',
        '------  ----------------------------  ---------------------------  -----------------------------',
        'dense   5.179                         0.07856                      2',
        'switch  5.000                         0.00014                      2',
        'top2    5.500                         0.00000                      1',
      ].join('\n'),
    );
    assert.equal(readableColumnName('tokens per step'), 'tokens per step');
    assert.equal(readableColumnName('loss_median'), 'loss (median)');
  });
});

describe('figures', () => {
  test('a small div and script, not plotly.js itself', () => {
    const html = figureHtml(figure, 'fig-1');
    assert.ok(html.length < 3000, `${html.length} characters`);
    assert.match(html, /<div id="fig-1" class="switchyard-plot"/);
    assert.match(plotlyPackage().version, /^\d+\.\d+\.\d+$/);
  });
  test('where no script runs (an untrusted notebook), the box says why it is empty and what to do', () => {
    const html = figureHtml(figure, 'fig-1');
    // What Jupyter shows of an untrusted output: the HTML with its scripts removed.
    const withoutScripts = html.replace(/<script[\s\S]*?<\/script>/g, '');
    const box = withoutScripts.match(/<div id="fig-1" class="switchyard-plot"[^>]*>([\s\S]*?)<\/div>/)?.[1] ?? '';
    assert.ok(box.includes(escapeHtml(UNDRAWN_FIGURE_TEXT)), `the figure box without scripts holds: ${box}`);
    assert.match(UNDRAWN_FIGURE_TEXT, /Trust Notebook/);
    assert.match(UNDRAWN_FIGURE_TEXT, /run the cell again/);
    // The drawing script empties the box before plotly draws into it.
    assert.match(html, /el\.textContent = ''; window\.Plotly\.newPlot\(el/);
  });
  test('heatmap: x labels turned only when long, margins grown for labels and titles (no overlap)', () => {
    const short = heatmapFigure({ id: 'h', title: 'H', rows: ['expert 0', 'expert 1'], columns: ['NOUN', 'VERB', '.'], z: [[1, 0, 0.5], [0, 1, 0.5]], x: 'tag', y: 'expert', scale: 'share' });
    const long = heatmapFigure({ id: 'h', title: 'H', rows: ['expert 0'], columns: ['belles_lettres', 'science_fiction', 'learned', 'government', 'adventure', 'mystery', 'romance', 'reviews'], z: [[1, 1, 1, 1, 1, 1, 1, 1]], x: 'genre', y: 'expert', scale: 'share' });
    type Axis = { tickangle: number; automargin: boolean; title: { text: string; standoff: number } };
    const xs = [short, long].map((f) => (f.layout as { xaxis: Axis }).xaxis);
    assert.deepEqual(xs.map((x) => x.tickangle), [0, -45]);
    for (const x of xs) assert.ok(x.automargin && x.title.standoff > 0);
    assert.ok((long.layout as { height: number }).height > (short.layout as { height: number }).height - 28, 'turned labels get room below the plot');
  });
});

describe('specialisation heatmaps: columns only for labels in the sample', () => {
  test('absent labels are left out, every column kept sums to 1, and the caption sentence names them', () => {
    const counts = [
      [3, 0, 1, 0],
      [1, 0, 1, 0],
    ];
    const s = presentShares(counts, ['news', 'humor', 'lore', 'religion']);
    assert.deepEqual(s.columns, ['news', 'lore']);
    assert.deepEqual(s.absent, ['humor', 'religion']);
    assert.deepEqual(s.z, [[0.75, 0.5], [0.25, 0.5]]);
    for (let j = 0; j < s.columns.length; j++) assert.equal(s.z.reduce((sum, row) => sum + row[j], 0), 1);
    assert.equal(absentNote(s.absent, { one: 'genre', many: 'genres' }), ' 2 genres absent from the sample are left out: humor, religion.');
    assert.equal(absentNote(['X'], { one: 'tag', many: 'tags' }), ' 1 tag absent from the sample is left out: X.');
    assert.equal(absentNote([], { one: 'tag', many: 'tags' }), '');
  });
});

describe('in a kernel', () => {
  let kernel: ReturnType<typeof fakeKernel>;
  before(() => {
    kernel = fakeKernel();
  });
  after(() => kernel.remove());

  test('plotly.js is sent once per kernel session, then one small output per figure', () => {
    showFigure(figure);
    showFigure({ ...figure, id: 'g' });
    const html = kernel.sent.map((s) => String(s.data['text/html']));
    assert.equal(html.filter((h) => h.includes('data-switchyard-plotly')).length, 1);
    assert.equal(kernel.sent.length, 3);
    for (const fig of kernel.sent.slice(1)) {
      assert.ok(String(fig.data['text/html']).length < 3000);
      assert.deepEqual((fig.data[PLOTLY_MIME] as { data: unknown }).data, figure.data);
      assert.match(String(fig.data['text/plain']), /^\[figure (f|g)\] Loads/);
    }
    loadPlotly(); // explicitly: sent again (after clearing the output that held it)
    assert.equal(kernel.sent.filter((s) => String(s.data['text/html']).includes('data-switchyard-plotly')).length, 2);
  });

  test('tables as HTML with a text fallback', () => {
    kernel.sent.length = 0;
    showTable(table);
    showTable(toDataFrame(table), { id: 'df', title: 'From a DataFrame' });
    assert.match(String(kernel.sent[0].data['text/html']), /<table class="dataframe">/);
    assert.match(String(kernel.sent[1].data['text/html']), /From a DataFrame/);
    assert.equal(kernel.sent[0].data['text/plain'], tableText(table));
  });

  test('progress: one output, updated in place', async () => {
    kernel.sent.length = 0;
    const p = progressDisplay('run-a');
    p.update({ step: 10, steps: 20, loss: 3.2, tokensPerSec: 1000, elapsedSec: 1 });
    await new Promise((r) => setTimeout(r, 300));
    p.update({ step: 20, steps: 20, loss: 2.9, tokensPerSec: 1100, elapsedSec: 2, evalLoss: 3.0, evalStep: 20 });
    p.done('completed');
    const ids = new Set(kernel.sent.map((s) => s.transient.display_id));
    assert.equal(ids.size, 1);
    assert.deepEqual(kernel.sent.map((s) => s.update), [false, true, true]);
    assert.match(String(kernel.sent[2].data['text/plain']), /run-a: step 20\/20 {2}loss 2\.900 {2}val 3\.000@20 .* — completed/);
    assert.match(String(kernel.sent[2].data['text/html']), /<progress max="20" value="20"/);
  });

  test('device banner needs a device', () => {
    assert.throws(() => showDevice(null), /no backend selected yet; call `await useBackend/);
  });
});

describe('outside a kernel', () => {
  test('figures and tables print their text', () => {
    const out = captureStdout(() => {
      showFigure(figure);
      showTable(table);
    });
    assert.equal(out, `[figure f] Loads\n${tableText(table)}\n`);
  });
});
