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
import { escapeHtml, jsonForScript, scriptSafe } from '../kernel-lib/display/html.ts';
import { formatCell, tableHtml, tableText } from '../kernel-lib/display/table.ts';
import { tableFromDataFrame, toDataFrame } from '../kernel-lib/display/dataframe.ts';
import { figureHtml, PLOTLY_MIME, plotlyPackage } from '../kernel-lib/display/plotly.ts';
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
  test('HTML: caption, escaped cells, numbers right-aligned', () => {
    const html = tableHtml(table);
    assert.match(html, /<caption>Per &#60;expert&#62;<\/caption>/);
    assert.match(html, /<td style="text-align:right">0\.1235<\/td>/);
    assert.match(html, /<td style="text-align:left">a&#38;b<\/td>/);
    assert.throws(() => tableHtml({ ...table, rows: [['e0', 1]] }), /table 't': row 0 has 2 cells, expected 3/);
  });
  test('text: aligned columns', () => assert.equal(tableText(table), 'Per <expert>\nexpert  load    note\n------  ------  ----\ne0      0.1235  a&b\ne1      12'));
  test('DataFrame both ways keeps every digit', () => {
    const df = toDataFrame(table);
    assert.deepEqual(df.columns, ['expert', 'load', 'note']);
    assert.deepEqual(df.shape, [2, 3]);
    assert.deepEqual(tableFromDataFrame(df, { id: 't', title: 'Per <expert>' }).rows, table.rows);
  });
});

describe('figures', () => {
  test('a small div and script, not plotly.js itself', () => {
    const html = figureHtml(figure, 'fig-1');
    assert.ok(html.length < 3000, `${html.length} characters`);
    assert.match(html, /<div id="fig-1" class="switchyard-plot"/);
    assert.match(plotlyPackage().version, /^\d+\.\d+\.\d+$/);
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
