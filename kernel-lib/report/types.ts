/**
 * What an experiment's analysis produces, independent of where it is shown: figures (plotly
 * JSON), tables, and the "paper's claim | measured here | reproduced?" rows. The same objects
 * are drawn inline in a notebook, written as files under results/, and assembled into one
 * offline report page.
 */
import type { DeviceInfo } from '../backend/device.ts';

/** One plotly trace: any plotly.js trace object (`{ type: 'scatter', x, y, name, … }`). */
export type PlotlyTrace = Record<string, unknown>;

/** A plotly figure as JSON (what `Plotly.newPlot(div, data, layout)` takes), with an id and a title. */
export interface Figure {
  /** File-name-safe id, unique within a report (`loss-vs-steps`). */
  id: string;
  title: string;
  data: PlotlyTrace[];
  layout: Record<string, unknown>;
  /** One or two sentences under the figure: what it shows and how to read it. */
  caption?: string;
}

export type Cell = string | number | boolean | null;

/** A table: named columns, rows of cells (numbers stay numbers, for CSV and DataFrames). */
export interface Table {
  id: string;
  title: string;
  columns: string[];
  rows: Cell[][];
  caption?: string;
}

/** Whether a claim was reproduced, decided from the numbers (never written in advance). */
export type Verdict = 'yes' | 'no' | 'inconclusive';

/** One row of the claims table. */
export interface Claim {
  /** The paper's claim, with its source (`Switch §3.1, Fig. 4`). */
  claim: string;
  /** What was measured here, with the spread across seeds where there are several. */
  measured: string;
  verdict: Verdict;
  /** Why this verdict: the rule applied to the numbers (e.g. difference beyond 2 standard errors). */
  rule: string;
}

export interface ReportSection {
  heading: string;
  /** Paragraphs of plain text. */
  paragraphs: string[];
  figures: Figure[];
  tables: Table[];
}

/** A whole report: what `report.html`, the notebook and the CLI show. */
export interface ReportDoc {
  title: string;
  /** Experiment name (`scaling`, `capacity`, …). */
  experiment: string;
  preset: string;
  /** ISO time the report was built. */
  generated: string;
  /** Devices the runs ran on (usually one). */
  devices: DeviceInfo[];
  /** Software versions (tfjs, node, switchyard). */
  versions: Record<string, string>;
  claims: Claim[];
  sections: ReportSection[];
  /** Runs the sweep defines that have no finished record, with the reason (missing, failed, diverged, running). */
  missing: { run: string; reason: string }[];
}
