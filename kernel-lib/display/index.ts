/** Showing figures, tables, the device, training and sweep progress in a notebook (their HTML: report/). */
export { showFigure, showTable, showDevice, showMarkdown, loadPlotly } from './notebook.ts';
export { progressDisplay } from './progress.ts';
export type { ProgressDisplay } from './progress.ts';
export { toDataFrame, tableFromDataFrame, isDataFrame, readableColumnName } from './dataframe.ts';
export { inKernel, sendDisplay } from './kernel.ts';
export type { MimeBundle } from './kernel.ts';
export { sweepProgressDisplay, sweepProgressLine, showClaims, showReport } from './sweep.ts';
export type { SweepProgressDisplay } from './sweep.ts';
