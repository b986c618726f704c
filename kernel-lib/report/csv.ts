/** Tables as CSV (RFC 4180: comma-separated, CRLF line ends, fields quoted when needed; full precision). */
import type { Cell, Table } from './types.ts';
import { checkTable } from './table.ts';

function field(v: Cell): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The table as CSV text: a header row of column names, then one row per table row. */
export function tableCsv(table: Table): string {
  checkTable(table);
  return [table.columns, ...table.rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}
