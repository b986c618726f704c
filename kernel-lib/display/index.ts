/** Showing figures, tables, the device and training progress, in notebooks and pages. */
export { showFigure, showTable, showDevice, showMarkdown, loadPlotly } from './notebook.ts';
export { progressDisplay } from './progress.ts';
export type { ProgressDisplay } from './progress.ts';
export { toDataFrame, tableFromDataFrame, isDataFrame, readableColumnName } from './dataframe.ts';
export { figureHtml, plotlyLoaderHtml, plotlySpec, plotlyPackage, PLOTLY_MIME } from './plotly.ts';
export { tableHtml, tableText, formatCell, formatColumn, checkTable } from './table.ts';
export { deviceHtml, deviceText, deviceKind } from './device.ts';
export { escapeHtml } from './html.ts';
export { inKernel, sendDisplay } from './kernel.ts';
export type { MimeBundle } from './kernel.ts';
export { sweepProgressDisplay, sweepProgressLine, showClaims, showReport } from './sweep.ts';
export type { SweepProgressDisplay } from './sweep.ts';
