/**
 * Publishes finished sweeps to `docs/results/` so they read on a code host:
 *
 *   tsx scripts/publish-results.ts [--preset cpu] [--results results] [--out docs/results]
 *
 * For each experiment's newest finished sweep of the preset: `report.json`, `summary.csv`, the
 * tables' CSV and every figure as a PNG rendered by headless Chromium from the same plotly spec
 * the report embeds (plotly.js from node_modules; no network). Then `docs/results/README.md`: the
 * reproduction table (claim | paper's figure | measured here with 95% interval | verdict | test),
 * the implementation checks, the machine, the date, the commit and the minutes each sweep took
 * (the span from its first run's start to its last run's end, and the runs' summed CPU time).
 * An experiment without a finished sweep is listed as such, never skipped silently.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { EXPERIMENTS } from '../experiments/index.ts';
import { latestFinishedSweep } from '../kernel-lib/exp/orchestrate.ts';
import type { Claim, ReportDoc, Table } from '../kernel-lib/report/types.ts';
import { minimumDetectableEffect } from '../kernel-lib/exp/stats.ts';
import { writeFileAtomic } from '../kernel-lib/util/atomic.ts';

interface Options {
  preset: string;
  results: string;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { preset: 'cpu', results: 'results', out: 'docs/results' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag}: needs a value`);
    if (flag === '--preset') o.preset = value;
    else if (flag === '--results') o.results = value;
    else if (flag === '--out') o.out = value;
    else throw new Error(`unknown option '${flag}' (known: --preset, --results, --out)`);
  }
  return o;
}

/** Minutes from the first run's start to the last run's end, and the runs' summed CPU minutes. */
function sweepMinutes(dir: string): { span: number; cpu: number; runs: number } {
  let first = Infinity;
  let last = -Infinity;
  let cpuMs = 0;
  let runs = 0;
  for (const id of readdirSync(join(dir, 'runs'))) {
    const runDir = join(dir, 'runs', id);
    const env = join(runDir, 'environment.json');
    const rec = join(runDir, 'run.json');
    if (!existsSync(env) || !existsSync(rec)) continue;
    runs++;
    first = Math.min(first, Date.parse(JSON.parse(readFileSync(env, 'utf8')).started));
    last = Math.max(last, Date.parse(JSON.parse(readFileSync(rec, 'utf8')).finished ?? '') || statSync(rec).mtimeMs);
    for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
      if (!line.startsWith('{"type":"train"')) continue;
      // One train row per step, each with its share of the CPU time measured over a logging window.
      cpuMs += (JSON.parse(line) as { cpuMs?: number }).cpuMs ?? 0;
    }
  }
  return { span: (last - first) / 60000, cpu: cpuMs / 60000, runs };
}

const fmt = (v: number | null | undefined, digits = 4) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The report's own tables, in markdown (the run list and the claims are shown elsewhere). */
function markdownTables(doc: ReportDoc): string[] {
  const shown = (v: Table['rows'][number][number]) => (v === null || v === undefined || v === '' ? '–' : cell(String(v)));
  return doc.sections.flatMap((s) => s.tables)
    .filter((t) => !['runs', 'claims', 'checks'].includes(t.id))
    .map((t) => [
      `**${cell(t.title)}**${t.caption ? ` ${t.caption}` : ''}`,
      [`| ${t.columns.map(cell).join(' | ')} |`, `| ${t.columns.map(() => '---').join(' | ')} |`, ...t.rows.map((r) => `| ${r.map(shown).join(' | ')} |`)].join('\n'),
    ].join('\n\n'));
}

/**
 * Seeds a paired t test needs for 80% power (one-sided 5%, before Holm) at the effect measured,
 * with the paired spread measured (recovered from the claim's MDE: se = MDE / (t_.95 + t_.8) at
 * n − 1 degrees of freedom). '> 100' when out of reach; '–' without the numbers.
 */
function seedsFor80(c: Pick<Claim, 'n' | 'mde' | 'effect' | 'test'>): string {
  if (!c.test.startsWith('paired t') || c.mde === null || c.effect === null || !(c.n >= 2) || !Number.isFinite(c.mde)) return '–';
  const unit = minimumDetectableEffect(1, c.n - 1);
  const sd = (c.mde / unit) * Math.sqrt(c.n);
  if (sd === 0) return String(c.n);
  for (let n = 2; n <= 100; n++) if (minimumDetectableEffect(sd / Math.sqrt(n), n - 1) <= Math.abs(c.effect)) return String(n);
  return '> 100';
}

function claimRow(experiment: string, c: Claim): string {
  const measured = c.effect === null ? c.measured : `${fmt(c.effect)} [${fmt(c.ci95?.[0])}, ${fmt(c.ci95?.[1])}], n = ${c.n}, MDE ${fmt(c.mde)}, p (Holm) ${fmt(c.pValue, 4)}`;
  return `| ${experiment} | ${cell(c.claim)} | ${cell(c.source)} | ${cell(measured)} | **${c.verdict}** | ${cell(c.test)} | ${seedsFor80(c)} |`;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const browser = await chromium.launch({ executablePath: process.env.SWITCHYARD_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  const plotly = readFileSync(createRequire(import.meta.url).resolve('plotly.js-dist-min'), 'utf8');
  const paper: string[] = [];
  const checks: string[] = [];
  const sweeps: string[] = [];
  const devices = new Set<string>();
  const sections: string[] = [];
  try {
    for (const name of Object.keys(EXPERIMENTS)) {
      const dir = latestFinishedSweep(name, o.preset, o.results);
      if (!dir) {
        sweeps.push(`| ${name} | no finished sweep of preset '${o.preset}' yet | – | – | – |`);
        continue;
      }
      const doc = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportDoc;
      const target = join(out, name);
      rmSync(target, { recursive: true, force: true });
      mkdirSync(join(target, 'figures'), { recursive: true });
      mkdirSync(join(target, 'tables'), { recursive: true });
      copyFileSync(join(dir, 'report.json'), join(target, 'report.json'));
      copyFileSync(join(dir, 'summary.csv'), join(target, 'summary.csv'));
      for (const t of readdirSync(join(dir, 'tables'))) copyFileSync(join(dir, 'tables', t), join(target, 'tables', t));
      const figures: string[] = [];
      const page = await browser.newPage({ viewport: { width: 900, height: 520 } });
      await page.setContent(`<html><body style="margin:0;background:#fff"><div id="fig" style="width:900px;height:520px"></div></body></html>`);
      await page.addScriptTag({ content: plotly });
      for (const s of doc.sections) {
        for (const f of s.figures) {
          const spec = JSON.parse(readFileSync(join(dir, 'figures', `${f.id}.json`), 'utf8'));
          const png = await page.evaluate(async (fig) => {
            const P = (globalThis as unknown as { Plotly: { newPlot: (...a: unknown[]) => Promise<unknown>; toImage: (...a: unknown[]) => Promise<string>; purge: (el: unknown) => void } }).Plotly;
            const el = document.getElementById('fig');
            P.purge(el);
            await P.newPlot(el, fig.data, { ...fig.layout, width: 900, height: (fig.layout?.height as number | undefined) ?? 520 }, { staticPlot: true });
            return P.toImage(el, { format: 'png', width: 900, height: (fig.layout?.height as number | undefined) ?? 520 });
          }, spec);
          writeFileAtomic(join(target, 'figures', `${f.id}.png`), Buffer.from(png.replace(/^data:image\/png;base64,/, ''), 'base64'));
          copyFileSync(join(dir, 'figures', `${f.id}.json`), join(target, 'figures', `${f.id}.json`));
          figures.push(`![${f.title}](${name}/figures/${f.id}.png)\n\n*${cell(f.title)}.* ${f.caption ?? ''}`);
        }
      }
      await page.close();
      for (const d of doc.devices) devices.add(`${d.device} (${d.backend}; tfjs ${d.versions.tfjs}, Node ${d.versions.node}, ${d.versions.platform})`);
      for (const c of doc.claims) (c.kind === 'paper' ? paper : checks).push(c.kind === 'paper' ? claimRow(name, c) : `| ${name} | ${cell(c.claim)} | ${cell(c.measured)} | **${c.verdict}** |`);
      const m = sweepMinutes(dir);
      sweeps.push(`| ${name} | \`${dir.split('/').slice(-2).join('/')}\` | ${m.runs} runs | ${m.span.toFixed(0)} | ${m.cpu.toFixed(0)} |`);
      const diff = doc.sections.find((s) => s.heading === 'Differences from the paper');
      sections.push(
        [
          `## ${doc.title}`,
          `[report.json](${name}/report.json) · [summary.csv](${name}/summary.csv) · tables: ${readdirSync(join(target, 'tables')).map((t) => `[${t}](${name}/tables/${t})`).join(', ')}; built ${doc.generated}.`,
          diff ? `**Differences from the paper**\n\n${diff.paragraphs.join('\n')}` : '',
          ...markdownTables(doc),
          ...figures,
        ].filter(Boolean).join('\n\n'),
      );
    }
  } finally {
    await browser.close();
  }
  const readme = [
    `# Results: the \`${o.preset}\` preset`,
    `Every experiment's newest finished \`${o.preset}\` sweep, published by \`tsx scripts/publish-results.ts --preset ${o.preset}\` at commit \`${commit}\` on ${new Date().toISOString().slice(0, 10)}. Each rule was fixed in the experiment's \`sweep.ts\` before its runs (the rule is in \`report.json\` beside each verdict); the verdicts are what came out. Figures are rendered from the same plotly specs as the reports (\`figures/*.json\`).`,
    `**Machine:** ${[...devices].join('; ') || '–'}.`,
    '## The paper\'s claims',
    'Paired Student\'s t over seeds (runs with one seed share data order, evaluation batches and the initial weights of shared layers), one-sided in the paper\'s direction (non-inferiority where the paper says "does not hurt"), Holm-adjusted over each experiment\'s paper claims at α = 0.05; the effect with its 95% interval, and the minimum detectable effect (MDE) at 80% power from the measured paired spread. The last column is the number of seeds that would give 80% power (one-sided 5%, before Holm) at the effect measured, with the spread measured: where it exceeds the seeds run, the sweep\'s minutes scale with it.',
    ['| experiment | claim | paper\'s figure | measured here: effect [95% CI], n, MDE, p | verdict | test | seeds for 80% power at this effect |', '| --- | --- | --- | --- | --- | --- | --- |', ...paper].join('\n'),
    '## Implementation checks',
    'True by construction; they show the implementation does what it says, and are not reproductions.',
    ['| experiment | check | measured | verdict |', '| --- | --- | --- | --- |', ...checks].join('\n'),
    '## Sweeps',
    'Minutes from the first run\'s start to the last run\'s end (two processes on the machine above, which was also running other work; a sweep resumed across sessions counts the pause), and the runs\' summed CPU minutes of training steps.',
    ['| experiment | sweep | runs | wall minutes | CPU minutes |', '| --- | --- | --- | --- | --- |', ...sweeps].join('\n'),
    ...sections,
  ].join('\n\n');
  writeFileAtomic(join(out, 'README.md'), `${readme}\n`);
  console.log(`published ${o.preset} results to ${out}`);
}

main().catch((err: Error) => {
  console.error(`publish-results: ${err.message}`);
  process.exitCode = 1;
});
