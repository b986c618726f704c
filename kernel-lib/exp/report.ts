/**
 * Building an experiment's report from its sweep folder alone: the sweep file and the run
 * directories. Runs that are missing or failed are named in the report and on stderr; the rest
 * is analysed as it is. Writes `summary.csv`, `report.html`, `report.json`, figures and tables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DeviceInfo } from '../backend/device.ts';
import { tableCsv } from '../report/csv.ts';
import type { ReportDoc, ReportSection } from '../report/types.ts';
import { writeReport, type WrittenReport } from '../report/write.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { log } from '../util/log.ts';
import { decideClaims } from './claims.ts';
import { differencesSection } from './differences.ts';
import { loadRuns, unfinished } from './records.ts';
import { readSweep } from './sweep-file.ts';
import type { Experiment, LoadedRun, SweepFile } from './types.ts';

export interface BuiltReport {
  doc: ReportDoc;
  written: WrittenReport;
  summaryCsv: string;
  runs: LoadedRun[];
}

/** Distinct devices the runs ran on (by backend and device name). */
function devicesOf(runs: LoadedRun[]): DeviceInfo[] {
  const seen = new Map<string, DeviceInfo>();
  for (const r of runs) if (r.device) seen.set(`${r.device.backend}|${r.device.device}`, r.device);
  return [...seen.values()];
}

/** The section that says what was run: preset, steps, the runs and their states. */
function sweepSection(exp: Experiment, sweep: SweepFile, runs: LoadedRun[]): ReportSection {
  const c = sweep.runs[0].config;
  const tokens = c.batchSize * c.seqLen;
  const budget = sweep.stepsFrom.kind === 'budget' ? ` The steps were set by a ${sweep.budgetMinutes}-minute budget: a calibration timed each configuration, then one step count was chosen for the whole comparison.` : '';
  return {
    heading: 'What was run',
    paragraphs: [
      exp.summary,
      `Preset '${sweep.preset}': ${sweep.runs.length} runs of ${sweep.steps} steps, ${tokens} tokens per step (B=${c.batchSize}, S=${c.seqLen}), D=${c.dModel}, ${c.numLayers} blocks, vocabulary ${c.vocabSize}, Brown corpus.${budget}`,
    ],
    figures: [],
    tables: [
      {
        id: 'runs',
        title: 'Runs',
        columns: ['run', 'group', 'seed', 'status', 'steps', 'final validation loss', 'backend'],
        rows: runs.map((r) => [r.id, r.group, r.seed, r.status, r.train.at(-1)?.step ?? 0, r.final?.loss ?? null, r.device?.backend ?? null]),
      },
    ],
  };
}

/** Analyses the sweep in `dir` and writes its report files there. */
export async function buildReport(exp: Experiment, dir: string): Promise<BuiltReport> {
  const sweep = readSweep(dir);
  if (sweep.experiment !== exp.name) throw new Error(`${dir} holds a sweep of experiment '${sweep.experiment}', not '${exp.name}'`);
  const runs = loadRuns(dir, sweep);
  const missing = unfinished(runs);
  for (const m of missing) log(`report: run ${m.run} has no final result (${m.reason})`);
  const analysis = await exp.analyze(runs, { dir, sweep });
  // The rules saved with the sweep (fixed before its runs); a sweep made before rules were saved uses the definition's.
  const def = sweep.claims ? null : exp.sweep(sweep.preset);
  const rules = sweep.claims ?? def?.claims ?? [];
  const assess = sweep.assessPaperClaims ?? def?.assessPaperClaims ?? true;
  const claims = decideClaims(rules, analysis.evidence, { assess, notAssessedWhy: `the '${sweep.preset}' preset trains a tiny model for seconds, far too small for the paper's effects` });
  const doc: ReportDoc = {
    title: exp.title,
    experiment: exp.name,
    preset: sweep.preset,
    generated: new Date().toISOString(),
    devices: devicesOf(runs),
    versions: { switchyard: '0.1.0', tfjs: tf.version_core, node: process.version },
    claims,
    sections: [sweepSection(exp, sweep, runs), differencesSection(sweep, runs, exp.differences(sweep.preset)), ...analysis.sections],
    missing,
  };
  const summaryCsv = join(dir, 'summary.csv');
  writeFileAtomic(summaryCsv, tableCsv(analysis.summary));
  const written = writeReport(dir, doc);
  return { doc, written, summaryCsv, runs };
}

/** The report a sweep folder holds (`report.json`), as built last; throws naming the folder when it has none. */
export function loadReport(dir: string): ReportDoc {
  const path = join(dir, 'report.json');
  let doc: ReportDoc;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as ReportDoc;
  } catch (err) {
    throw new Error(`no readable report in ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); build it with: switchyard report ${dir}`);
  }
  // Reports built before claims had a kind (paper claim or check) carry verdicts this version cannot read.
  if (!Array.isArray(doc.claims) || doc.claims.some((c) => c.kind !== 'paper' && c.kind !== 'check')) {
    throw new Error(`the report in ${dir} was built by an older Switchyard (its claims have no kind); rebuild it from the runs with: switchyard report ${dir}`);
  }
  return doc;
}
