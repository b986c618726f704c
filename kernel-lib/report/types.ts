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

/** A paper claim's verdict, decided from the numbers by a rule fixed before the runs. */
export type PaperVerdict = 'reproduced' | 'not reproduced' | 'inconclusive' | 'not assessed';
/** An implementation check's verdict (true by construction when the code is right). */
export type CheckVerdict = 'pass' | 'fail';
export type Verdict = PaperVerdict | CheckVerdict;

/**
 * One claim of a report. `paper`: an empirical claim of the paper, which can fail; `check`: a
 * property true by construction (e.g. a lower capacity factor drops more), an implementation
 * check, never counted as a reproduction.
 */
export interface Claim {
  /** Stable id within the experiment (`switch-beats-dense`). */
  id: string;
  kind: 'paper' | 'check';
  /** The claim, in the paper's words where it has them. */
  claim: string;
  /** Where the paper makes it (`Switch §3.1, Fig. 4`). */
  source: string;
  /** What was measured here, with its interval. */
  measured: string;
  verdict: Verdict;
  /** The decision rule, fixed in the sweep definition before the runs. */
  rule: string;
  /** The test (`paired t, one-sided (a > b)`, `Fisher exact`, …). */
  test: string;
  /** Seeds (pairs) the test used. */
  n: number;
  /** The effect in the claim's units (a − b), or null when not a two-arm comparison. */
  effect: number | null;
  ci95: [number, number] | null;
  /** p-value of the claim's hypothesis, Holm-adjusted over the experiment's paper claims. */
  pValue: number | null;
  /** Unadjusted p-value. */
  pRaw: number | null;
  /** Minimum detectable effect at 80% power from the measured paired spread and n (same units as effect). */
  mde: number | null;
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
