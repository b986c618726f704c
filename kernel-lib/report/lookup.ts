/** Picking one figure or table out of a report by id, for notebooks that show a report piece by piece. */
import type { Figure, ReportDoc, Table } from './types.ts';

/** The figure `id` of a report; throws naming the figures it has. */
export function reportFigure(doc: ReportDoc, id: string): Figure {
  const all = doc.sections.flatMap((s) => s.figures);
  const f = all.find((x) => x.id === id);
  if (!f) throw new Error(`the ${doc.experiment} report has no figure '${id}' (figures: ${all.map((x) => x.id).join(', ') || 'none'})`);
  return f;
}

/** The table `id` of a report; throws naming the tables it has. */
export function reportTable(doc: ReportDoc, id: string): Table {
  const all = doc.sections.flatMap((s) => s.tables);
  const t = all.find((x) => x.id === id);
  if (!t) throw new Error(`the ${doc.experiment} report has no table '${id}' (tables: ${all.map((x) => x.id).join(', ') || 'none'})`);
  return t;
}
