/**
 * Figures as HTML that draws offline: plotly.js (npm `plotly.js-dist-min`) is embedded once per
 * page or notebook by {@link plotlyLoaderHtml}, and each figure is a small `<div>` plus a short
 * script ({@link figureHtml}) that draws it as soon as plotly.js is there, whichever comes first
 * in the page. Until a script draws it, a figure's box says why it is empty and what to do
 * ({@link UNDRAWN_FIGURE_TEXT}): Jupyter runs no script of an untrusted notebook (one opened from
 * disk after it was run elsewhere) and shows its HTML without them. A figure whose page never
 * gets plotly.js says that instead.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { escapeHtml, jsonForScript, scriptSafe } from './escape.ts';
import type { Figure } from './types.ts';

/** The MIME type JupyterLab's and VS Code's plotly renderers read. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/**
 * What a figure's box says until its script draws it: what is left when no script runs, as in a
 * notebook Jupyter does not trust or a page with scripts blocked.
 */
export const UNDRAWN_FIGURE_TEXT =
  'This figure is drawn by a script, and no script has run here. Jupyter runs no script of a notebook it does not trust ' +
  '(one opened from disk after it was run): choose File → Trust Notebook, or run the cell again, to draw it. ' +
  'In a page that blocks scripts, allow them.';

/** Page-global queue of figures waiting for plotly.js (drained by the loader). */
const QUEUE = '__switchyardPlotlyQueue';

/** Where the installed plotly.js bundle is, and its version. */
export function plotlyPackage(): { path: string; version: string } {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve('plotly.js-dist-min/package.json');
  } catch (err) {
    throw new Error(`plotly.js-dist-min is not installed (run \`npm install\`): ${(err as Error).message.split('\n')[0]}`);
  }
  const { version, main } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string; main?: string };
  return { path: require.resolve(`plotly.js-dist-min/${main ?? 'plotly.min.js'}`), version };
}

/**
 * One `<script>` element holding plotly.js (about 4.7 MB), which then draws every figure already
 * waiting on the page. Put it once per page; figures before or after it both work.
 */
export function plotlyLoaderHtml(): string {
  const { path, version } = plotlyPackage();
  const source = scriptSafe(readFileSync(path, 'utf8'));
  return (
    `<script type="text/javascript" data-switchyard-plotly="${escapeHtml(version)}">\n${source}\n</script>\n` +
    `<script type="text/javascript">(function () { var q = window.${QUEUE} || []; window.${QUEUE} = []; ` +
    `q.forEach(function (draw) { draw(); }); })();</script>`
  );
}

/** The plotly spec of a figure: its data, its layout with the title filled in, and display options. */
export function plotlySpec(fig: Figure): { data: unknown[]; layout: Record<string, unknown>; config: Record<string, unknown> } {
  const layout: Record<string, unknown> = { height: 420, ...fig.layout };
  if (layout.title === undefined) layout.title = { text: fig.title };
  return { data: fig.data, layout, config: { responsive: true, displaylogo: false } };
}

/**
 * The figure as a `<div>` (id `elementId`, unique in the page) and the script that draws it,
 * with its caption below. Needs {@link plotlyLoaderHtml} somewhere in the same page.
 */
export function figureHtml(fig: Figure, elementId: string): string {
  const id = jsonForScript(elementId);
  const caption = fig.caption ? `<p class="switchyard-caption">${escapeHtml(fig.caption)}</p>` : '';
  const missing = 'plotly.js is not loaded in this page, so this figure cannot be drawn: run the notebook from its first cell (showFigure embeds plotly.js once per kernel session), or call loadPlotly().';
  return (
    `<div class="switchyard-figure" data-figure-id="${escapeHtml(fig.id)}">` +
    `<div id="${escapeHtml(elementId)}" class="switchyard-plot" style="width:100%;min-height:${Number(plotlySpec(fig).layout.height) || 420}px">` +
    `<p class="switchyard-undrawn" style="padding:1em;border:1px dashed #999;color:#555"><b>${escapeHtml(fig.title)}</b><br>${escapeHtml(UNDRAWN_FIGURE_TEXT)}</p></div>${caption}</div>\n` +
    `<script type="text/javascript">(function () {\n` +
    `var spec = ${jsonForScript(plotlySpec(fig))};\n` +
    `function draw() { var el = document.getElementById(${id}); if (!el) return; el.textContent = ''; window.Plotly.newPlot(el, spec.data, spec.layout, spec.config); }\n` +
    `function check() { var el = document.getElementById(${id}); if (!window.Plotly && el) el.textContent = ${jsonForScript(missing)}; }\n` +
    `if (window.Plotly) draw(); else { (window.${QUEUE} = window.${QUEUE} || []).push(draw);\n` +
    `  if (document.readyState === 'complete') setTimeout(check, 5000); else window.addEventListener('load', check); }\n` +
    `})();</script>`
  );
}
