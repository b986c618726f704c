/**
 * Issue 19, round two of hostile-but-realistic use: nothing lost when a pipe or terminal closes,
 * nothing reported done that is not, shared inputs checked once up front, config files that load
 * what they name, values that mean nothing refused, and errors that name the bad value.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findResumePoint } from '../kernel-lib/train/checkpoint.ts';
import { ROOT, childEnv, startCli, tinyFlags } from './helpers/proc.ts';

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
