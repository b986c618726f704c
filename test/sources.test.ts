/**
 * Sweep runs that start from other runs of the sweep (exp/sources.ts): `initFrom: 'runs/<id>'`
 * names an earlier run, `{seed}` stands for the run's seed, an absolute path is a run outside the
 * sweep; anything else is refused naming the run and the value. runConfig resolves a relative
 * initFrom against the sweep folder; the runner orders runs by it (test/experiments.test.ts runs
 * the upcycle sweep, whose second phase fails if started before its source has finished).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvedInitFrom, sourceIndex, sourceIndices } from '../kernel-lib/exp/sources.ts';
import { failurePath, logPath } from '../kernel-lib/exp/records.ts';
import { runSweep } from '../kernel-lib/exp/runner.ts';
import { resolveSweep, runConfig, writeSweep } from '../kernel-lib/exp/sweep-file.ts';
import type { Experiment, SweepFile } from '../kernel-lib/exp/types.ts';
import { PRESETS } from '../experiments/presets.ts';

const sweepOf = (runs: { id: string; initFrom?: string }[]) => ({
  experiment: 'x',
  runs: runs.map((r) => ({ id: r.id, config: r.initFrom === undefined ? {} : { initFrom: r.initFrom } })),
}) as unknown as Pick<SweepFile, 'runs' | 'experiment'>;

test('sourceIndex: runs/<id> of an earlier run; none for a fresh start or an absolute path', () => {
  const s = sweepOf([{ id: 'a' }, { id: 'b', initFrom: 'runs/a' }, { id: 'c', initFrom: './runs//b' }, { id: 'd', initFrom: '/elsewhere/run' }]);
  assert.deepEqual(sourceIndices(s), [null, 0, 1, null]);
});

test('sourceIndex: a later run, itself, another folder or an unknown id is refused, naming the run and the value', () => {
  const cases: [string, string][] = [['runs/c', 'later'], ['runs/b', 'itself'], ['other/a', 'not runs/'], ['runs/zz', 'unknown'], ['a', 'bare id'], ['runs/a/x', 'too deep']];
  for (const [from, why] of cases) {
    const s = sweepOf([{ id: 'a' }, { id: 'b', initFrom: from }, { id: 'c' }]);
    assert.throws(() => sourceIndex(s, 1), (e: Error) => e.message.includes(`run b: initFrom '${from}'`) && /earlier run/.test(e.message), why);
  }
});

test('resolvedInitFrom: relative against the sweep folder, absolute kept, unset stays unset', () => {
  assert.equal(resolvedInitFrom('/r/sweep', 'runs/a'), join('/r/sweep', 'runs/a'));
  assert.equal(resolvedInitFrom('/r/sweep', '/abs/run'), '/abs/run');
  assert.equal(resolvedInitFrom('/r/sweep', undefined), undefined);
});

test('a sweep definition: {seed} becomes each run\'s seed, --seeds adds seeds to such groups, runConfig resolves the path', () => {
  const exp: Experiment = {
    name: 'chain', title: 't', summary: 's', differences: () => [], analyze: () => { throw new Error('unused'); },
    sweep: () => ({
      base: {},
      runs: [0, 1].flatMap((seed) => [{ id: `pre-s${seed}`, group: 'pre', seed, config: { ffn: 'dense' as const }, labels: {} }])
        .concat([0, 1].map((seed) => ({ id: `post-s${seed}`, group: 'post', seed, config: { ffn: 'dense' as const, initFrom: 'runs/pre-s{seed}' }, labels: {} }))),
    }),
  };
  const p = PRESETS.quick;
  const opts = { presetBase: p.base, steps: p.steps, schedule: p.schedule, backend: 'wasm' as const };
  const sweep = resolveSweep(exp, 'quick', opts);
  assert.deepEqual(sweep.runs.map((r) => r.config.initFrom), [undefined, undefined, 'runs/pre-s0', 'runs/pre-s1']);
  assert.deepEqual(sourceIndices(sweep), [null, null, 0, 1]);
  assert.equal(runConfig('/data/sw', sweep, 3).initFrom, join('/data/sw', 'runs/pre-s1'));
  assert.equal(runConfig('/data/sw', sweep, 0).initFrom, undefined);
  const more = resolveSweep(exp, 'quick', { ...opts, seeds: [0, 1, 2] });
  assert.deepEqual(more.runs.map((r) => `${r.id}<${r.config.initFrom ?? ''}`), ['pre-s0<', 'pre-s1<', 'pre-s2<', 'post-s0<runs/pre-s0', 'post-s1<runs/pre-s1', 'post-s2<runs/pre-s2']);
  assert.deepEqual(sourceIndices(more), [null, null, null, 0, 1, 2]);
  assert.equal(sweep.key, more.key, 'seeds do not change the definition key');
});

/** A quick sweep of two dense runs of 4 steps, seed 0: `pre-s0`, then `post-s0` starting from it. */
function pairSweep(): SweepFile {
  const exp: Experiment = {
    name: 'chain', title: 't', summary: 's', differences: () => [], analyze: () => { throw new Error('unused'); },
    sweep: () => ({
      base: {},
      runs: [
        { id: 'pre-s0', group: 'pre', seed: 0, config: { ffn: 'dense' as const }, labels: {} },
        { id: 'post-s0', group: 'post', seed: 0, config: { ffn: 'dense' as const, initFrom: 'runs/pre-s{seed}' }, labels: {} },
      ],
    }),
  };
  const p = PRESETS.quick;
  return resolveSweep(exp, 'quick', { presetBase: p.base, steps: 4, schedule: p.schedule, backend: 'wasm' });
}

test('the runner fails a run whose source failed, without starting it, naming the source; the source\'s own failure is noted', async () => {
  const sweep = pairSweep();
  // The source cannot start: its corpus file does not exist.
  sweep.runs[0].config = { ...sweep.runs[0].config, corpus: '/nonexistent/switchyard-test-corpus.txt' };
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sources-'));
  try {
    writeSweep(dir, sweep);
    const seen: string[] = [];
    const out = await runSweep(dir, sweep, { jobs: 2, backend: 'wasm', onUpdate: (runs) => seen.push(runs.map((r) => r.state).join(',')) });
    assert.deepEqual(out.runs.map((r) => [r.id, r.state]), [['pre-s0', 'failed'], ['post-s0', 'failed']]);
    assert.ok(!seen.some((s) => s.split(',')[1] === 'running'), 'the run was started although its source had not finished');
    assert.ok(!existsSync(logPath(dir, 'post-s0')), 'a process was started for the run');
    const note = JSON.parse(readFileSync(failurePath(dir, 'post-s0'), 'utf8'));
    assert.match(note.stderr, /not started: it starts from run pre-s0 \(initFrom\), which was failed/);
    assert.match(JSON.parse(readFileSync(failurePath(dir, 'pre-s0'), 'utf8')).stderr, /switchyard-test-corpus/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a source that diverged in an earlier invocation (skipped as finished) fails its dependent without starting it', async () => {
  const sweep = pairSweep();
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sources-'));
  try {
    writeSweep(dir, sweep);
    mkdirSync(join(dir, 'runs', 'pre-s0'), { recursive: true });
    writeFileSync(join(dir, 'runs', 'pre-s0', 'run.json'), JSON.stringify({ runDir: join(dir, 'runs', 'pre-s0'), status: 'diverged', steps: 2, finished: 'then' }));
    writeFileSync(join(dir, 'runs', 'pre-s0', 'metrics.jsonl'), '');
    const out = await runSweep(dir, sweep, { jobs: 1, backend: 'wasm' });
    assert.deepEqual(out.runs.map((r) => [r.id, r.state]), [['pre-s0', 'skipped'], ['post-s0', 'failed']]);
    assert.ok(!existsSync(logPath(dir, 'post-s0')), 'a process was started for the run');
    assert.match(JSON.parse(readFileSync(failurePath(dir, 'post-s0'), 'utf8')).stderr, /starts from run pre-s0 \(initFrom\), which diverged/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
