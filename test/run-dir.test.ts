/**
 * Run directories as sweeps and batch systems use them: nothing lost when `latest.json` goes
 * missing or a checkpoint is damaged, one writer per run, finished runs left as they are, moved
 * runs resumed, explicit restarts that keep the old run, and names that stay inside `outDir`.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { loadCorpus, type Corpus } from '../kernel-lib/data/index.ts';
import { resolveTrainConfig } from '../kernel-lib/train/config.ts';
import { acquireRunLock, RunLocked } from '../kernel-lib/train/run-lock.ts';
import { readMetrics, train } from '../kernel-lib/train/trainer.ts';
import { tinyConfig } from './helpers/train-config.ts';

let corpus: Corpus;
before(async () => {
  await useBackend('wasm', { log: false });
  corpus = loadCorpus({ seed: 0, vocabSize: 400 });
});

const lossesOf = (runDir: string) => readMetrics(runDir).train.map((r) => [r.step, r.loss, r.gradNorm]);
const finalWeights = (runDir: string) => {
  const dir = join(runDir, 'checkpoints');
  return readFileSync(join(dir, readdirSync(dir).filter((f) => f.endsWith('.bin')).sort().pop()!));
};
/** Every file under `dir` (but the lock) with its bytes, to show that nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.name === 'lock') continue;
      if (f.isDirectory()) walk(join(d, f.name), `${rel}${f.name}/`);
      else out[rel + f.name] = readFileSync(join(d, f.name)).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

describe('run directories', () => {
  let straight: { runDir: string };
  const cfgOf = (name: string, outDir: string) => tinyConfig({ name, outDir, steps: 12, checkpointEvery: 4 });
  let outDir: string;
  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'switchyard-rundir-'));
    straight = await train(cfgOf('straight', outDir), { corpus });
  });

  test('with latest.json missing, the run resumes from the newest intact checkpoint and ends as an uninterrupted one', async () => {
    const cfg = cfgOf('pointer', outDir);
    await train(cfg, { corpus, stopAfterSteps: 10 }); // checkpoints 8 and 10 are kept
    rmSync(join(outDir, 'pointer', 'checkpoints', 'latest.json'));
    const r = await train(cfg, { corpus });
    assert.equal(r.status, 'completed');
    assert.deepEqual(lossesOf(r.runDir), lossesOf(straight.runDir));
    assert.ok(finalWeights(r.runDir).equals(finalWeights(straight.runDir)), 'final weights differ from the uninterrupted run');
    const env = JSON.parse(readFileSync(join(r.runDir, 'environment.json'), 'utf8'));
    const last = env.resumed.at(-1);
    assert.equal(last.step, 10);
    assert.match(last.notes.join(' '), /latest\.json is missing.*ckpt-00000010\.json \(step 10\)/);
  });

  test('a damaged newest checkpoint is passed over for the older one, and the run still ends exact', async () => {
    const cfg = cfgOf('damaged', outDir);
    await train(cfg, { corpus, stopAfterSteps: 10 });
    const ck = join(outDir, 'damaged', 'checkpoints');
    const bin = readFileSync(join(ck, 'ckpt-00000010.bin'));
    bin[100] ^= 0xff; // one flipped byte: the SHA-256 in the manifest catches it
    writeFileSync(join(ck, 'ckpt-00000010.bin'), bin);
    const r = await train(cfg, { corpus });
    assert.equal(r.status, 'completed');
    assert.deepEqual(lossesOf(r.runDir), lossesOf(straight.runDir));
    const env = JSON.parse(readFileSync(join(r.runDir, 'environment.json'), 'utf8'));
    assert.equal(env.resumed.at(-1).step, 8);
    assert.match(env.resumed.at(-1).notes.join(' '), /ckpt-00000010\.bin is damaged/);
  });

  test('when every checkpoint is damaged the run is refused and nothing changes', async () => {
    const cfg = cfgOf('ruined', outDir);
    await train(cfg, { corpus, stopAfterSteps: 10 });
    const ck = join(outDir, 'ruined', 'checkpoints');
    for (const f of readdirSync(ck).filter((n) => n.endsWith('.bin'))) writeFileSync(join(ck, f), 'x');
    const before = snapshot(join(outDir, 'ruined'));
    await assert.rejects(train(cfg, { corpus }), /no intact checkpoint in .*ruined.*train --restart/);
    assert.deepEqual(snapshot(join(outDir, 'ruined')), before);
  });

  test('records without any checkpoint are never started afresh silently', async () => {
    const dir = join(outDir, 'orphan');
    mkdirSync(dir);
    writeFileSync(join(dir, 'metrics.jsonl'), '{"type":"train","step":1,"loss":5}\n');
    await assert.rejects(train(cfgOf('orphan', outDir), { corpus }), /has records but no checkpoint to resume from; nothing was changed/);
    assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'), '{"type":"train","step":1,"loss":5}\n');
  });

  test('a finished run is left as it is; asking for fewer steps changes nothing; more steps extend it', async () => {
    const cfg = tinyConfig({ name: 'done', outDir, steps: 8, checkpointEvery: 4 });
    await train(cfg, { corpus });
    const before = snapshot(join(outDir, 'done'));
    const again = await train(cfg, { corpus });
    assert.equal(again.unchanged, true);
    assert.equal(again.status, 'completed');
    assert.equal(again.finalEval!.step, 8);
    const fewer = await train({ ...cfg, steps: 4 }, { corpus });
    assert.equal(fewer.unchanged, true);
    assert.deepEqual(snapshot(join(outDir, 'done')), before, 're-running a finished run changed its records');
    assert.equal(JSON.parse(readFileSync(join(outDir, 'done', 'config.json'), 'utf8')).steps, 8);

    const more = await train({ ...cfg, steps: 12 }, { corpus });
    assert.equal(more.status, 'completed');
    assert.equal(more.steps, 12);
    const m = readMetrics(more.runDir);
    assert.deepEqual(m.train.map((r) => r.step), Array.from({ length: 12 }, (_, i) => i + 1));
    assert.deepEqual(m.eval.map((e) => e.step), [8, 12], 'one final evaluation per completed length, none repeated');
    assert.equal(JSON.parse(readFileSync(join(more.runDir, 'config.json'), 'utf8')).steps, 12);
    const env = JSON.parse(readFileSync(join(more.runDir, 'environment.json'), 'utf8'));
    assert.deepEqual(env.resumed.at(-1).steps.from, 8);
  });

  test('a run directory written before finalEvalBatches existed resumes with its default, and ends as an uninterrupted run', async () => {
    const cfg = cfgOf('older', outDir);
    await train(cfg, { corpus, stopAfterSteps: 6 });
    // As an older Switchyard wrote it: no finalEvalBatches in config.json nor in any checkpoint's state.
    const dir = join(outDir, 'older');
    const strip = (path: string, at: (json: Record<string, unknown>) => Record<string, unknown>) => {
      const json = JSON.parse(readFileSync(path, 'utf8'));
      delete at(json).finalEvalBatches;
      writeFileSync(path, JSON.stringify(json));
    };
    strip(join(dir, 'config.json'), (c) => c);
    const manifests = readdirSync(join(dir, 'checkpoints')).filter((f) => /^ckpt-\d+\.json$/.test(f));
    for (const f of manifests) strip(join(dir, 'checkpoints', f), (m) => (m.state as { config: Record<string, unknown> }).config);
    assert.ok(manifests.length > 0 && !readFileSync(join(dir, 'config.json'), 'utf8').includes('finalEvalBatches'));
    const r = await train(cfg, { corpus });
    assert.equal(r.status, 'completed');
    assert.deepEqual(lossesOf(r.runDir), lossesOf(straight.runDir));
    assert.ok(finalWeights(r.runDir).equals(finalWeights(straight.runDir)), 'final weights differ from the uninterrupted run');
    assert.deepEqual(readMetrics(r.runDir).eval.at(-1), readMetrics(straight.runDir).eval.at(-1), 'the final evaluation reads the whole validation split (finalEvalBatches 0)');
    assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).finalEvalBatches, 0);
  });

  test('a moved and renamed run directory resumes, and ends as an uninterrupted run', async () => {
    const a = cfgOf('tomove', outDir);
    await train(a, { corpus, stopAfterSteps: 6 });
    const elsewhere = mkdtempSync(join(tmpdir(), 'switchyard-moved-'));
    renameSync(join(outDir, 'tomove'), join(elsewhere, 'moved'));
    const r = await train({ ...a, outDir: elsewhere, name: 'moved' }, { corpus });
    assert.equal(r.status, 'completed');
    assert.equal(r.runDir, join(elsewhere, 'moved'));
    assert.deepEqual(lossesOf(r.runDir), lossesOf(straight.runDir));
  });

  test('a changed computation is refused, naming the keys; --restart moves the old run aside whole', async () => {
    const cfg = tinyConfig({ name: 'changed', outDir, steps: 4 });
    await train(cfg, { corpus });
    const before = snapshot(join(outDir, 'changed'));
    await assert.rejects(train({ ...cfg, lr: 1e-2 }, { corpus }), /its config differs in 'lr' \(0\.003 there, 0\.01 now\)/);
    const r = await train({ ...cfg, lr: 1e-2 }, { corpus, restart: true });
    assert.equal(r.status, 'completed');
    const aside = readdirSync(outDir).filter((n) => n.startsWith('changed.replaced-'));
    assert.equal(aside.length, 1);
    assert.deepEqual(snapshot(join(outDir, aside[0])), before, 'the replaced run was not kept whole');
    assert.equal(JSON.parse(readFileSync(join(r.runDir, 'config.json'), 'utf8')).lr, 1e-2);
  });

  test("names are one path component: '.' and '..' are refused before anything is written", async () => {
    for (const name of ['.', '..', 'a/b', '']) {
      assert.throws(() => resolveTrainConfig({ source: 'test', values: { name } }), /'name' must be one path component/, name);
    }
    const parent = mkdtempSync(join(tmpdir(), 'switchyard-names-'));
    const inner = join(parent, 'runs');
    await assert.rejects(train({ ...tinyConfig({ outDir: inner }), name: '..' }, { corpus }), /'name' must be one path component/);
    assert.deepEqual(readdirSync(parent), ['runs'].filter((n) => existsSync(join(parent, n))));
    assert.ok(!existsSync(join(parent, 'config.json')));
  });

  test('a run refused before training creates no run directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-refused-'));
    await assert.rejects(train(tinyConfig({ outDir: dir, name: 'huge', seqLen: 400_000 }), { corpus }), /too few for one batch/);
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('run lock', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'switchyard-lock-'));

  test('a second writer is refused, naming the owner; release frees it', () => {
    const d = dir();
    const lock = acquireRunLock(d, 'test');
    assert.throws(() => acquireRunLock(d, 'test'), (e: Error) => e instanceof RunLocked && new RegExp(`in use by process ${process.pid} on ${hostname()}`).test(e.message));
    lock.release();
    acquireRunLock(d, 'test').release();
    assert.ok(!existsSync(join(d, 'lock')));
  });

  test('a stale lock (dead process on this host; old heartbeat from another host) is taken over', () => {
    const d = dir();
    const dead = 2 ** 22 + 12345; // above Linux's default pid_max: no such process
    writeFileSync(join(d, 'lock'), JSON.stringify({ pid: dead, host: hostname(), started: 'then', command: 'train' }));
    acquireRunLock(d, 'test').release();
    writeFileSync(join(d, 'lock'), JSON.stringify({ pid: 1, host: 'node-17.cluster', started: 'then', command: 'train' }));
    assert.throws(() => acquireRunLock(d, 'test'), /in use by process 1 on node-17\.cluster/);
    const old = new Date(Date.now() - 11 * 60_000);
    utimesSync(join(d, 'lock'), old, old);
    acquireRunLock(d, 'test').release();
  });

  test('a lock naming this pid but not held by this process is from an earlier process (containers reuse pids)', () => {
    const d = dir();
    writeFileSync(join(d, 'lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: 'earlier', command: 'train' }));
    acquireRunLock(d, 'test').release();
  });

  test('under Slurm the lock records the job and restart count (a requeued task recognises it)', () => {
    const d = dir();
    const saved = { id: process.env.SLURM_JOB_ID, rc: process.env.SLURM_RESTART_COUNT };
    process.env.SLURM_JOB_ID = '4711';
    process.env.SLURM_RESTART_COUNT = '2';
    try {
      const lock = acquireRunLock(d, 'test');
      assert.deepEqual(JSON.parse(readFileSync(join(d, 'lock'), 'utf8')).slurm, { jobId: '4711', restartCount: '2' });
      lock.release();
    } finally {
      if (saved.id === undefined) delete process.env.SLURM_JOB_ID;
      else process.env.SLURM_JOB_ID = saved.id;
      if (saved.rc === undefined) delete process.env.SLURM_RESTART_COUNT;
      else process.env.SLURM_RESTART_COUNT = saved.rc;
    }
    acquireRunLock(d, 'test').release();
  });

  test('train() without an abort signal still gives timers their turn every step (the lock\'s heartbeat is one)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await train(tinyConfig({ name: 'timers', steps: 40, logEvery: 40 }), { corpus });
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks >= 20, `a timer ran ${ticks} times during 40 steps`);
  });

  test('training holds the lock: a concurrent train() of the same run is refused', async () => {
    const cfg = tinyConfig({ name: 'locked', steps: 4 });
    const held = acquireRunLock((mkdirSync(join(cfg.outDir, 'locked'), { recursive: true }), join(cfg.outDir, 'locked')), 'other');
    await assert.rejects(train(cfg, { corpus }), RunLocked);
    held.release();
    assert.equal((await train(cfg, { corpus })).status, 'completed');
  });
});
