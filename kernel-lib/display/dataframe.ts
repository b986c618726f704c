/**
 * Tables as danfojs-node DataFrames, both ways. danfojs-node is loaded on first use (about 2 s),
 * not when the library is imported.
 */
import { createRequire } from 'node:module';
import type { DataFrame } from 'danfojs-node';
import type { Cell, Table } from '../report/types.ts';
import { checkTable } from '../report/table.ts';

type Danfo = typeof import('danfojs-node');

function danfo(): Danfo {
  try {
    return createRequire(import.meta.url)('danfojs-node') as Danfo;
  } catch (err) {
    throw new Error(`danfojs-node could not be loaded (run \`npm install\`): ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The table as a danfojs-node DataFrame (columns named as in the table; numbers stay numbers). */
export function toDataFrame(table: Table): DataFrame {
  checkTable(table);
  const { DataFrame: DF } = danfo();
  return new DF(table.rows.map((r) => [...r]), { columns: [...table.columns] });
}

/** True for a danfojs DataFrame (of any loaded copy of danfojs). */
export function isDataFrame(value: unknown): value is DataFrame {
  const v = value as { columns?: unknown; values?: unknown; shape?: unknown } | null;
  return typeof v === 'object' && v !== null && Array.isArray(v.columns) && Array.isArray(v.values) && Array.isArray(v.shape);
}

/** The statistics danfojs's `groupby(…).agg(…)` and `groupby(…).<statistic>()` can compute; it names their columns `<column>_<statistic>`. */
const GROUPBY_STATISTICS = ['mean', 'sum', 'count', 'mode', 'std', 'var', 'cumsum', 'cumprod', 'cummax', 'cummin', 'median', 'min', 'max'];
const GROUPBY_COLUMN = new RegExp(`^(.+)_(${GROUPBY_STATISTICS.join('|')})$`);

/**
 * A column name as a reader wants it: danfojs's group-by names `final validation loss_mean`
 * become `final validation loss (mean)`; other names are kept.
 */
export function readableColumnName(name: string): string {
  const m = GROUPBY_COLUMN.exec(name);
  return m ? `${m[1]} (${m[2]})` : name;
}

/**
 * A DataFrame as a {@link Table} (for display, CSV and reports); its index is dropped, and
 * danfojs's group-by column names are made readable ({@link readableColumnName}).
 */
export function tableFromDataFrame(df: DataFrame, meta: { id: string; title: string; caption?: string }): Table {
  const rows = (df.values as unknown[][]).map((r) => (Array.isArray(r) ? r : [r]).map(toCell));
  return { ...meta, columns: df.columns.map((c) => readableColumnName(String(c))), rows };
}

function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}
