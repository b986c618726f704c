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
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { EXIT_IO, exitCodeFor } from '../kernel-lib/cli/exit.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { claimSweepFolder, presetSweep, runExperimentSweep } from '../kernel-lib/exp/orchestrate.ts';
import { isFinished, runSweep } from '../kernel-lib/exp/runner.ts';
import { parseSeeds } from '../kernel-lib/exp/seeds.ts';
import { readSweep } from '../kernel-lib/exp/sweep-file.ts';
import type { Experiment } from '../kernel-lib/exp/types.ts';
import { getExperiment, PRESETS } from '../experiments/index.ts';
import { MoeLayer } from '../kernel-lib/moe/layer.ts';
import { findResumePoint } from '../kernel-lib/train/checkpoint.ts';
import { resolveTrainConfig } from '../kernel-lib/train/config.ts';
import { checkTextFile } from '../kernel-lib/train/corpus-for.ts';
import { readConfigFile } from '../kernel-lib/train/load-config.ts';
import { train } from '../kernel-lib/train/trainer.ts';
import { ROOT, childEnv, cliSync, startCli, startProcess, tinyFlags } from './helpers/proc.ts';
import { fsError } from '../kernel-lib/util/fs-error.ts';
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
      name: 'one-run', title: 'one run', summary: '', differences: () => [], analyze: () => { throw new Error('not reached'); },
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
      name: 'seeds', title: 'seeds', summary: '', differences: () => [], analyze: () => { throw new Error('not reached'); },
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
    if (how === 'tsx') {
      const r = cliSync(args);
      assert.equal(r.code, 2, r.stderr);
      return r.stderr;
    }
    const r = spawnSync(process.execPath, ['bin/switchyard.mjs', ...args], { cwd: ROOT, encoding: 'utf8', env: childEnv() });
    assert.equal(r.status, 2, r.stderr);
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

describe('8. values that mean nothing are refused, or what is used is recorded', () => {
  test('steps past a billion (1e30 trained for ever) and --budget past a year are refused, naming the value', () => {
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { steps: 1e30 } }), /x: 'steps' is too large to count exactly, got 1e\+30/);
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { steps: 2e9 } }), /'steps' must be ≤ 1,000,000,000 .*got 2000000000/);
    assert.throws(() => resolveTrainConfig({ source: 'x', values: { vocabSize: 2 ** 60 } }), /'vocabSize' is too large to count exactly/);
    const steps = cliSync(['train', '--steps=1e30', '--backend=wasm']);
    assert.equal(steps.code, 2);
    assert.match(steps.stderr, /'steps' is too large to count exactly, got 1e\+30/);
    const budget = cliSync(['exp', 'specialization', '--budget', '1e9', '--backend', 'wasm', '--results', tmp('bigbudget')]);
    assert.equal(budget.code, 2);
    assert.match(budget.stderr, /--budget: .*525600.*1000000000|--budget.*1e\+?9/);
  });

  test('a budget whose steps pass the bound is refused after calibration, taking back its folder', async () => {
    const root = tmp('budgetsteps');
    const exp: Experiment = {
      name: 'one-run', title: 'one run', summary: '', differences: () => [], analyze: () => { throw new Error('not reached'); },
      sweep: () => ({ base: { vocabSize: 400, seqLen: 16, batchSize: 4, dModel: 32, numHeads: 2, numLayers: 2, dFf: 64, numExperts: 4, evalBatches: 2 }, runs: [{ id: 'a-s0', group: 'a', seed: 0, config: {}, labels: {} }], steps: 50 }),
    };
    await assert.rejects(runExperimentSweep(exp, PRESETS.quick, { resultsRoot: join(root, 'results'), budgetMinutes: 1e9, backend: 'wasm', jobs: 1 }), /--budget 1000000000 minutes would give every run [\d,]+ steps, more than a run may take \(1,000,000,000\)/);
    assert.deepEqual(readdirSync(root), []);
  });

  test('k with a router that ignores it, and MoE settings for a dense model, are refused', () => {
    for (const [args, re] of [
      [['--router=top1', '--k=9'], /command line: 'k' = 9 means nothing with router 'top1'/],
      [['--router=expert-choice', '--allowExpertChoice=true', '--k=2'], /'k' = 2 means nothing with router 'expert-choice'/],
      [['--ffn=dense', '--numExperts=4'], /'numExperts' set for a dense model \(ffn 'dense'\)/],
      [['--sparseEvery=0', '--capacityFactor=2'], /'capacityFactor' set for a dense model \(sparseEvery 0\)/],
    ] as const) {
      const r = cliSync(['train', '--backend=wasm', '--outDir', tmp('meaning'), ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
    }
  });

  test('vocabSize above the corpus\'s words: config.json records the vocabulary used, and the same command finds the run again', async () => {
    await useBackend('wasm', { log: false });
    const dir = tmp('vocab');
    const words = Array.from({ length: 60 }, (_, i) => `w${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`);
    const doc = (d: number) => Array.from({ length: 40 }, (_, s) => `${Array.from({ length: 12 }, (_, j) => words[(d * 7 + s * 3 + j * 5) % words.length]).join(' ')}.`).join(' ');
    const corpusFile = join(dir, 'small.txt');
    writeFileSync(corpusFile, Array.from({ length: 40 }, (_, d) => doc(d)).join('\n\n')); // ≥ 30 documents: kept as documents
    const cfg = tinyConfig({ outDir: dir, name: 'big-vocab', corpus: corpusFile, vocabSize: 10_000_000, steps: 4 });
    const first = await train(cfg);
    const saved = JSON.parse(readFileSync(join(first.runDir, 'config.json'), 'utf8'));
    assert.ok(saved.vocabSize < 100, `config.json records vocabSize ${saved.vocabSize}`);
    assert.equal(saved.vocabSize, JSON.parse(readFileSync(join(first.runDir, 'vocab.json'), 'utf8')).tokens.length, 'config.json and vocab.json disagree');
    const again = await train(cfg);
    assert.equal(again.unchanged, true, 'the same command did not find the finished run');
  });

  test('a binary file as --corpus is refused before anything is written; so is one without a letter', () => {
    const dir = tmp('binary');
    const binary = join(dir, 'data.txt');
    writeFileSync(binary, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 37 + 11) % 256)));
    assert.throws(() => checkTextFile(binary), new RegExp(`corpus file ${binary} is not text: [\\d.]+% of its first 8,192 bytes are control characters or invalid UTF-8`));
    const digits = join(dir, 'digits.txt');
    writeFileSync(digits, '1 2 3.\n\n4 5 6.\n\n7 8 9.\n');
    assert.throws(() => checkTextFile(digits), /holds no word: no letter/);
    const r = cliSync(['train', '--backend=wasm', `--corpus=${binary}`, '--outDir', join(dir, 'runs')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not text/);
    assert.equal(existsSync(join(dir, 'runs')), false);
  });
});

describe('9. sizes of nothing, layers used wrongly, cases that check nothing, names and disk full', () => {
  const refused = (args: string[], re: RegExp) => {
    const r = cliSync(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /\[switchyard\] backend /, `${args.join(' ')}: a backend started`);
    return r;
  };

  test('bench: zero experts, tokens or repeats are refused naming the value, before the backend starts', () => {
    refused(['bench', 'moe-layer', '--experts', '0', '--backend', 'cpu'], /--experts: expected values ≥ 1, got '0'/);
    refused(['bench', 'moe-layer', '--experts', '1,0,8', '--backend', 'cpu'], /--experts: expected values ≥ 1, got '1,0,8'/);
    refused(['bench', 'moe-layer', '--tokens', '0', '--backend', 'cpu'], /--tokens: expected a value ≥ 1, got '0'/);
    refused(['bench', 'moe-layer', '--repeats', '0', '--backend', 'cpu'], /--repeats: expected a value ≥ 1, got '0'/);
    refused(['bench', 'train-step', '--experts', '0', '--backend', 'cpu'], /--experts: expected a value ≥ 1, got '0'/);
    refused(['bench', 'moe-layer', '--tokens', '1e30', '--backend', 'cpu'], /--tokens: expected an integer of at most 2\^53 − 1, got '1e30'/);
  });

  test('MoeLayer.apply after dispose(), or on a plain array, says so', async () => {
    await useBackend('cpu', { log: false });
    const layer = new MoeLayer({ dModel: 4, dFf: 8, numExperts: 2, router: 'top1', capacityFactor: 1 }, { seed: 0 });
    assert.throws(() => layer.apply([[1, 2, 3, 4]] as unknown as tf.Tensor, { training: false }), /MoE layer: input must be a tf\.Tensor float32\[T,4\], got an array \(make it one with tf\.tensor2d\(x\)\)/);
    const x = tf.ones([3, 4]);
    x.dispose();
    assert.throws(() => layer.apply(x, { training: false }), /the input tensor was disposed/);
    layer.dispose();
    const y = tf.ones([3, 4]);
    assert.throws(() => layer.apply(y, { training: false }), /MoE layer: apply\(\) after dispose\(\): its weights are gone; make a new MoeLayer/);
    y.dispose();
  });

  test('conformance: a case without `expected` is refused unless --check=false; a wrong x width names x', () => {
    const dir = tmp('cases');
    const base = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/conformance/top1-basic.json'), 'utf8'));
    const { expected: _expected, ...noExpected } = base;
    writeFileSync(join(dir, 'unchecked.json'), JSON.stringify(noExpected));
    refused(['conformance', join(dir, 'unchecked.json'), '--backend', 'cpu'], /conformance: unchecked\.json has no 'expected' answer, so nothing would be checked; add it, or pass --check=false/);
    const printed = cliSync(['conformance', join(dir, 'unchecked.json'), '--backend', 'cpu', '--check=false']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(JSON.parse(printed.stdout).case, 'unchecked.json');
    const D = base.routerWeight.length;
    writeFileSync(join(dir, 'narrow.json'), JSON.stringify({ ...base, x: base.x.map((row: number[]) => row.slice(1)) }));
    refused(['conformance', join(dir, 'narrow.json'), '--backend', 'cpu'], new RegExp(`narrow\\.json: x has rows of ${D - 1} entries, but routerWeight, w1 and w2 have D = ${D}: x must be \\[T, ${D}\\]`));
  });

  test("--id that is not one folder name is named as --id", () => {
    refused(['exp', 'specialization', '--id', '../../evil', '--results', tmp('evil'), '--backend', 'wasm'], /--id must be one path component .*got '\.\.\/\.\.\/evil'/);
  });

  test('a write the disk refused (disk full, quota, I/O error) exits 4, not 2 ("bad input, nothing written")', () => {
    assert.equal(exitCodeFor(fsError('append to', '/x/metrics.jsonl', Object.assign(new Error('no space'), { code: 'ENOSPC' }))), EXIT_IO);
    assert.equal(exitCodeFor(new Error('run failed', { cause: Object.assign(new Error('quota'), { code: 'EDQUOT' }) })), EXIT_IO);
    assert.equal(exitCodeFor(Object.assign(new Error('io'), { code: 'EIO' })), 4);
    assert.equal(exitCodeFor(new Error("--steps: expected an integer, got 'x'")), 2);
    assert.equal(exitCodeFor(Object.assign(new Error('denied'), { code: 'EACCES' })), 2, 'refused before writing: bad input');
  });
});

describe('siblings', () => {
  test('a failure note the disk refuses does not crash the sweep: the run is reported failed and the sweep goes on', async () => {
    const dir = tmp('note');
    const exp: Experiment = {
      name: 'note', title: 'note', summary: '', differences: () => [], analyze: () => { throw new Error('not reached'); },
      sweep: () => ({ base: { vocabSize: 400, seqLen: 16, batchSize: 4, dModel: 32, numHeads: 2, numLayers: 2, dFf: 64, numExperts: 4, evalBatches: 2 }, runs: [{ id: 'a-s0', group: 'a', seed: 0, config: {}, labels: {} }], steps: 5 }),
    };
    const { sweep } = claimSweepFolder(dir, presetSweep(exp, PRESETS.quick, 'wasm'), '--id');
    mkdirSync(join(dir, 'runs'), { recursive: true });
    writeFileSync(join(dir, 'runs', 'a-s0'), 'a file where the run directory goes'); // the run fails
    mkdirSync(join(dir, 'logs', 'a-s0.failed.json', 'x'), { recursive: true }); // and its note cannot be written
    const out = await runSweep(dir, sweep, { jobs: 1, backend: 'wasm' });
    assert.deepEqual(out.runs.map((r) => r.state), ['failed']);
    assert.equal(out.failed[0].code, 2);
  });
});

describe('a sweep end to end (exp specialization --preset quick --seeds 0: one run)', () => {
  test('exp … 2>&1 | head -1 loses nothing; a run without run.json is rebuilt, one without metrics is named and exp exits 1', () => {
    const root = tmp('exp');
    const args = ['exp', 'specialization', '--preset', 'quick', '--seeds', '0', '--results', root, '--backend', 'wasm'];
    const piped = spawnSync('bash', ['-c', `node --import tsx kernel-lib/cli.ts ${args.join(' ')} 2>&1 | head -1; exit \${PIPESTATUS[0]}`], { cwd: ROOT, encoding: 'utf8', env: childEnv() });
    assert.equal(piped.status, 0, piped.stdout + piped.stderr);
    const dir = join(root, 'specialization', readdirSync(join(root, 'specialization'))[0]);
    const runDir = join(dir, 'runs', 'switch-e4-s0');
    assert.equal(runJson(runDir).status, 'completed');
    assert.equal(existsSync(join(runDir, 'lock')), false, 'lock left behind');
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');

    rmSync(join(runDir, 'run.json'));
    const rebuilt = cliSync(args);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const runLog = () => readFileSync(join(dir, 'logs', 'switch-e4-s0.log'), 'utf8');
    assert.match(runLog(), /had no run\.json; rebuilt it from the checkpoint at step 120/);
    assert.equal(runJson(runDir).status, 'completed');
    assert.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), metrics, 'the run was trained again');
    assert.deepEqual(JSON.parse(rebuilt.stdout).missing, []);

    rmSync(join(runDir, 'metrics.jsonl'));
    const refused = cliSync(args);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /run switch-e4-s0 failed \(exit 2\)/);
    assert.match(runLog(), /says it completed 120 steps, but its .*metrics\.jsonl is missing/);
    assert.deepEqual(JSON.parse(refused.stdout).missing.map((m: { run: string }) => m.run), ['switch-e4-s0']);
  });
});

describe('exp --seeds with --emit slurm', () => {
  test('seeds added to an emitted sweep keep its task indices; the array grows to hold them', () => {
    const out = join(tmp('emitseeds'), 'sweep');
    const first = cliSync(['exp', 'specialization', '--emit', 'slurm', '--out', out, '--seeds', '0']);
    assert.equal(first.code, 0, first.stderr);
    const ids = () => readSweep(out).runs.map((r) => r.id);
    assert.deepEqual(ids(), ['switch-e4-s0']);
    const more = cliSync(['exp', 'specialization', '--emit', 'slurm', '--out', out, '--seeds', '2,1']);
    assert.equal(more.code, 0, more.stderr);
    assert.deepEqual(ids(), ['switch-e4-s0', 'switch-e4-s2', 'switch-e4-s1']);
    assert.match(readFileSync(join(out, 'submit.sbatch'), 'utf8'), /--array=0-2%3/, 'every run of the folder runs at once by default');
    assert.equal(JSON.parse(more.stdout).runs, 3);
  });
});
