/**
 * Errors that name the file and say what happened: disk full, read-only file system, a parent
 * that is a file, torn metrics lines; and the cpu backend's segment sum (gather's gradient).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { writeFileAtomic } from '../kernel-lib/util/atomic.ts';
import { ensureDir, fsError } from '../kernel-lib/util/fs-error.ts';
import { readMetrics } from '../kernel-lib/train/trainer.ts';
import { TRAIN_CONFIG_HELP } from '../kernel-lib/train/config-help.ts';
import { DEFAULT_TRAIN_CONFIG } from '../kernel-lib/train/config.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'switchyard-fs-'));

/** Whether this process may mount a tmpfs (root on Linux): then the real ENOSPC and EROFS paths run. */
function canMount(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const d = tmp();
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d]).status === 0;
  if (ok) spawnSync('umount', [d]);
  return ok;
}

describe('file-system errors', () => {
  test('each errno is explained and the path named', () => {
    for (const [code, words] of [['ENOSPC', 'disk full'], ['EROFS', 'read-only file system'], ['EACCES', 'permission denied']]) {
      const e = fsError('write', '/data/runs/a/metrics.jsonl', Object.assign(new Error('x'), { code }));
      assert.match(e.message, new RegExp(`^cannot write /data/runs/a/metrics\\.jsonl: .*${words}.*\\(${code}\\)$`));
    }
  });

  test('a parent that is a file: the directory and the reason are named', () => {
    const d = tmp();
    writeFileSync(join(d, 'file'), '');
    assert.throws(() => ensureDir(join(d, 'file', 'run')), new RegExp(`cannot create directory ${d}/file/run: .*\\((ENOTDIR|EEXIST)\\)`));
    assert.throws(() => writeFileAtomic(join(d, 'file', 'x.json'), '{}'), /cannot create directory .*file: /);
  });

  const mountable = canMount();
  test('disk full and read-only file systems, for real (tmpfs)', { skip: mountable ? false : 'needs root to mount a tmpfs; the errno mapping is tested above' }, () => {
    const d = tmp();
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d]).status, 0);
    try {
      assert.throws(() => writeFileAtomic(join(d, 'big.bin'), new Uint8Array(256 * 1024)), new RegExp(`cannot write ${d}/big\\.bin: no space left on the device \\(disk full\\) \\(ENOSPC\\)`));
      assert.deepEqual(spawnSync('ls', ['-A', d], { encoding: 'utf8' }).stdout, '', 'the temporary file of a failed write is removed');
      mkdirSync(join(d, 'runs'));
      assert.equal(spawnSync('mount', ['-o', 'remount,ro', d]).status, 0);
      assert.throws(() => ensureDir(join(d, 'runs', 'a', 'checkpoints')), new RegExp(`cannot create directory ${d}/runs/a/checkpoints: read-only file system \\(EROFS\\)`));
    } finally {
      spawnSync('umount', [d]);
    }
  });

  test('readMetrics: a torn last line is skipped; a damaged line elsewhere names file and line', () => {
    const d = tmp();
    const row = (step: number) => JSON.stringify({ type: 'train', step, loss: 1 });
    writeFileSync(join(d, 'metrics.jsonl'), `${row(1)}\n${row(2)}\n{"type":"tra`);
    assert.deepEqual(readMetrics(d).train.map((r) => r.step), [1, 2]);
    writeFileSync(join(d, 'metrics.jsonl'), `${row(1)}\n{"type":"tra\n${row(3)}\n`);
    assert.throws(() => readMetrics(d), new RegExp(`${d}/metrics\\.jsonl:2: not a JSON metrics row`));
  });

  test('every training config key has help text', () => {
    assert.deepEqual(Object.keys(TRAIN_CONFIG_HELP).sort(), Object.keys(DEFAULT_TRAIN_CONFIG).sort());
    for (const [k, v] of Object.entries(TRAIN_CONFIG_HELP)) assert.ok(v.length > 10, `help for ${k}`);
  });
});

describe('cpu backend: UnsortedSegmentSum', () => {
  test('matches a float64 sum, drops out-of-range ids, keeps int32, and is used by gather\'s gradient', async () => {
    await useBackend('cpu', { log: false });
    const N = 300, inner = 7, S = 40;
    const xs = Array.from({ length: N * inner }, (_, i) => Math.sin(i * 1.3));
    const ids = Array.from({ length: N }, (_, i) => ((i * 17) % (S + 6)) - 3); // includes -3..-1 and S..S+2
    const ref = new Float64Array(S * inner);
    ids.forEach((s, i) => {
      if (s >= 0 && s < S) for (let j = 0; j < inner; j++) ref[s * inner + j] += xs[i * inner + j];
    });
    const got = await tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d(xs, [N, inner]), tf.tensor1d(ids, 'int32'), S)).data();
    got.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-5, `element ${i}: ${v} vs ${ref[i]}`));
    const ints = await tf.tidy(() => tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4], 'int32'), tf.tensor1d([0, 1, 0, 5], 'int32'), 2)).data();
    assert.deepEqual(Array.from(ints), [4, 2]);
    const g = await tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([0, 2, 2], 'int32'))))(tf.ones([3, 2]))).data();
    assert.deepEqual(Array.from(g), [1, 1, 0, 0, 2, 2]);
  });
});
