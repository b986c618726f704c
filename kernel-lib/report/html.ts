/**
 * The offline report page: one self-contained HTML file (plotly.js embedded once, no network
 * reference of any kind, enforced by a Content-Security-Policy) with the claims table (verdicts
 * coloured), the device and versions, every section's text, figures and tables, and the runs
 * still missing.
 */
import type { Cell, ReportDoc, Verdict } from './types.ts';
import { checksTable, paperClaimsTable, VERDICT_COLOURS, VERDICT_COLUMN } from './claims.ts';
import { deviceHtml } from './device.ts';
import { escapeHtml } from './escape.ts';
import { figureHtml, plotlyLoaderHtml } from './plotly.ts';
import { tableHtml } from './table.ts';

/** Nothing may be fetched: scripts and styles are inline, images only data: URLs. */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:";

const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1f2328; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.2em; margin-top: 2em; }
.meta { color: #59636e; } table.dataframe { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
table.dataframe caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
table.dataframe th, table.dataframe td { border: 1px solid #d0d7de; padding: 0.3em 0.6em; vertical-align: top; }
table.dataframe thead th { background: #f6f8fa; } .switchyard-caption { color: #59636e; font-size: 0.9em; margin-top: 0.2em; }
.verdict { font-weight: 700; } .switchyard-figure { margin: 1.5em 0; }
`;

/** The report as one HTML page (a string of a few MB: plotly.js is in it). */
export function renderReportHtml(doc: ReportDoc): string {
  let figureCount = 0;
  const verdictCell = (v: Cell, column: string) =>
    column === VERDICT_COLUMN ? `<span class="verdict verdict-${escapeHtml(String(v).replace(/ /g, '-'))}" style="color:${VERDICT_COLOURS[v as Verdict]}">${escapeHtml(String(v))}</span>` : undefined;
  const paper = paperClaimsTable(doc.claims);
  const checks = checksTable(doc.claims);
  const claims = [
    paper.rows.length ? tableHtml(paper, verdictCell) : '<p>No paper claim was evaluated.</p>',
    `<p class="switchyard-caption">${escapeHtml(paper.caption ?? '')}</p>`,
    checks.rows.length ? tableHtml(checks, verdictCell) : '<p>No implementation check was evaluated.</p>',
  ].join('\n');
  const devices = doc.devices.length ? doc.devices.map(deviceHtml).join('\n') : '<p>No device recorded (no finished run).</p>';
  const versions = Object.entries(doc.versions).map(([k, v]) => `${escapeHtml(k)} ${escapeHtml(v)}`).join(' · ');
  const sections = doc.sections
    .map((s) => {
      const paras = s.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
      const figs = s.figures.map((f) => figureHtml(f, `figure-${++figureCount}-${f.id}`)).join('\n');
      const tables = s.tables.map((t) => tableHtml(t)).join('\n');
      return `<section>\n<h2>${escapeHtml(s.heading)}</h2>\n${paras}\n${figs}\n${tables}\n</section>`;
    })
    .join('\n');
  const missing = doc.missing.length
    ? `<ul class="missing">${doc.missing.map((m) => `<li><code>${escapeHtml(m.run)}</code>: ${escapeHtml(m.reason)}</li>`).join('')}</ul>`
    : '<p>None: every run of the sweep finished.</p>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.title)}</title>
<style>${STYLE}</style>
${plotlyLoaderHtml()}
</head>
<body>
<h1>${escapeHtml(doc.title)}</h1>
<p class="meta">Experiment <b>${escapeHtml(doc.experiment)}</b>, preset <b>${escapeHtml(doc.preset)}</b>; built ${escapeHtml(doc.generated)}.</p>
<h2>Claims and checks</h2>
${claims}
<h2>Device and versions</h2>
${devices}
<p class="versions">${versions}</p>
${sections}
<h2>Runs missing</h2>
${missing}
</body>
</html>
`;
}
