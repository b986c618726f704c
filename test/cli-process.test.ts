/**
 * The command line as a batch system runs it, with real child processes: output through slow
 * pipes, SIGTERM and SIGINT (directly, through `npm run` and through the `switchyard` bin), two
 * processes on one run, and input that must be refused before anything starts.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { findResumePoint } from '../kernel-lib/train/checkpoint.ts';
import { readMetrics, train } from '../kernel-lib/train/trainer.ts';
import { ROOT, childEnv, cliSync, signalGroup, startCli, startProcess, tinyFlags } from './helpers/proc.ts';
import { tinyConfig } from './helpers/train-config.ts';

const fixtures = readdirSync(join(ROOT, 'test/fixtures/conformance')).map((f) => join('test/fixtures/conformance', f)).sort();
const runJson = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
const tmp = (p: string) => mkdtempSync(join(tmpdir(), `switchyard-${p}-`));

describe('output through pipes', () => {
  test(`every line reaches a slow reader (${3 * fixtures.length} conformance cases: the fixtures three times) and the exit code is kept`, () => {
    const files = [...fixtures, ...fixtures, ...fixtures].join(' ');
    for (const cmd of [`node --import tsx kernel-lib/cli.ts conformance --backend cpu ${files}`, `node bin/switchyard.mjs conformance --backend cpu ${files}`]) {
      const r = spawnSync('bash', ['-c', `${cmd} 2>/dev/null | (sleep 2; wc -l); exit \${PIPESTATUS[0]}`], { cwd: ROOT, encoding: 'utf8', env: childEnv() });
      assert.equal(r.stdout.trim(), String(3 * fixtures.length), `${cmd.split(' conformance')[0]}: lines that arrived`);
      assert.equal(r.status, 0);
    }
  });
});

describe('stopping a run with a signal', () => {
  let corpus: Corpus;
  before(async () => {
    await useBackend('wasm', { log: false });
    corpus = loadCorpus({ seed: 0, vocabSize: 400 });
  });

  test('SIGTERM through `npm run cli`: the step finishes, a checkpoint is written, exit 143, nothing left running; resuming ends exact', async () => {
    const outDir = tmp('sigterm');
    const steps = 600;
    const run = startProcess('npm', ['run', '--silent', 'cli', '--', 'train', ...tinyFlags(outDir, 'r', { steps, logEvery: 10 })]);
    await run.waitForStderr(/step \d+\/600/);
    run.proc.kill('SIGTERM'); // npm's own pid: the signal must reach the trainer
    const code = await run.exited;
    assert.equal(code, 143, run.stderr());
    const rec = runJson(join(outDir, 'r'));
    assert.equal(rec.status, 'interrupted', run.stderr());
    assert.equal(rec.stop.reason, 'SIGTERM');
    assert.ok(rec.steps > 0 && rec.steps < steps, `stopped at ${rec.steps}`);
    assert.equal(findResumePoint(join(outDir, 'r', 'checkpoints'))!.manifest.step, rec.steps, 'a checkpoint at the stop step');
    const ps = spawnSync('pgrep', ['-f', outDir], { encoding: 'utf8' });
    assert.equal(ps.stdout.trim(), '', 'a process of the run is still running');
    // Resume through the bin (the documented way for long jobs), then compare with an uninterrupted run.
    const resumed = startProcess(process.execPath, ['bin/switchyard.mjs', 'train', ...tinyFlags(outDir, 'r', { steps, logEvery: 10 })]);
    assert.equal(await resumed.exited, 0, resumed.stderr());
    const straight = await train(tinyConfig({ name: 'straight', outDir, steps, logEvery: 10, progress: 'none' }), { corpus });
    const rows = (d: string) => readMetrics(d).train.map((r) => [r.step, r.loss, r.gradNorm]);
    assert.deepEqual(rows(join(outDir, 'r')), rows(straight.runDir), 'the interrupted and resumed run differs from an uninterrupted one');
    assert.equal(runJson(join(outDir, 'r')).finalEval.loss, straight.finalEval!.loss);
  });

  test('SIGINT to the switchyard bin stops gracefully with exit 130', async () => {
    const outDir = tmp('sigint');
    const run = startProcess(process.execPath, ['bin/switchyard.mjs', 'train', ...tinyFlags(outDir, 'a', { steps: 100000, logEvery: 25 })]);
    await run.waitForStderr(/step \d+\/100000/);
    run.proc.kill('SIGINT');
    assert.equal(await run.exited, 130, run.stderr());
    assert.equal(runJson(join(outDir, 'a')).stop.reason, 'SIGINT');
  });

  test('Ctrl-C at a terminal (SIGINT to the whole process group) through `npm run cli`: one graceful stop, exit 130, a checkpoint', async () => {
    // npm forwards the SIGINT its child already got from the terminal: two signals, one stop.
    const outDir = tmp('ctrlc');
    const run = startProcess('npm', ['run', '--silent', 'cli', '--', 'train', ...tinyFlags(outDir, 'c', { steps: 100000, logEvery: 25 })], {}, { group: true });
    await run.waitForStderr(/step \d+\/100000/);
    signalGroup(run, 'SIGINT');
    assert.equal(await run.exited, 130, run.stderr());
    assert.doesNotMatch(run.stderr(), /again: stopping at once/);
    const rec = runJson(join(outDir, 'c'));
    assert.equal(rec.status, 'interrupted', run.stderr());
    assert.equal(rec.stop.reason, 'SIGINT');
    assert.equal(findResumePoint(join(outDir, 'c', 'checkpoints'))!.manifest.step, rec.steps, 'a checkpoint at the stop step');
  });

  test('a repeat within a second is the same stop; a signal after that stops at once', async () => {
    const child = startProcess(process.execPath, ['--import', 'tsx', 'test/helpers/signal-child.ts']);
    try {
      await child.waitForStderr(/ready/);
      child.proc.kill('SIGTERM');
      child.proc.kill('SIGINT');
      await child.waitForStderr(/stopping gracefully/);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(child.proc.exitCode, null, `a repeat within a second stopped the process at once:\n${child.stderr()}`);
      assert.doesNotMatch(child.stderr(), /again: stopping at once/);
      child.proc.kill('SIGINT');
      assert.equal(await child.exited, 130, child.stderr());
      assert.match(child.stderr(), /SIGINT again: stopping at once/);
    } finally {
      child.proc.kill('SIGKILL'); // the child never ends on its own
    }
  });

  test('a second process on the same run is refused while the first trains', async () => {
    const outDir = tmp('twice');
    const first = startCli(['train', ...tinyFlags(outDir, 'same', { steps: 100000, logEvery: 25 })]);
    await first.waitForStderr(/step \d+\/100000/);
    const second = cliSync(['train', ...tinyFlags(outDir, 'same', { steps: 100000 })]);
    assert.equal(second.code, 2);
    assert.match(second.stderr, new RegExp(`${join(outDir, 'same')} is in use by process ${first.proc.pid}`));
    assert.equal(second.stdout, '');
    first.proc.kill('SIGTERM');
    assert.equal(await first.exited, 143);
    const steps = readMetrics(join(outDir, 'same')).train.map((r) => r.step);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), 'metric rows interleaved or duplicated');
  });
});

describe('input refused before anything starts', () => {
  const refused = (args: string[], re: RegExp, env: Record<string, string> = {}) => {
    const out = cliSync(args, env);
    assert.equal(out.code, 2, `${args.join(' ')}: exit ${out.code}\n${out.stderr}`);
    assert.equal(out.stdout, '', `${args.join(' ')}: stdout must stay empty`);
    assert.match(out.stderr, re, args.join(' '));
    assert.doesNotMatch(out.stderr, /\[switchyard\] backend /, `${args.join(' ')}: a backend started`);
    return out;
  };

  test('config keys are own keys of the defaults: __proto__, constructor, toString are unknown', () => {
    const dir = tmp('proto');
    for (const k of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) refused(['train', `--${k}=1`], new RegExp(`unknown config key '${k}'`));
    const json = join(dir, 'proto.json');
    writeFileSync(json, '{"__proto__": {"steps": 1}, "name": "x"}');
    refused(['train', '--config', json, `--outDir=${dir}`], /unknown config key '__proto__'/);
  });

  test('a config file that throws is named; train takes SWITCHYARD_BACKEND like every command', () => {
    const dir = tmp('cfgfile');
    const bad = join(dir, 'boom.ts');
    writeFileSync(bad, "throw new Error('boom in config');\nexport default {};\n");
    refused(['train', '--config', bad], /config file .*boom\.ts failed to load: boom in config/);
    refused(['train', '--name=x'], /SWITCHYARD_BACKEND: 'backend' must be one of/, { SWITCHYARD_BACKEND: 'gpu' });
    const ok = cliSync(['train', ...tinyFlags(dir, 'env', { steps: 2 }).filter((f) => !f.startsWith('--backend'))], { SWITCHYARD_BACKEND: 'cpu' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).device.backend, 'cpu');
  });

  test('data and sizes that cannot work are refused before the backend, creating no run directory', () => {
    const dir = tmp('sizes');
    refused(['train', ...tinyFlags(dir, 'long', { seqLen: 400000 })], /too few for one batch/);
    refused(['train', ...tinyFlags(dir, 'v', { vocabSize: 3 })], /vocab: size must be .* >= 4/);
    refused(['train', ...tinyFlags(dir, '..')], /'name' must be one path component/);
    assert.deepEqual(readdirSync(dir), []);
    refused(['bench', 'moe-layer', '--tokens', '1000000000'], /input \[T,D\] tensor would be float32\[1000000000,256\]/);
    refused(['bench', 'train-step', '--vocab-size', '100000000'], /logits \[B·S,V\] tensor would be float32\[2048,100000000\]/);
    refused(['demo', '--steps=-1'], /--steps: expected a value in \[1, 100000\], got '-1'/);
    refused(['demo', '--experts=0'], /--experts: expected a value in \[1, 1024\], got '0'/);
  });

  test('conformance files: every field is validated, naming the file and field', () => {
    const dir = tmp('cases');
    const good = JSON.parse(readFileSync(join(ROOT, fixtures[0]), 'utf8'));
    const variants: [string, (c: Record<string, unknown>) => void, RegExp][] = [
      ['empty-expected', (c) => (c.expected = {}), /missing field 'expected\.y'/],
      ['null-expected', (c) => (c.expected = null), /'expected' must be an object/],
      ['ragged-y', (c) => ((c.expected as { y: number[][] }).y[1] = [1]), /expected\.y\[1\] has 1 entries/],
      ['bad-index', (c) => ((c.expected as { expertIndex: number[] }).expertIndex[0] = 99), /expected\.expertIndex\[0\] must be an expert index/],
      ['bad-grad', (c) => delete (c.expected as { grads: Record<string, unknown> }).grads.w2, /missing field 'expected\.grads\.w2'/],
      ['extra-key', (c) => (c.cotangents = []), /unknown field 'cotangents'/],
      ['extra-config', (c) => ((c.config as Record<string, unknown>).capacity_factor = 1), /unknown field 'config\.capacity_factor'/],
    ];
    for (const [name, mutate, re] of variants) {
      const c = structuredClone(good);
      mutate(c);
      const f = join(dir, `${name}.json`);
      writeFileSync(f, JSON.stringify(c));
      refused(['conformance', '--backend', 'cpu', f], new RegExp(`${name}\\.json: ${re.source}`));
    }
  });

  test('usage: no command prints usage to stderr (exit 2); unknown commands list every command; stray words are refused', () => {
    const none = cliSync([]);
    assert.equal(none.code, 2);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /usage: switchyard <command>[\s\S]*train[\s\S]*bench/);
    refused(['frobnicate'], /unknown command 'frobnicate' \(commands: .*conformance.*train.*bench/);
    refused(['device', 'extra'], /device: unexpected argument 'extra'/);
    refused(['train', 'extra'], /unexpected argument 'extra'/);
    const help = cliSync(['train', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--capacityFactor=1\.25\s+training capacity factor/);
    assert.match(help.stdout, /--restart/);
  });
});
