/**
 * `npm run mutate [group ...] [--min N]`: StrykerJS over the Node test runner (stryker.config.mjs)
 * on the code that decides verdicts, routing and capacity, then each file's mutation score.
 * Groups: stats analysis moe packed budget conformance (default: all, one Stryker run; each
 * mutant runs only the group's test files that reach it).
 * Writes reports/mutation/mutation.json (Stryker's schema), mutation.html and scores.txt.
 * A surviving mutant listed in test/mutation-equivalent.md (file:line:column, mutator, replacement) is
 * counted as equivalent: left out of the adjusted score, never of the raw one.
 * --min N: exit 1 when a file's adjusted score is below N.
 * --incremental: run again only the mutants whose code or tests changed since the committed
 *   baseline, test/mutation-baseline/<groups>.json (Stryker's incremental mode), and update it.
 * --scores: only the scores of the last report (no Stryker run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
let min: number | null = null;
let scoresOnly = false;
let incremental = false;
const groups: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--min') min = Number(args[++i]);
  else if (args[i] === '--scores') scoresOnly = true;
  else if (args[i] === '--incremental') incremental = true;
  else if (args[i].startsWith('-')) throw new Error(`mutate: unknown option '${args[i]}' (--min N, --scores, --incremental)`);
  else groups.push(args[i]);
}
if (min !== null && !Number.isFinite(min)) throw new Error('--min needs a score (0-100)');

const t0 = Date.now();
const run = scoresOnly ? { status: 0, signal: null } : spawnSync(process.execPath, [join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js'), 'run', 'stryker.config.mjs'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, MUTATE_GROUPS: groups.join(','), MUTATE_INCREMENTAL: incremental ? '1' : '0' },
});
if (run.status !== 0) {
  console.error(`stryker exited with ${run.status ?? run.signal}`);
  process.exit(1);
}
const minutes = (Date.now() - t0) / 60_000;

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}
const report = JSON.parse(readFileSync(join(root, 'reports/mutation/mutation.json'), 'utf8')) as { files: Record<string, { mutants: Mutant[] }> };

/** Rows of test/mutation-equivalent.md: `| file:line:column | mutator | `replacement` | reason |`. */
const equivalent = new Set<string>();
const eqFile = join(root, 'test/mutation-equivalent.md');
if (existsSync(eqFile)) {
  for (const line of readFileSync(eqFile, 'utf8').split('\n')) {
    const m = /^\|\s*`?([\w./*-]+:\d+:\d+)`?\s*\|\s*(\w+)\s*\|\s*`([^`]*)`\s*\|/.exec(line);
    if (m) equivalent.add(`${m[1]}|${m[2]}|${m[3]}`);
  }
}

const rows: string[] = [];
let bad = false;
const pad = (s: string | number, n: number) => String(s).padStart(n);
rows.push(`${'file'.padEnd(44)} ${pad('score', 6)} ${pad('adj.', 6)} ${pad('killed', 6)} ${pad('surv.', 5)} ${pad('nocov', 5)} ${pad('equiv', 5)}`);
for (const [file, { mutants }] of Object.entries(report.files).sort()) {
  const rel = relative(root, join(root, file));
  const count = (...s: string[]) => mutants.filter((m) => s.includes(m.status)).length;
  const detected = count('Killed', 'Timeout');
  const survivors = mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage');
  const eq = survivors.filter((m) => equivalent.has(`${rel}:${m.location.start.line}:${m.location.start.column}|${m.mutatorName}|${(m.replacement ?? '').replace(/\s+/g, ' ')}`)).length;
  const valid = detected + survivors.length;
  const score = valid ? (100 * detected) / valid : NaN;
  const adjusted = valid - eq ? (100 * detected) / (valid - eq) : NaN;
  if (min !== null && !(adjusted >= min)) bad = true;
  rows.push(`${rel.padEnd(44)} ${pad(score.toFixed(1), 6)} ${pad(adjusted.toFixed(1), 6)} ${pad(detected, 6)} ${pad(count('Survived'), 5)} ${pad(count('NoCoverage'), 5)} ${pad(eq, 5)}`);
}
rows.push(`${scoresOnly ? 'last report' : `groups: ${groups.length ? groups.join(', ') : 'all'}${incremental ? ' (incremental)' : ''}; ${minutes.toFixed(1)} minutes`}; score = (killed + timeout) / valid mutants; adj. = without the equivalent ones listed in test/mutation-equivalent.md`);
mkdirSync(join(root, 'reports/mutation'), { recursive: true });
writeFileSync(join(root, 'reports/mutation/scores.txt'), rows.join('\n') + '\n');
console.log(rows.join('\n'));
if (bad) {
  console.error(`a file scores below --min ${min}`);
  process.exit(1);
}
