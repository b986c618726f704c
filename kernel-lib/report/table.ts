/**
 * Tables ({@link Table}: named columns, rows of cells) as HTML and as plain text. The numbers of
 * one column are shown in one format ({@link formatColumn}): integers in full, others with the
 * same number of decimals, or all in exponent form; the Table itself, its CSV file and its
 * DataFrame keep every digit.
 */
import { escapeHtml } from './escape.ts';
import type { Cell, Table } from './types.ts';

/** A cell as shown: integers in full, other numbers to 4 significant digits, null as empty. */
export function formatCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    const abs = Math.abs(v);
    return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
  }
  return String(v);
}

/** Decimals that show `v` (> 0) to `digits` significant digits. */
const decimalsFor = (v: number, digits: number) => Math.max(0, digits - 1 - Math.floor(Math.log10(v)));

/**
 * The cells of one column as shown, every number in the same format: a column of integers in
 * full; otherwise fixed decimals, as many as show its largest magnitude to 4 significant
 * digits and its smallest non-zero one to 2, unless that takes more than 6 decimals or the
 * largest is 10⁶ or more: then every number as `d.ddde±x`. Non-numbers and non-finite numbers
 * as {@link formatCell}.
 */
export function formatColumn(values: readonly Cell[]): string[] {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (finite.every((v) => Number.isInteger(v))) return values.map(formatCell);
  const nonZero = finite.map(Math.abs).filter((a) => a > 0);
  const max = Math.max(...nonZero);
  const min = Math.min(...nonZero);
  const decimals = Math.max(decimalsFor(max, 4), decimalsFor(min, 2));
  const exponent = max >= 1e6 || decimals > 6;
  return values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? (exponent ? v.toExponential(3) : v.toFixed(decimals)) : formatCell(v)));
}

/** The table's cells as shown, row by row, each column in one format ({@link formatColumn}). */
function formattedRows(table: Table): string[][] {
  const columns = table.columns.map((_, j) => formatColumn(table.rows.map((r) => r[j])));
  return table.rows.map((_, i) => columns.map((c) => c[i]));
}

/** Throws naming the table and row when a row's length differs from the columns'. */
export function checkTable(table: Table): void {
  table.rows.forEach((row, i) => {
    if (row.length !== table.columns.length) {
      throw new Error(`table '${table.id}': row ${i} has ${row.length} cells, expected ${table.columns.length} (${table.columns.join(', ')})`);
    }
  });
}

/**
 * The table as an HTML `<table>` with its title as caption and its note below. Numeric columns
 * are right-aligned, others left-aligned (front ends' own styles differ). `cellHtml` may replace a cell's HTML (e.g. a coloured verdict).
 */
export function tableHtml(table: Table, cellHtml?: (value: Cell, column: string) => string | undefined): string {
  checkTable(table);
  const numeric = table.columns.map((_, j) => table.rows.length > 0 && table.rows.every((r) => r[j] === null || typeof r[j] === 'number'));
  const align = (j: number) => ` style="text-align:${numeric[j] ? 'right' : 'left'}"`;
  const head = table.columns.map((c, j) => `<th${align(j)}>${escapeHtml(c)}</th>`).join('');
  const shown = formattedRows(table);
  const body = table.rows
    .map((row, i) => `<tr>${row.map((v, j) => `<td${align(j)}>${cellHtml?.(v, table.columns[j]) ?? escapeHtml(shown[i][j])}</td>`).join('')}</tr>`)
    .join('\n');
  const note = table.caption ? `<p class="switchyard-caption">${escapeHtml(table.caption)}</p>` : '';
  return (
    `<div class="switchyard-table" data-table-id="${escapeHtml(table.id)}"><table class="dataframe">` +
    `<caption>${escapeHtml(table.title)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>${note}</div>`
  );
}

/** The table as aligned plain text (for `text/plain` and terminals). */
export function tableText(table: Table): string {
  checkTable(table);
  const cells = [table.columns, ...formattedRows(table)];
  const widths = table.columns.map((_, j) => Math.max(...cells.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((c, j) => c.padEnd(widths[j])).join('  ').trimEnd();
  return [table.title, line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
