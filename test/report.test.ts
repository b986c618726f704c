/**
 * The offline report page and the report folder: renderReportHtml's page, opened in headless
 * Chromium with every request intercepted, draws every figure and makes no request at all
 * besides itself; claims carry their verdict colours; writeReport writes the page, the document,
 * plotly JSON and CSV files atomically and refuses unsafe or repeated ids. The page checker is
 * itself shown to fail on a page whose figures cannot draw or that asks for the network.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { checkPage, launchChromium } from './helpers/browser.ts';
import { renderReportHtml } from '../kernel-lib/report/html.ts';
import { writeReport } from '../kernel-lib/report/write.ts';
import { reportFigure, reportTable } from '../kernel-lib/report/lookup.ts';
import { figureHtml } from '../kernel-lib/report/plotly.ts';
import type { Claim, ReportDoc } from '../kernel-lib/report/types.ts';

/** A claim with every field, defaults for what a test does not care about. */
function claim(c: Partial<Claim> & Pick<Claim, 'id' | 'claim' | 'verdict'>): Claim {
  return {
    kind: 'paper', source: 'Switch §3', measured: 'measured', rule: 'paired t, one-sided', test: 'paired t',
    n: 0, effect: null, ci95: null, pValue: null, pRaw: null, mde: null, ...c,
  };
}

function sampleDoc(): ReportDoc {
  return {
    title: 'Capacity factor <sweep> & friends',
    experiment: 'capacity',
    preset: 'quick',
    generated: '2025-01-01T00:00:00.000Z',
    devices: [
      {
        requested: 'auto', backend: 'wasm', device: 'Test CPU ×2', gpu: false, softwareGpu: false,
        skipped: [{ backend: 'webgpu', reason: 'no adapter' }], details: {}, versions: { tfjs: '4.22.0', node: 'v20', platform: 'linux-x64' },
      },
    ],
    versions: { switchyard: '0.1.0', tfjs: '4.22.0', node: 'v20' },
    claims: [
      claim({ id: 'switch-beats-dense', claim: 'Switch beats dense at equal FLOPs', verdict: 'reproduced', effect: 0.12, ci95: [0.08, 0.16], pValue: 0.003, pRaw: 0.0015, mde: 0.04, n: 4 }),
      claim({ id: 'cf-quality', claim: 'Capacity 1.0 is as good as 2.0', verdict: 'not reproduced', effect: -0.05, ci95: [-0.08, -0.02], pValue: 0.99, pRaw: 0.99, mde: 0.03, n: 4 }),
      claim({ id: 'z-stable', claim: 'z-loss stabilises training', verdict: 'inconclusive', n: 2 }),
      claim({ id: 'flops', kind: 'check', claim: 'Switch costs dense FLOPs plus its routers', verdict: 'pass', test: 'check' }),
    ],
    sections: [
      {
        heading: 'Quality',
        paragraphs: ['Lower is better. "Quotes" and <tags> stay text.'],
        figures: [
          { id: 'loss', title: 'Loss', data: [{ type: 'scatter', mode: 'lines', x: [1, 2, 3], y: [3, 2, 1.5], name: 'switch' }, { type: 'scatter', x: [1, 2, 3], y: [3.1, 2.2, 1.7], name: 'dense' }], layout: {}, caption: 'Two runs.' },
          { id: 'loads', title: 'Loads', data: [{ type: 'bar', x: ['e0', 'e1'], y: [5, 7] }], layout: { height: 300 } },
        ],
        tables: [{ id: 'runs', title: 'Runs', columns: ['run', 'loss', 'note'], rows: [['a', 1.23456789, 'x, "y"'], ['b', null, 'line\nbreak']] }],
      },
      {
        heading: 'Routing',
        paragraphs: [],
        figures: [{ id: 'heat', title: 'Heat', data: [{ type: 'heatmap', z: [[1, 2], [3, 4]] }], layout: {} }],
        tables: [],
      },
    ],
    missing: [{ run: 'capacity-2.0-seed1', reason: 'diverged at step 120' }],
  };
}

describe('report page', () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-report-'));
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('opens offline: every figure drawn, no page error, no request but the page itself', async () => {
    const file = join(dir, 'page.html');
    const html = renderReportHtml(sampleDoc());
    writeFileSync(file, html);
    const page = await checkPage(browser, file);
    assert.deepEqual(page.pageErrors, []);
    assert.deepEqual(page.blocked, []);
    assert.deepEqual(page.failedFiles, []);
    assert.equal(page.plots.length, 3);
    for (const p of page.plots) assert.ok(p.drawn && p.drawnTraces >= p.traces && p.traces > 0, `figure ${p.id}: ${JSON.stringify(p)}`);
    // plotly.js embedded exactly once, and nothing outside it refers to the network.
    assert.equal(html.split('data-switchyard-plotly=').length - 1, 1);
    const withoutPlotly = html.replace(/<script type="text\/javascript" data-switchyard-plotly=[\s\S]*?<\/script>/, '');
    assert.doesNotMatch(withoutPlotly, /https?:|\/\/[a-z]/i);
    assert.match(html, /Content-Security-Policy/);
  });

  test('claims table, device, versions, missing runs and escaped text', () => {
    const html = renderReportHtml(sampleDoc());
    assert.match(html, /<th style="text-align:left">paper&#39;s claim<\/th>.*verdict.*p \(Holm\)/s);
    assert.match(html, /class="verdict verdict-reproduced" style="color:#1a7f37">reproduced</);
    assert.match(html, /class="verdict verdict-not-reproduced" style="color:#cf222e">not reproduced</);
    assert.match(html, /class="verdict verdict-inconclusive" style="color:#9a6700">inconclusive</);
    assert.match(html, /Implementation checks.*class="verdict verdict-pass" style="color:#1a7f37">pass</s);
    assert.match(html, /0\.1200 \[0\.0800, 0\.1600\]/, 'effect with its interval');
    assert.match(html, /Ran on backend <b>wasm<\/b>, device <b>Test CPU ×2<\/b>/);
    assert.match(html, /switchyard 0\.1\.0 · tfjs 4\.22\.0/);
    assert.match(html, /<code>capacity-2\.0-seed1<\/code>: diverged at step 120/);
    assert.match(html, /<title>Capacity factor &#60;sweep&#62; &#38; friends<\/title>/);
    assert.match(html, /&#34;Quotes&#34; and &#60;tags&#62; stay text/);
    assert.throws(() => renderReportHtml({ ...sampleDoc(), claims: [claim({ id: 'c', claim: 'c', verdict: 'maybe' as 'reproduced' })] }), /claim 'c': verdict 'maybe' is not one of reproduced/);
    assert.throws(() => renderReportHtml({ ...sampleDoc(), claims: [claim({ id: 'c', claim: 'c', kind: 'check', verdict: 'reproduced' })] }), /a check claim/, 'a check cannot be called reproduced');
  });

  test('writeReport: page, document, plotly JSON and CSV, no temporary files left', () => {
    const out = join(dir, 'written');
    const w = writeReport(out, sampleDoc());
    assert.deepEqual(readdirSync(out).sort(), ['figures', 'report.html', 'report.json', 'tables']);
    assert.deepEqual(readdirSync(join(out, 'figures')).sort(), ['heat.json', 'loads.json', 'loss.json']);
    assert.deepEqual(readdirSync(join(out, 'tables')).sort(), ['checks.csv', 'claims.csv', 'runs.csv']);
    const loss = JSON.parse(readFileSync(join(out, 'figures', 'loss.json'), 'utf8'));
    assert.equal(loss.data.length, 2);
    assert.deepEqual(loss.layout.title, { text: 'Loss' });
    assert.equal(readFileSync(join(out, 'tables', 'runs.csv'), 'utf8'), 'run,loss,note\r\na,1.23456789,"x, ""y"""\r\nb,,"line\nbreak"\r\n');
    const claimsCsv = readFileSync(join(out, 'tables', 'claims.csv'), 'utf8').split('\r\n');
    assert.equal(claimsCsv[0], "paper's claim,source,measured here,verdict,effect [95% CI],p (Holm),min. detectable effect,n,test,rule (fixed before the runs)");
    assert.equal(claimsCsv.length - 2, 3, 'three paper claims (and a final line ending)');
    assert.match(readFileSync(join(out, 'tables', 'checks.csv'), 'utf8'), /^check,source,measured here,verdict,rule\r\nSwitch costs dense FLOPs plus its routers,/);
    assert.deepEqual(JSON.parse(readFileSync(w.json, 'utf8')), sampleDoc());
    assert.equal(readFileSync(w.html, 'utf8'), renderReportHtml(sampleDoc()));
  });

  test('writeReport refuses unsafe and repeated ids, naming them', () => {
    const bad = sampleDoc();
    bad.sections[0].figures[0].id = '../escape';
    assert.throws(() => writeReport(join(dir, 'bad1'), bad), /figure id '\.\.\/escape' is not file-name-safe/);
    const dup = sampleDoc();
    dup.sections[1].tables.push({ id: 'runs', title: 'again', columns: [], rows: [] });
    assert.throws(() => writeReport(join(dir, 'bad2'), dup), /table id 'runs' is used twice/);
    const claims = sampleDoc();
    claims.sections[1].tables.push({ id: 'claims', title: 'x', columns: [], rows: [] });
    assert.throws(() => writeReport(join(dir, 'bad3'), claims), /'claims' is used twice \(claims is the paper's claims table\)/);
  });

  test('reportFigure and reportTable find a figure or table by id, and name what exists when one is missing', () => {
    const doc = sampleDoc();
    assert.equal(reportFigure(doc, 'heat').title, 'Heat');
    assert.equal(reportTable(doc, 'runs').title, 'Runs');
    assert.throws(() => reportFigure(doc, 'nope'), /the capacity report has no figure 'nope' \(figures: loss, loads, heat\)/);
    assert.throws(() => reportTable(doc, 'nope'), /the capacity report has no table 'nope' \(tables: runs\)/);
  });

  test('the page checker fails a figure without plotly.js and a page that asks for the network', async () => {
    const fig = { id: 'lonely', title: 'no plotly', data: [{ type: 'bar', x: [1], y: [1] }], layout: {} };
    const file = join(dir, 'broken.html');
    writeFileSync(file, `<!DOCTYPE html><html><body>${figureHtml(fig, 'lonely-1')}<img src="https://example.com/x.png"></body></html>`);
    const page = await checkPage(browser, file, { timeoutMs: 3000 });
    assert.equal(page.plots.length, 1);
    assert.equal(page.plots[0].drawn, false);
    assert.match(page.plots[0].text, /plotly\.js is not loaded in this page/);
    assert.deepEqual(page.blocked, ['https://example.com/x.png']);
  });
});

test('loadReport refuses a report built before claims had a kind, naming the command that rebuilds it', async () => {
  const { loadReport } = await import('../kernel-lib/exp/report.ts');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-old-report-'));
  const old = { ...sampleDoc(), claims: [{ claim: 'c', measured: 'm', verdict: 'yes', rule: 'r' }] };
  writeFileSync(join(dir, 'report.json'), JSON.stringify(old));
  assert.throws(() => loadReport(dir), new RegExp(`the report in ${dir} was built by an older Switchyard .*switchyard report ${dir}`));
  writeFileSync(join(dir, 'report.json'), JSON.stringify(sampleDoc()));
  assert.deepEqual(loadReport(dir), sampleDoc());
  rmSync(dir, { recursive: true, force: true });
});
