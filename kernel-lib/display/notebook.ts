/**
 * Showing results inline in a tslab notebook: figures (plotly, drawn offline), tables (danfojs
 * DataFrames as HTML tables) and the device banner. Each call is one output. Outside a notebook
 * (plain Node, tsx) the same calls print text.
 *
 * A figure output carries both `text/html` (a small div and script; classic Notebook, VS Code,
 * JupyterLab without the plotly extension and the HTML export draw it with the plotly.js embedded
 * once per kernel session) and `application/vnd.plotly.v1+json` (JupyterLab with the plotly
 * extension and VS Code's renderer draw that one).
 */
import type { DataFrame } from 'danfojs-node';
import { currentDevice } from '../backend/index.ts';
import type { DeviceInfo } from '../backend/device.ts';
import { deviceHtml, deviceText } from '../report/device.ts';
import { PLOTLY_MIME, figureHtml, plotlyLoaderHtml, plotlySpec } from '../report/plotly.ts';
import { tableHtml, tableText } from '../report/table.ts';
import type { Figure, Table } from '../report/types.ts';
import { isDataFrame, tableFromDataFrame } from './dataframe.ts';
import { newDisplayId, sendDisplay } from './kernel.ts';

/** Per kernel process: whether plotly.js has been sent to the notebook already. */
let plotlySent = false;

/**
 * Embeds plotly.js (about 4.7 MB) in the notebook as its own output, so later figures draw
 * offline. {@link showFigure} does this before the first figure of a kernel session; call it
 * yourself after clearing the output that held it.
 */
export function loadPlotly(): void {
  if (sendDisplay({ 'text/html': plotlyLoaderHtml(), 'text/plain': '(plotly.js loaded for the figures below)' })) plotlySent = true;
}

/** Shows a figure inline (see the module comment for which front end draws what). */
export function showFigure(fig: Figure): void {
  if (!plotlySent) loadPlotly();
  const spec = plotlySpec(fig);
  sendDisplay({
    'text/html': figureHtml(fig, `switchyard-${fig.id}-${newDisplayId()}`),
    [PLOTLY_MIME]: { data: spec.data, layout: spec.layout, config: spec.config },
    'text/plain': `[figure ${fig.id}] ${fig.title}${fig.caption ? `\n${fig.caption}` : ''}`,
  });
}

/**
 * Shows a table (a {@link Table} or a danfojs DataFrame) as an HTML table. For the DataFrame of
 * a Table (`df.describe()`, `df.groupby(…)`), call `toDataFrame(table)`. Returns nothing, so a
 * call at the end of a cell prints nothing more.
 */
export function showTable(table: Table | DataFrame, meta: { id?: string; title?: string } = {}): void {
  const t = isDataFrame(table) ? tableFromDataFrame(table, { id: meta.id ?? 'table', title: meta.title ?? '' }) : table;
  sendDisplay({ 'text/html': tableHtml(t), 'text/plain': tableText(t) });
}

/**
 * Shows which backend and device ran ("Ran on backend wasm, device … (CPU)").
 * @param info default: the device of the last `useBackend`.
 * @throws when no backend was selected yet and none is given.
 */
export function showDevice(info: DeviceInfo | null = currentDevice()): void {
  if (!info) throw new Error('showDevice: no backend selected yet; call `await useBackend(…)` first, or pass a DeviceInfo (e.g. a run record\'s device)');
  sendDisplay({ 'text/html': deviceHtml(info), 'text/plain': deviceText(info) });
}

/** Shows Markdown (rendered by every front end and the HTML export). */
export function showMarkdown(markdown: string): void {
  sendDisplay({ 'text/markdown': markdown, 'text/plain': markdown });
}
