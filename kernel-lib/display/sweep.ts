/**
 * Showing an experiment in a notebook: the sweep's progress as one output updated in place (a
 * row per run: state, step, loss), the claims with coloured verdicts, and a whole report.
 * Outside a notebook, progress prints compact lines to stderr and the rest prints text.
 */
import type { RunProgress } from '../exp/runner.ts';
import { checksTable, paperClaimsTable, VERDICT_COLOURS, VERDICT_COLUMN } from '../report/claims.ts';
import { escapeHtml } from '../report/escape.ts';
import { tableHtml, tableText } from '../report/table.ts';
import type { Cell, Claim, ReportDoc, Verdict } from '../report/types.ts';
import { log } from '../util/log.ts';
import { inKernel, newDisplayId, sendDisplay } from './kernel.ts';
import { showDevice, showFigure, showMarkdown, showTable } from './notebook.ts';

export interface SweepProgressDisplay {
  /** Pass as `onUpdate` to `runExperiment`. */
  update: (runs: readonly RunProgress[]) => void;
}

/** `scaling/quick: 3/12 done, 1 failed; running switch-e8-s0 40/120` */
export function sweepProgressLine(title: string, runs: readonly RunProgress[]): string {
  const count = (s: RunProgress['state']) => runs.filter((r) => r.state === s).length;
  const running = runs.filter((r) => r.state === 'running').map((r) => `${r.id} ${r.step}/${r.steps}`);
  const extra = [count('skipped') ? `${count('skipped')} already` : '', count('diverged') ? `${count('diverged')} diverged` : '', count('failed') ? `${count('failed')} failed` : ''].filter(Boolean);
  return `${title}: ${count('completed') + count('skipped') + count('diverged')}/${runs.length} done${extra.length ? ` (${extra.join(', ')})` : ''}${running.length ? `; running ${running.join(', ')}` : ''}`;
}

/** Least time between two redraws (or stderr lines that only report progress). */
const MIN_INTERVAL_MS = 500;

export function sweepProgressDisplay(title: string): SweepProgressDisplay {
  const id = newDisplayId();
  let shown = false;
  let lastAt = 0;
  let lastStates = '';
  return {
    update: (runs) => {
      const states = runs.map((r) => r.state).join();
      const now = Date.now();
      if (states === lastStates && now - lastAt < (inKernel() ? MIN_INTERVAL_MS : 5000)) return;
      lastStates = states;
      lastAt = now;
      const line = sweepProgressLine(title, runs);
      if (!inKernel()) return log(line);
      const rows = runs
        .filter((r) => r.state !== 'queued')
        .map((r) => `<tr><td>${escapeHtml(r.id)}</td><td>${r.state}</td><td><progress max="${r.steps}" value="${r.state === 'skipped' ? r.steps : r.step}"></progress> ${r.step}/${r.steps}</td><td>${r.loss === undefined ? '' : r.loss.toFixed(3)}</td></tr>`)
        .join('');
      sendDisplay({ 'text/html': `<div><b>${escapeHtml(line.split(';')[0])}</b><table class="dataframe"><thead><tr><th>run</th><th>state</th><th>step</th><th>loss</th></tr></thead><tbody>${rows}</tbody></table></div>`, 'text/plain': line }, { displayId: id, update: shown });
      shown = true;
    },
  };
}

/** Shows the paper's claims and the implementation checks as two tables, verdicts coloured. */
export function showClaims(claims: Claim[]): void {
  const cell = (v: Cell, column: string) => (column === VERDICT_COLUMN ? `<b style="color:${VERDICT_COLOURS[v as Verdict]}">${escapeHtml(String(v))}</b>` : undefined);
  for (const t of [paperClaimsTable(claims), checksTable(claims)]) {
    if (t.rows.length === 0) continue;
    const caption = t.caption ? `<p><i>${escapeHtml(t.caption)}</i></p>` : '';
    sendDisplay({ 'text/html': tableHtml(t, cell) + caption, 'text/plain': tableText(t) });
  }
}

/** Shows a whole report: devices, claims, then every section's text, figures and tables, and the missing runs. */
export function showReport(doc: ReportDoc): void {
  for (const d of doc.devices) showDevice(d);
  showClaims(doc.claims);
  for (const s of doc.sections) {
    showMarkdown(`### ${s.heading}\n\n${s.paragraphs.join('\n\n')}`);
    for (const f of s.figures) showFigure(f);
    for (const t of s.tables) showTable(t);
  }
  if (doc.missing.length) showMarkdown(`**Runs without a final result:** ${doc.missing.map((m) => `\`${m.run}\` (${m.reason})`).join(', ')}`);
}
