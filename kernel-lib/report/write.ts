/**
 * Writes a report to a folder: `report.html` (the offline page), `report.json` (the document),
 * `figures/<id>.json` (plotly JSON: data, layout, config) and `tables/<id>.csv` (with
 * `tables/claims.csv`). Every file is written atomically.
 */
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { checksTable, paperClaimsTable } from './claims.ts';
import { tableCsv } from './csv.ts';
import { renderReportHtml } from './html.ts';
import { plotlySpec } from './plotly.ts';
import type { ReportDoc } from './types.ts';

/** The paths written, absolute or relative as `dir` was given. */
export interface WrittenReport {
  html: string;
  json: string;
  figures: string[];
  tables: string[];
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws naming the id when a figure or table id is not file-name-safe or is used twice. */
function checkIds(doc: ReportDoc): void {
  for (const kind of ['figure', 'table'] as const) {
    const seen = new Set<string>(kind === 'table' ? ['claims', 'checks'] : []);
    for (const s of doc.sections) {
      for (const { id } of kind === 'figure' ? s.figures : s.tables) {
        if (!SAFE_ID.test(id)) throw new Error(`report '${doc.experiment}': ${kind} id '${id}' is not file-name-safe (letters, digits, . _ -)`);
        if (seen.has(id)) throw new Error(`report '${doc.experiment}': ${kind} id '${id}' is used twice${id === 'claims' || id === 'checks' ? ` (${id} is the ${id === 'claims' ? "paper's claims" : 'implementation checks'} table)` : ''}`);
        seen.add(id);
      }
    }
  }
}

export function writeReport(dir: string, doc: ReportDoc): WrittenReport {
  checkIds(doc);
  const out: WrittenReport = { html: join(dir, 'report.html'), json: join(dir, 'report.json'), figures: [], tables: [] };
  for (const s of doc.sections) {
    for (const f of s.figures) {
      const path = join(dir, 'figures', `${f.id}.json`);
      writeJsonAtomic(path, { id: f.id, title: f.title, caption: f.caption, ...plotlySpec(f) });
      out.figures.push(path);
    }
    for (const t of s.tables) {
      const path = join(dir, 'tables', `${t.id}.csv`);
      writeFileAtomic(path, tableCsv(t));
      out.tables.push(path);
    }
  }
  for (const t of [paperClaimsTable(doc.claims), checksTable(doc.claims)]) {
    const path = join(dir, 'tables', `${t.id}.csv`);
    writeFileAtomic(path, tableCsv(t));
    out.tables.push(path);
  }
  writeJsonAtomic(out.json, doc);
  writeFileAtomic(out.html, renderReportHtml(doc));
  return out;
}
