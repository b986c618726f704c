/**
 * Every experiment's `quick` preset end to end, and its outputs checked: the sweep file, run
 * directories, summary.csv's columns, figures with data, tables, the claims with verdicts from
 * the numbers, the report page. Then what a re-run, a changed sweep, bad input and a stop do.
 *
 * Results go to `.cache/test-results/`, where the notebook tests find them (so the notebooks
 * load finished results instead of training again).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EXPERIMENTS, PRESETS, runExperiment } from '../experiments/index.ts';
import { latestFinishedSweep } from '../kernel-lib/exp/orchestrate.ts';
import { readSweep, resolveSweep } from '../kernel-lib/exp/sweep-file.ts';
import { PRESET_NAMES } from '../kernel-lib/exp/types.ts';
import type { ExperimentRun } from '../kernel-lib/exp/orchestrate.ts';
import type { RunProgress } from '../kernel-lib/exp/runner.ts';
import { TEST_RESULTS, cliSync, signalGroup, startCli } from './helpers/proc.ts';


/** Every number in a figure's traces (x, y, z), flattened. */
function numbersOf(trace: Record<string, unknown>): number[] {
  const out: number[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'number') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
  };
  for (const k of ['x', 'y', 'z']) walk(trace[k]);
  return out;
}

/** RFC 4180 records (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const csvHeader = (path: string) => parseCsv(readFileSync(path, 'utf8'))[0];

describe('experiments at the quick preset', () => {
  const results: Record<string, ExperimentRun> = {};
  before(() => {
    rmSync(TEST_RESULTS, { recursive: true, force: true });
    mkdirSync(TEST_RESULTS, { recursive: true });
  });

  for (const name of Object.keys(EXPERIMENTS)) {
    test(`${name}: runs end to end; files, summary, figures, claims and report check out`, async () => {
      const before = tf.memory().numTensors;
      const r = await runExperiment(name, { preset: 'quick', resultsRoot: TEST_RESULTS, backend: 'wasm' });
      results[name] = r;
      assert.equal(tf.memory().numTensors, before, 'running an experiment left tensors in this process');
      assert.deepEqual(r.outcome.failed.map((f) => f.id), [], `failed runs: see ${r.dir}/logs`);
      const sweep = readSweep(r.dir);
      assert.equal(sweep.experiment, name);
      assert.equal(sweep.preset, 'quick');
      for (const run of sweep.runs) {
        const rec = JSON.parse(readFileSync(join(r.dir, 'runs', run.id, 'run.json'), 'utf8'));
        assert.ok(['completed', 'diverged'].includes(rec.status), `${run.id}: ${rec.status}`);
        assert.equal(rec.steps <= sweep.steps, true);
      }
      assert.deepEqual(r.doc.missing, []);
      // summary.csv: a header, then rows of the same width, with numbers in them.
      const [header, ...rows] = parseCsv(readFileSync(r.summaryCsv, 'utf8'));
      assert.ok(header.length >= 3, `summary.csv header: ${header}`);
      assert.ok(rows.length >= 1, 'summary.csv has no rows');
      for (const row of rows) assert.equal(row.length, header.length, `summary.csv row ${row.join(',')}`);
      assert.ok(rows.flat().some((c) => c !== '' && Number.isFinite(Number(c))), 'summary.csv holds no numbers');
      // Figures: files with traces holding finite numbers.
      const figures = r.doc.sections.flatMap((s) => s.figures);
      assert.ok(figures.length >= 1, 'no figures');
      for (const f of figures) {
        const spec = JSON.parse(readFileSync(join(r.dir, 'figures', `${f.id}.json`), 'utf8'));
        assert.ok(spec.data.length >= 1, `figure ${f.id} has no traces`);
        const nums = spec.data.flatMap(numbersOf);
        assert.ok(nums.length > 0 && nums.some((v: number) => Number.isFinite(v) && v !== 0), `figure ${f.id} has no data`);
      }
      // Claims: each from the numbers, with a verdict and its rule; the CSV beside the page.
      assert.ok(r.doc.claims.length >= 1, 'no claims');
      // The quick preset is too small for the paper's effects: every paper claim is measured but
      // 'not assessed' (with the reason in its measurement); every implementation check passes.
      for (const c of r.doc.claims) {
        if (c.kind === 'paper') {
          assert.equal(c.verdict, 'not assessed', `${c.id}: the quick preset must not give a verdict on the paper`);
          // Why: the preset is too small, or the claim's mechanism is absent from these runs.
          assert.match(c.measured, /not assessed: |not applicable here: /, `${c.id}: does not say why it is not assessed`);
        } else {
          assert.equal(c.kind, 'check', c.id);
          assert.equal(c.verdict, 'pass', `check ${c.id} failed: ${c.measured}`);
        }
        assert.match(c.measured, /\d/, `claim '${c.claim}' states no measurement`);
        assert.match(c.rule, /reproduced if|pass if/, `${c.id}: the rule does not say when it holds`);
      }
      assert.ok(r.doc.claims.some((c) => c.kind === 'paper'), 'no paper claim');
      assert.deepEqual(csvHeader(join(r.dir, 'tables', 'claims.csv')).slice(0, 4), ["paper's claim", 'source', 'measured here', 'verdict']);
      const html = readFileSync(r.written.html, 'utf8');
      assert.match(html, /<html/);
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href="http/, 'the report references the network');
      for (const c of r.doc.claims) assert.ok(html.includes(c.verdict), 'verdict missing from the page');
    });
  }

  test('per-experiment contents: the measurements each analysis must produce', () => {
    const col = (name: string, table: string) => r(name).doc.sections.flatMap((s) => s.tables).find((t) => t.id === table)!.columns;
    const r = (name: string) => results[name] ?? assert.fail(`${name} did not run`);
    assert.ok(col('scaling', 'scaling').includes('total params') && col('scaling', 'scaling').includes('paired Δ vs dense [95% CI]'));
    assert.ok(col('scaling', 'scaling').includes('speed-up vs dense [95% bootstrap]') && col('scaling', 'scaling').includes('router entropy (last quarter)'));
    assert.deepEqual(r('scaling').doc.sections.flatMap((s) => s.figures.map((f) => f.id)).sort(), [
      'difference-vs-steps', 'quality-vs-steps', 'quality-vs-time', 'router-dropped', 'router-entropy', 'router-top-gate', 'speedup-to-dense',
    ]);
    assert.ok(col('capacity', 'capacity').includes('dropped fraction (training mean)'));
    assert.ok(r('capacity').doc.sections.flatMap((s) => s.figures).some((f) => f.id === 'dropped-over-training'));
    const nmi = r('specialization').doc.sections.flatMap((s) => s.tables).find((t) => t.id === 'nmi')!;
    assert.deepEqual(nmi.rows.map((row) => row[1]), ['part of speech', 'genre', 'word']);
    assert.ok(r('specialization').doc.sections.flatMap((s) => s.figures).some((f) => f.id.startsWith('tags-layer')));
    const routing = r('routing').doc.sections.flatMap((s) => s.tables).find((t) => t.id === 'routing')!;
    const leakCol = routing.columns.indexOf('future leak');
    for (const row of routing.rows) {
      if (row[0] === 'expert-choice') assert.ok((row[leakCol] as number) > 0, 'Expert Choice shows no future leak');
      else assert.equal(row[leakCol], 0, `${row[0]}: token choice must not leak the future`);
    }
    assert.ok(r('routing').doc.claims.some((c) => c.id === 'ec-not-causal' && c.kind === 'check' && c.verdict === 'pass'), 'the check that Expert Choice sees the future');
    assert.ok(col('stability', 'stability').includes('diverged'));
    const figureIds = (name: string) => r(name).doc.sections.flatMap((s) => s.figures.map((f) => f.id));
    assert.deepEqual(figureIds('balance').sort(), ['imbalance-top1', 'load-top1-bias', 'load-top1-loss', 'quality-top1', 'router-bias']);
    assert.ok(col('balance', 'balance').includes('load imbalance (last quarter)'));
    const granularity = r('granularity').doc.sections.flatMap((s) => s.tables).find((t) => t.id === 'granularity')!;
    assert.deepEqual(granularity.rows.map((row) => row[0]), ['m = 1', 'm = 4', 'm = 4 + shared']);
    // upcycle: each second-phase run started from its own seed's first-phase run's final checkpoint, upcycled or warm.
    const upcycleSweep = readSweep(r('upcycle').dir);
    for (const run of upcycleSweep.runs.filter((x) => x.config.initFrom !== undefined)) {
      const rec = JSON.parse(readFileSync(join(r('upcycle').dir, 'runs', run.id, 'run.json'), 'utf8'));
      const source = run.id.startsWith('switch-continued') ? 'switch-pre' : 'dense-pre';
      assert.equal(rec.initFrom?.path, join(r('upcycle').dir, 'runs', `${source}-s${run.seed}`), run.id);
      assert.equal(rec.initFrom?.step, upcycleSweep.steps, `${run.id} must start from its source's final checkpoint`);
      assert.equal(rec.initFrom?.kind, run.id.startsWith('upcycled') ? 'upcycle' : 'warm start', run.id);
    }
  });

  test('running an experiment again skips its finished runs and rebuilds the same report', async () => {
    const states: RunProgress['state'][] = [];
    const again = await runExperiment('scaling', { preset: 'quick', resultsRoot: TEST_RESULTS, backend: 'wasm', onUpdate: (runs) => states.push(...runs.map((x) => x.state)) });
    assert.equal(again.dir, results.scaling.dir, 'the same command must find the same sweep folder');
    assert.ok(states.every((s) => s === 'skipped'), `a finished run was run again: ${[...new Set(states)].join(', ')}`);
    assert.deepEqual(again.doc.claims, results.scaling.doc.claims);
    assert.equal(latestFinishedSweep('scaling', 'quick', TEST_RESULTS), again.dir);
  });

  test('a report older than a run record (built while runs were missing) is not taken as finished results', () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-stale-'));
    const dir = join(root, 'routing', basename(results.routing.dir));
    cpSync(results.routing.dir, dir, { recursive: true, preserveTimestamps: true });
    assert.equal(latestFinishedSweep('routing', 'quick', root), dir);
    const rec = join(dir, 'runs', readSweep(dir).runs[0].id, 'run.json');
    const later = new Date(statSync(join(dir, 'report.json')).mtimeMs + 5000);
    utimesSync(rec, later, later);
    assert.equal(latestFinishedSweep('routing', 'quick', root), null);
  });

  test('report <dir> rebuilds from the runs alone and names a missing run', () => {
    const dir = results.capacity.dir;
    const out = cliSync(['report', dir]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(JSON.parse(out.stdout).report, join(dir, 'report.html'));
    assert.deepEqual(JSON.parse(out.stdout).claims, results.capacity.doc.claims, 'a rebuilt report differs from the one built after the runs');
    // A copy of the sweep folder with one run directory gone: the report says which, on stderr and in the page.
    const gone = readSweep(dir).runs[0].id;
    const r = copyWithout(dir, gone);
    const rep = cliSync(['report', r]);
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(rep.stderr, new RegExp(`run ${gone} has no final result \\(missing`));
    assert.deepEqual(JSON.parse(rep.stdout).missing.map((m: { run: string }) => m.run), [gone]);
    assert.match(readFileSync(join(r, 'report.html'), 'utf8'), new RegExp(gone));
  });
});

/** A copy of a sweep folder without one run's directory. */
function copyWithout(dir: string, without: string): string {
  const dest = mkdtempSync(join(tmpdir(), 'switchyard-sweepcopy-'));
  cpDir(dir, dest, (rel) => rel === join('runs', without) || rel.startsWith(join('runs', without) + '/'));
  return dest;
}

function cpDir(src: string, dest: string, skip: (rel: string) => boolean, rel = ''): void {
  mkdirSync(join(dest, rel), { recursive: true });
  for (const f of readdirSync(join(src, rel), { withFileTypes: true })) {
    const r = join(rel, f.name);
    if (skip(r)) continue;
    if (f.isDirectory()) cpDir(src, dest, skip, r);
    else writeFileSync(join(dest, r), readFileSync(join(src, r)));
  }
}

describe('every preset of every experiment', () => {
  test('resolves to valid configs: unique run ids, one step count, seeds per group, the preset\'s model', () => {
    for (const exp of Object.values(EXPERIMENTS)) {
      for (const preset of PRESET_NAMES) {
        const s = resolveSweep(exp, preset, { presetBase: PRESETS[preset].base, steps: PRESETS[preset].steps, schedule: PRESETS[preset].schedule, backend: 'wasm' });
        const where = `${exp.name} at ${preset}`;
        assert.equal(new Set(s.runs.map((r) => r.id)).size, s.runs.length, `${where}: run ids repeat`);
        assert.ok(s.runs.every((r) => r.config.steps === s.steps && r.config.dModel === PRESETS[preset].base.dModel), where);
        const groups = new Map<string, number[]>();
        for (const r of s.runs) groups.set(r.group, [...(groups.get(r.group) ?? []), r.seed]);
        // Every arm runs the same seeds (the pairing), at least two; each experiment may set its own per preset.
        const first = [...groups.values()][0];
        assert.ok(first.length >= 2, `${where}: fewer than two seeds`);
        for (const [g, seeds] of groups) assert.deepEqual(seeds, first, `${where}: group ${g}`);
        if (preset === 'quick') assert.deepEqual(first, PRESETS.quick.seeds, `${where}: quick runs the preset's seeds`);
        const evals = Math.ceil(s.steps / s.runs[0].config.evalEvery);
        assert.equal(evals, PRESETS[preset].schedule.evalPoints, `${where}: evaluations`);
      }
    }
  });
});

describe('experiment input and stops', () => {
  const refused = (args: string[], re: RegExp) => {
    const out = cliSync(args);
    assert.equal(out.code, 2, `${args.join(' ')}: exit ${out.code}\n${out.stderr}`);
    assert.match(out.stderr, re);
    assert.equal(out.stdout, '');
  };

  test('unknown experiment or preset, a budget too small for one step, an unwritable results folder: refused, naming the value', () => {
    refused(['exp', 'scalling'], /unknown experiment 'scalling' \(experiments: scaling, capacity, specialization, stability, routing, balance, granularity, upcycle\)/);
    refused(['exp', 'scaling', '--preset', 'huge'], /--preset: expected one of quick, cpu, gpu, got 'huge'/);
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-ro-')), 'file');
    writeFileSync(file, '');
    refused(['exp', 'scaling', '--results', join(file, 'results')], /cannot create results folder .*file\/results\/scaling\/quick-[0-9a-f]{8}: .*(ENOTDIR|EEXIST)/);
    const tmp = mkdtempSync(join(tmpdir(), 'switchyard-budget-'));
    const out = cliSync(['exp', 'scaling', '--budget', '0.1', '--results', tmp, '--backend', 'wasm']);
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /--budget 0\.1 minutes cannot fit this sweep: 12 runs of at least 10 steps need about [\d.]+ minutes/);
    // The refusal takes back what the calibration wrote: the same command is refused again, not run at the preset's steps.
    assert.deepEqual(readdirSync(tmp), [], 'a refused budget left files behind (its sweep folder and the experiment folder it made go)');
    const again = cliSync(['exp', 'scaling', '--budget', '0.1', '--results', tmp, '--backend', 'wasm']);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /--budget 0\.1 minutes cannot fit this sweep/);
  });

  test('an --id that names a folder holding another sweep is refused; nothing is overwritten', () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-id-'));
    const dir = join(root, 'scaling', 'quick-mine');
    mkdirSync(dir, { recursive: true });
    const other = { ...readSweep(results_dir('capacity')), key: 'deadbeef' };
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(other));
    refused(['exp', 'scaling', '--id', 'mine', '--results', root, '--backend', 'wasm'], /holds another sweep \(capacity, definition deadbeef; this one is [0-9a-f]{8}\); nothing was changed/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')).key, 'deadbeef');
  });

  test('a sweep whose runs ran on one backend is not continued on another (exp and run-one); a finished one is reported anywhere', () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-backend-'));
    const src = results_dir('specialization');
    const dir = join(root, 'specialization', basename(src));
    cpSync(src, dir, { recursive: true });
    const finished = cliSync(['exp', 'specialization', '--results', root, '--backend', 'cpu']);
    assert.equal(finished.code, 0, `a finished sweep's report must build on any backend:\n${finished.stderr}`);
    const run = readSweep(dir).runs[1].id;
    rmSync(join(dir, 'runs', run, 'run.json')); // now unfinished: it would run on cpu
    const before = readFileSync(join(dir, 'sweep.json'), 'utf8');
    refused(['exp', 'specialization', '--results', root, '--backend', 'cpu'], new RegExp(`the sweep in ${dir} has runs on wasm \\(switch-[^)]+\\); this one would run on cpu, mixing backends in its times\\. Continue it with --backend wasm`));
    refused(['exp', 'run-one', dir, '--index', '1', '--backend', 'cpu'], /has runs on wasm .*this one would run on cpu/);
    assert.equal(readFileSync(join(dir, 'sweep.json'), 'utf8'), before);
    assert.ok(!existsSync(join(dir, 'runs', run, 'run.json')), 'the refused run ran');
  });

  test('a budget sets one step count for every run from a calibration', async () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-budget-ok-'));
    const r = await runExperiment('specialization', { preset: 'quick', resultsRoot: root, backend: 'wasm', budgetMinutes: 1.5 });
    const s = readSweep(r.dir);
    assert.equal(s.stepsFrom.kind, 'budget');
    assert.ok(s.steps >= 10, `steps ${s.steps}`);
    assert.ok(s.runs.every((run) => run.config.steps === s.steps));
    if (s.stepsFrom.kind === 'budget') assert.ok(Object.values(s.stepsFrom.msPerStep).every((ms) => ms > 0));
  });

  test('Ctrl-C (SIGINT to the process group) stops the sweep and its running children with checkpoints; running it again finishes it', async () => {
    // Each child gets SIGINT from the terminal and the sweep's forwarded SIGTERM: one graceful stop.
    const root = mkdtempSync(join(tmpdir(), 'switchyard-stop-'));
    const run = startCli(['exp', 'specialization', '--results', root, '--backend', 'wasm', '--jobs', '2'], {}, { group: true });
    await run.waitForStderr(/running switch[^ ]+ [1-9]\d*\/120/, 120_000);
    signalGroup(run, 'SIGINT');
    assert.equal(await run.exited, 130, run.stderr());
    assert.doesNotMatch(run.stderr(), /again: stopping at once/);
    const dir = join(root, 'specialization', readdirSync(join(root, 'specialization'))[0]);
    const interrupted = readdirSync(join(dir, 'runs')).filter((id) => existsSync(join(dir, 'runs', id, 'run.json')) && JSON.parse(readFileSync(join(dir, 'runs', id, 'run.json'), 'utf8')).status === 'interrupted');
    assert.ok(interrupted.length >= 1, 'no run recorded its graceful stop');
    const again = cliSync(['exp', 'specialization', '--results', root, '--backend', 'wasm']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).missing, []);
  });
});

const results_dir = (name: string) => latestFinishedSweep(name, 'quick', TEST_RESULTS) ?? assert.fail(`no finished ${name} sweep`);
