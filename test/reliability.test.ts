/**
 * Issue 19, round two of hostile-but-realistic use: nothing lost when a pipe or terminal closes,
 * nothing reported done that is not, shared inputs checked once up front, config files that load
 * what they name, values that mean nothing refused, and errors that name the bad value.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { claimSweepFolder, presetSweep, runExperimentSweep } from '../kernel-lib/exp/orchestrate.ts';
import { isFinished, runSweep } from '../kernel-lib/exp/runner.ts';
import { parseSeeds } from '../kernel-lib/exp/seeds.ts';
import { readSweep } from '../kernel-lib/exp/sweep-file.ts';
import type { Experiment } from '../kernel-lib/exp/types.ts';
import { getExperiment, PRESETS } from '../experiments/index.ts';
import { findResumePoint } from '../kernel-lib/train/checkpoint.ts';
import { readConfigFile } from '../kernel-lib/train/load-config.ts';
import { train } from '../kernel-lib/train/trainer.ts';
import { ROOT, childEnv, cliSync, startCli, startProcess, tinyFlags } from './helpers/proc.ts';
import { tinyConfig } from './helpers/train-config.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `switchyard-rel-${p}-`));
const runJson = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
const flags = (outDir: string, name: string, extra: Record<string, string | number> = {}) => tinyFlags(outDir, name, extra).join(' ');

describe('1. a closed stderr, stdout or terminal loses no work', () => {
  test('train … 2>&1 | head -1: the run goes on to the end, exit 0, its log lines in stderr.log, no lock left', () => {
    const outDir = tmp('pipe');
    const cmd = `node --import tsx kernel-lib/cli.ts train ${flags(outDir, 'r', { steps: 60, logEvery: 5 })} 2>&1 | head -1; exit \${PIPESTATUS[0]}`;
    const r = spawnSync('bash', ['-c', cmd], { cwd: ROOT, encoding: 'utf8', env: childEnv() });
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, 'head printed one line');
    const runDir = join(outDir, 'r');
    assert.equal(runJson(runDir).status, 'completed');
    assert.equal(runJson(runDir).steps, 60);
    assert.equal(existsSync(join(runDir, 'lock')), false, 'lock left behind');
    assert.match(readFileSync(join(runDir, 'stderr.log'), 'utf8'), /step 60\/60/, 'the log lines after the pipe closed');
  });

  test('SIGHUP (a closed terminal) stops like SIGTERM: checkpoint at the stop step, run record, exit 129, lock released', async () => {
    const outDir = tmp('hup');
    const run = startCli(['train', ...tinyFlags(outDir, 'h', { steps: 100000, logEvery: 25 })]);
    await run.waitForStderr(/step \d+\/100000/);
    run.proc.kill('SIGHUP');
    assert.equal(await run.exited, 129, run.stderr());
    const rec = runJson(join(outDir, 'h'));
    assert.equal(rec.status, 'interrupted');
    assert.equal(rec.stop.reason, 'SIGHUP');
    assert.equal(findResumePoint(join(outDir, 'h', 'checkpoints'))!.manifest.step, rec.steps, 'a checkpoint at the stop step');
    assert.equal(existsSync(join(outDir, 'h', 'lock')), false, 'lock left behind');
  });
});

describe('2. a finished run whose records are damaged is repaired or refused, never reported done', () => {
  let corpus: Corpus;
  before(async () => {
    await useBackend('wasm', { log: false });
    corpus = loadCorpus({ seed: 0, vocabSize: 400 });
  });

  test('metrics.jsonl deleted: train refuses naming the run and the file, changes nothing; the sweep does not count it finished', async () => {
    const sweepDir = tmp('nometrics');
    const cfg = tinyConfig({ name: 'nometrics', outDir: join(sweepDir, 'runs'), steps: 8, evalEvery: 4 });
    const first = await train(cfg, { corpus });
    assert.equal(first.status, 'completed');
    assert.equal(isFinished(sweepDir, cfg.name, 8), true);
    rmSync(join(first.runDir, 'metrics.jsonl'));
    const before = readdirSync(first.runDir).sort();
    await assert.rejects(train(cfg, { corpus }), new RegExp(`run ${first.runDir} says it completed 8 steps, but its .*metrics\\.jsonl is missing: its results cannot be read back; nothing was changed\\. train --restart`));
    assert.deepEqual(readdirSync(first.runDir).sort(), before);
    assert.equal(isFinished(sweepDir, cfg.name, 8), false);
  });

  test('run.json deleted: rebuilt from the final checkpoint and evaluation, completed, nothing retrained', async () => {
    const cfg = tinyConfig({ name: 'norecord', steps: 8, evalEvery: 4 });
    const first = await train(cfg, { corpus });
    const metrics = readFileSync(join(first.runDir, 'metrics.jsonl'), 'utf8');
    rmSync(join(first.runDir, 'run.json'));
    const again = await train(cfg, { corpus });
    assert.equal(again.status, 'completed');
    assert.equal(again.steps, 8);
    assert.deepEqual(again.finalEval, first.finalEval);
    assert.equal(runJson(first.runDir).status, 'completed');
    assert.deepEqual(runJson(first.runDir).finalEval, first.finalEval);
    assert.equal(readFileSync(join(first.runDir, 'metrics.jsonl'), 'utf8'), metrics, 'nothing was retrained');
    // Without the final evaluation as well, it cannot be rebuilt: refused, naming the run.
    rmSync(join(first.runDir, 'run.json'));
    writeFileSync(join(first.runDir, 'metrics.jsonl'), metrics.split('\n').filter((l) => !l.includes('"type":"eval"')).join('\n'));
    await assert.rejects(train(cfg, { corpus }), /has a checkpoint at step 8 but no run record, and .*metrics\.jsonl has no evaluation at its last step \(8\), so the record cannot be rebuilt; nothing was changed/);
  });
});

describe('3. shared inputs are checked once, before anything is written', () => {
  test('exp with an empty --corpus is refused naming the file, before the backend starts; no sweep folder is made (local and --emit)', () => {
    const root = tmp('corpus');
    const empty = join(root, 'empty.txt');
    writeFileSync(empty, '');
    const binary = join(root, 'binary.txt');
    writeFileSync(binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256)));
    for (const args of [
      ['exp', 'capacity', '--corpus', empty, '--results', join(root, 'results'), '--backend', 'wasm'],
      ['exp', 'capacity', '--corpus', empty, '--emit', 'slurm', '--out', join(root, 'slurm')],
    ]) {
      const out = cliSync(args);
      assert.equal(out.code, 2, `${args.join(' ')}: exit ${out.code}\n${out.stderr}`);
      assert.match(out.stderr, new RegExp(`${empty}: 0 document\\(s\\) with text.*nothing was written`));
      assert.doesNotMatch(out.stderr, /\[switchyard\] backend /);
      assert.deepEqual(readdirSync(root).sort(), ['binary.txt', 'empty.txt'], 'something was written');
    }
  });

  test('a refused --budget takes back the sweep folder it made, and its experiment folder', async () => {
    const root = tmp('budget');
    const exp: Experiment = {
      name: 'one-run', title: 'one run', summary: '', analyze: () => { throw new Error('not reached'); },
      sweep: () => ({ base: { vocabSize: 400, seqLen: 16, batchSize: 4, dModel: 32, numHeads: 2, numLayers: 2, dFf: 64, numExperts: 4, evalBatches: 2 }, runs: [{ id: 'a-s0', group: 'a', seed: 0, config: {}, labels: {} }], steps: 50 }),
    };
    await assert.rejects(runExperimentSweep(exp, PRESETS.quick, { resultsRoot: join(root, 'results'), budgetMinutes: 1e-4, backend: 'wasm', jobs: 1 }), /--budget 0\.0001 minutes cannot fit this sweep/);
    assert.deepEqual(readdirSync(root), [], 'the refused budget left folders behind');
  });
});

describe('exp --seeds: the seeds of every configuration, added to the preset\'s sweep folder', () => {
  test('parseSeeds: ranges and lists; a bad value is named', () => {
    assert.deepEqual(parseSeeds('0-9'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(parseSeeds('0,1,2,5'), [0, 1, 2, 5]);
    assert.deepEqual(parseSeeds('7, 0-2'), [7, 0, 1, 2]);
    assert.throws(() => parseSeeds('3-1'), /--seeds "3-1": the range '3-1' goes down \(write 1-3\)/);
    assert.throws(() => parseSeeds('0,x'), /--seeds "0,x": 'x' is not a seed or a range of seeds/);
    assert.throws(() => parseSeeds('1.5'), /'1\.5' is not a seed/);
    assert.throws(() => parseSeeds('-1'), /'-1' is not a seed/);
    assert.throws(() => parseSeeds('0,1,0'), /seed 0 is named twice/);
    assert.throws(() => parseSeeds('0-5000'), /more than 1000 seeds/);
    assert.throws(() => parseSeeds('99999999999'), /99999999999 is above the largest seed/);
    assert.throws(() => parseSeeds(''), /no seeds given/);
  });

  test('the sweep key does not depend on the seeds; every group gets each seed', () => {
    const spec = getExperiment('specialization');
    const preset = presetSweep(spec, PRESETS.quick, 'wasm');
    const ten = presetSweep(spec, PRESETS.quick, 'wasm', null, undefined, parseSeeds('0-9'));
    assert.equal(ten.key, preset.key);
    const groups = [...new Set(preset.runs.map((r) => r.group))];
    assert.deepEqual(ten.runs.map((r) => r.id), groups.flatMap((g) => Array.from({ length: 10 }, (_, s) => `${g}-s${s}`)));
    assert.deepEqual(ten.runs.map((r) => r.config.seed), ten.runs.map((r) => r.seed));
  });

  test('the command line refuses a bad --seeds before anything is written, naming it', () => {
    const root = tmp('badseeds');
    for (const [bad, re] of [['3-1', /the range '3-1' goes down/], ['a', /'a' is not a seed/], ['1,1', /seed 1 is named twice/]] as const) {
      for (const extra of [[], ['--emit', 'slurm', '--out', join(root, 'slurm')]]) {
        const out = cliSync(['exp', 'specialization', '--seeds', bad, '--results', join(root, 'results'), '--backend', 'wasm', ...extra]);
        assert.equal(out.code, 2, out.stderr);
        assert.match(out.stderr, re);
        assert.deepEqual(readdirSync(root), [], 'something was written');
      }
    }
  });

  test('adding seeds keeps the finished runs (not retrained, same indices) and runs only the new ones; fewer seeds remove nothing', async () => {
    const dir = tmp('addseeds');
    const exp: Experiment = {
      name: 'seeds', title: 'seeds', summary: '', analyze: () => { throw new Error('not reached'); },
      sweep: () => ({ base: { vocabSize: 400, seqLen: 16, batchSize: 4, dModel: 32, numHeads: 2, numLayers: 2, dFf: 64, numExperts: 4, evalBatches: 2 }, runs: [{ id: 'a-s0', group: 'a', seed: 0, config: {}, labels: {} }, { id: 'a-s1', group: 'a', seed: 1, config: {}, labels: {} }], steps: 20 }),
    };
    const one = claimSweepFolder(dir, presetSweep(exp, PRESETS.quick, 'wasm', null, undefined, [0]), '--id', { addRuns: true });
    assert.deepEqual(one.sweep.runs.map((r) => r.id), ['a-s0']);
    const first = await runSweep(dir, one.sweep, { jobs: 1, backend: 'wasm' });
    assert.deepEqual(first.runs.map((r) => r.state), ['completed']);
    const before = statSync(join(dir, 'runs', 'a-s0', 'run.json')).mtimeMs;
    const three = claimSweepFolder(dir, presetSweep(exp, PRESETS.quick, 'wasm', null, undefined, [2, 0, 1]), '--id', { addRuns: true });
    assert.equal(three.existed, true);
    assert.equal(three.sweep.key, one.sweep.key);
    assert.deepEqual(three.sweep.runs.map((r) => r.id), ['a-s0', 'a-s2', 'a-s1'], 'the held run keeps index 0, new ones follow');
    assert.deepEqual(readSweep(dir).runs.map((r) => r.id), ['a-s0', 'a-s2', 'a-s1']);
    assert.deepEqual(readSweep(dir).runs.map((r) => r.config.steps), [20, 20, 20]);
    const second = await runSweep(dir, three.sweep, { jobs: 2, backend: 'wasm' });
    assert.deepEqual(second.runs.map((r) => [r.id, r.state]), [['a-s0', 'skipped'], ['a-s2', 'completed'], ['a-s1', 'completed']]);
    assert.equal(statSync(join(dir, 'runs', 'a-s0', 'run.json')).mtimeMs, before, 'the finished run was touched');
    // Fewer seeds, or none (the preset's): the sweep there continues with all it holds.
    for (const seeds of [[1], undefined]) {
      const again = claimSweepFolder(dir, presetSweep(exp, PRESETS.quick, 'wasm', null, undefined, seeds), '--id', { addRuns: seeds !== undefined });
      assert.deepEqual(again.sweep.runs.map((r) => r.id), ['a-s0', 'a-s2', 'a-s1']);
    }
  });
});

describe('4. npm run lab', () => {
  test('SIGTERM to the npm process stops Jupyter and leaves nothing running; .ipynb_checkpoints/ is ignored', async () => {
    // A stand-in for jupyter-notebook on the PATH: it records the signal that stops it.
    const bin = tmp('fakejupyter');
    const marker = join(bin, 'stopped-by');
    const pidFile = join(bin, 'pid');
    writeFileSync(join(bin, 'jupyter-notebook'), `#!/bin/sh\necho $$ > ${pidFile}\ntrap 'echo TERM > ${marker}; exit 0' TERM\ntrap 'echo INT > ${marker}; exit 0' INT\necho "fake jupyter $*" >&2\nwhile true; do sleep 0.1; done\n`, { mode: 0o755 });
    const run = startProcess('npm', ['run', '--silent', 'lab', '--', '--no-browser'], { PATH: `${bin}:${process.env.PATH}` });
    try {
      await run.waitForStderr(/fake jupyter --notebook-dir=\S+notebooks --no-browser/, 300_000); // the first build of dist/ may take a while
      run.proc.kill('SIGTERM'); // npm's own pid, as `kill <pid of npm run lab>` does
      await run.exited;
      assert.equal(readFileSync(marker, 'utf8').trim(), 'TERM', 'Jupyter was not stopped');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(spawnSync('pgrep', ['-f', `${bin}|scripts/lab.ts`], { encoding: 'utf8' }).stdout.trim(), '', 'a process of npm run lab is still running');
    } finally {
      if (existsSync(pidFile)) spawnSync('kill', ['-TERM', readFileSync(pidFile, 'utf8').trim()]); // this test's stand-in, if the test failed
    }
    assert.equal(spawnSync('git', ['check-ignore', '-q', 'notebooks/.ipynb_checkpoints/01-scaling-checkpoint.ipynb'], { cwd: ROOT }).status, 0, '.ipynb_checkpoints/ is not ignored');
  });
});

describe('5–7. config files load the file named, however the command was started, or say why not', () => {
  // A folder outside the project, without "type": "module" (the package.json above /tmp has none).
  const dir = tmp('configs');
  writeFileSync(join(dir, 'plain.ts'), "import type { TrainConfig } from 'switchyard';\nconst c: Partial<TrainConfig> = { steps: 5, lr: 2e-3 };\nexport default c;\n");
  writeFileSync(join(dir, 'twin.js'), 'export default { steps: 7 };\n');
  writeFileSync(join(dir, 'twin.ts'), 'export default { fromTheTsTwin: 1 };\n');
  writeFileSync(join(dir, 'broken.ts'), "export default {\n  steps: 5,\n  lr: 1e-3\n");
  mkdirSync(join(dir, 'folder.json'));
  /** Runs `train --config <file> --notAKey=1`: a config that loads gets as far as the unknown override. */
  const loadThrough = (how: 'bin' | 'tsx', file: string) => {
    const args = ['train', '--config', join(dir, file), '--notAKey=1'];
    const r = how === 'bin' ? spawnSync(process.execPath, ['bin/switchyard.mjs', ...args], { cwd: ROOT, encoding: 'utf8', env: childEnv() }) : cliSync(args);
    assert.equal(r.status ?? (r as { code: number }).code, 2);
    return r.stderr;
  };

  test('5. a .ts config outside a "type": "module" folder loads through the bin as through npm run cli', async () => {
    for (const how of ['bin', 'tsx'] as const) assert.match(loadThrough(how, 'plain.ts'), /--notAKey: unknown config key 'notAKey'/, how);
    assert.deepEqual(await readConfigFile(join(dir, 'plain.ts')), { steps: 5, lr: 2e-3 });
    assert.equal((await readConfigFile(join(ROOT, 'experiments/configs/tiny.ts'))).name, 'tiny-switch'); // a module folder's file
  });

  test('6. --config x.js with x.ts beside it loads x.js', async () => {
    for (const how of ['bin', 'tsx'] as const) assert.match(loadThrough(how, 'twin.js'), /--notAKey: unknown config key/, `${how}: loaded twin.ts`);
    assert.deepEqual(await readConfigFile(join(dir, 'twin.js')), { steps: 7 });
    assert.deepEqual(await readConfigFile(join(dir, 'twin.ts')), { fromTheTsTwin: 1 });
  });

  test('7. a syntax error gives line, column and cause; a file that cannot be read says so, not "not valid JSON"', async () => {
    for (const how of ['bin', 'tsx'] as const) {
      assert.match(loadThrough(how, 'broken.ts'), /config file .*broken\.ts does not parse: line 4, column 1: Expected "}" but found end of file/, how);
    }
    await assert.rejects(readConfigFile(join(dir, 'folder.json')), /cannot read config file .*folder\.json: is a directory \(EISDIR\)/);
  });
});
