/**
 * Sweeps on a real Slurm cluster: a single node brought up by scripts/slurm-local.sh (Debian's
 * slurm-wlm and munge; the tests fail, naming them, when they are missing) and torn down after,
 * whatever the tests did.
 *
 * - The `specialization` sweep at the quick preset (2 runs) submitted as a job array with its
 *   report job: the report equals a local run's of the same sweep metric for metric (same seeds,
 *   backend wasm; test/helpers/sweep-records.ts says exactly what is compared).
 * - A task stopped mid-run by `scancel --batch --signal=TERM` (Slurm's SIGTERM to the batch
 *   step's process: only a trainer that is that process receives it) checkpoints at a step
 *   boundary and exits 143; the report job, whose afterok can no longer be met, is cancelled;
 *   `report <dir>` names the stopped run; `scontrol requeue` restarts the task, which resumes from the checkpoint; submitting again
 *   runs only the report, and it equals the local one.
 * - A task at its time limit (`--time=1`) gets SIGTERM, checkpoints and is recorded as stopped.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getExperiment, PRESETS } from '../experiments/index.ts';
import { latestFinishedSweep, presetSweep } from '../kernel-lib/exp/orchestrate.ts';
import { loadRuns } from '../kernel-lib/exp/records.ts';
import { readSweep, withSteps, writeSweep } from '../kernel-lib/exp/sweep-file.ts';
import { findResumePoint } from '../kernel-lib/train/checkpoint.ts';
import { TEST_RESULTS, cliSync } from './helpers/proc.ts';
import { allEnded, startCluster, type LocalCluster } from './helpers/slurm.ts';
import { comparableRecords } from './helpers/sweep-records.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `switchyard-${p}-`));
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const taskIds = (array: string, n: number) => Array.from({ length: n }, (_, i) => `${array}_${i}`);

/**
 * The reference: the same sweep run locally on wasm. experiments.test.ts runs it into
 * .cache/test-results (where the notebook tests find it too); when that is there and finished,
 * with this sweep's definition, it is used, else the sweep runs here, by the same command
 * without --emit.
 */
function localReference(): string {
  const cached = latestFinishedSweep('specialization', 'quick', TEST_RESULTS);
  const key = presetSweep(getExperiment('specialization'), PRESETS.quick, 'wasm').key;
  if (cached && readSweep(cached).key === key && loadRuns(cached, readSweep(cached)).every((r) => r.device?.backend === 'wasm')) return cached;
  const r = cliSync(['exp', 'specialization', '--preset', 'quick', '--results', tmp('slurm-local-ref'), '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).dir;
}

describe('sweeps on a single-node Slurm cluster', () => {
  let cluster: LocalCluster | undefined;
  let local = '';
  let timeLimited: { dir: string; job: string } | undefined;

  const submit = (out: string) => {
    const r = cliSync(['exp', 'specialization', '--preset', 'quick', '--emit', 'slurm', '--out', out, '--submit'], cluster!.env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { dir: string; runs: number; submitted: { arrayJob: string | null; reportJob: string; indices: number[]; watch: string } };
  };

  before(async () => {
    cluster = startCluster();
    // The time-limit case runs beside the others: a sweep of one long run, submitted first with --time=1.
    const out = join(tmp('slurm-timelimit'), 'sweep');
    const emitted = cliSync(['exp', 'specialization', '--preset', 'quick', '--emit', 'slurm', '--out', out], cluster.env);
    assert.equal(emitted.code, 0, emitted.stderr);
    writeSweep(out, withSteps(readSweep(out), 100_000));
    const job = cluster.run('sbatch', ['--parsable', '--time=1', '--array=0', join(out, 'submit.sbatch')]).trim();
    timeLimited = { dir: out, job };
    local = localReference();
  });

  after(() => cluster?.stop());

  test('the quick sweep as a job array: one run per task, Slurm ids recorded, the report job builds the same report as a local run', async (t) => {
    const t0 = Date.now();
    const s = submit(join(tmp('slurm-sweep'), 'sweep'));
    assert.deepEqual(s.submitted.indices, [0, 1]);
    const array = s.submitted.arrayJob!;
    assert.equal(s.submitted.watch, `squeue -j ${array},${s.submitted.reportJob}`);
    const ids = [...taskIds(array, 2), s.submitted.reportJob];
    const states = await cluster!.waitFor(ids, allEnded(ids), 'the array and its report', 300_000);
    t.diagnostic(`sweep of 2 runs and its report under Slurm: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.deepEqual(ids.map((id) => states.get(id)), ['COMPLETED', 'COMPLETED', 'COMPLETED'], JSON.stringify([...states]));
    for (const [i, run] of readSweep(s.dir).runs.entries()) {
      const env = json(join(s.dir, 'runs', run.id, 'environment.json'));
      assert.deepEqual({ arrayJobId: env.slurm.arrayJobId, arrayTaskId: env.slurm.arrayTaskId }, { arrayJobId: array, arrayTaskId: String(i) });
      assert.ok(existsSync(join(s.dir, 'logs', `slurm-${array}_${i}.out`)), `no per-task log for task ${i}`);
    }
    assert.match(readFileSync(join(s.dir, 'logs', `slurm-report-${s.submitted.reportJob}.out`), 'utf8'), /report: .*report\.html/);
    assert.deepEqual(comparableRecords(s.dir), comparableRecords(local), 'the Slurm sweep differs from the local run');
  });

  test('a task stopped by SIGTERM mid-run checkpoints; the report job is cancelled; requeued, it resumes; submitting again builds the same report', async (t) => {
    const s = submit(join(tmp('slurm-requeue'), 'sweep'));
    const array = s.submitted.arrayJob!;
    const task = `${array}_0`;
    const { runs, steps } = readSweep(s.dir);
    const run = runs[0].id;
    const log = join(s.dir, 'logs', `slurm-${array}_0.out`);
    const progress = () => Number([...(existsSync(log) ? readFileSync(log, 'utf8') : '').matchAll(/step (\d+)\//g)].at(-1)?.[1] ?? 0);
    const t0 = Date.now();
    while (progress() < 20) {
      assert.ok(Date.now() - t0 < 120_000, `task 0 logged no progress past step 20 within 2 minutes: ${existsSync(log) ? readFileSync(log, 'utf8') : 'no log'}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    cluster!.run('scancel', ['--batch', '--signal=TERM', task]);
    await cluster!.waitFor([task], allEnded([task]), 'task 0 to stop', 60_000);
    const job = cluster!.show(task);
    assert.deepEqual([job.JobState, job.ExitCode], ['FAILED', '143:0'], 'the trainer must exit 143 after a graceful SIGTERM stop');
    const stopped = json(join(s.dir, 'runs', run, 'run.json'));
    assert.equal(stopped.status, 'interrupted');
    assert.equal(stopped.stop.reason, 'SIGTERM');
    assert.ok(stopped.steps > 0 && stopped.steps < steps, `stopped at ${stopped.steps} of ${steps}`);
    assert.equal(findResumePoint(join(s.dir, 'runs', run, 'checkpoints'))!.manifest.step, stopped.steps, 'a checkpoint at the step it stopped at');
    assert.ok(!existsSync(join(s.dir, 'runs', run, 'lock')), 'the stopped run left its lock');
    const reportJob = await cluster!.waitFor([s.submitted.reportJob], allEnded([s.submitted.reportJob]), 'the report job to be cancelled', 60_000);
    assert.equal(reportJob.get(s.submitted.reportJob), 'CANCELLED', 'a report job whose afterok can no longer be met must be cancelled (--kill-on-invalid-dep)');
    // The report from whatever runs exist names the stopped run, on stderr and in the report.
    const partial = cliSync(['report', s.dir]);
    assert.equal(partial.code, 0, partial.stderr);
    assert.match(partial.stderr, new RegExp(`run ${run} has no final result \\(interrupted: interrupted at step ${stopped.steps}\\)`));
    assert.ok(JSON.parse(partial.stdout).missing.some((m: { run: string }) => m.run === run));

    const tq = Date.now();
    cluster!.run('scontrol', ['requeue', task]);
    await cluster!.waitFor([task], (st) => st.get(task) === 'RUNNING' || allEnded([task])(st), 'the requeued task to start', 180_000);
    t.diagnostic(`requeued task restarted after ${((Date.now() - tq) / 1000).toFixed(1)} s`);
    const ended = await cluster!.waitFor(taskIds(array, 2), allEnded(taskIds(array, 2)), 'the array', 300_000);
    assert.deepEqual(taskIds(array, 2).map((id) => ended.get(id)), ['COMPLETED', 'COMPLETED']);
    const env = json(join(s.dir, 'runs', run, 'environment.json'));
    const resumed = env.resumed.at(-1);
    assert.equal(resumed.step, stopped.steps, 'the requeued task must resume from the checkpoint, not start again');
    assert.equal(resumed.slurm.restartCount, '1');
    assert.match(readFileSync(log, 'utf8'), /SIGTERM: run .* stops after the current step[\s\S]*resumed .* at step \d+/, 'the task log (appended across the requeue) shows the stop and the resumption');

    const again = submit(s.dir);
    assert.deepEqual([again.submitted.arrayJob, again.submitted.indices], [null, []], 'every run had finished: only the report is submitted');
    const rep = await cluster!.waitFor([again.submitted.reportJob], allEnded([again.submitted.reportJob]), 'the report', 120_000);
    assert.equal(rep.get(again.submitted.reportJob), 'COMPLETED');
    assert.deepEqual(comparableRecords(s.dir), comparableRecords(local), 'the stopped and requeued sweep differs from the local run');
  });

  test('at its time limit a task gets SIGTERM, checkpoints at a step boundary and is recorded as stopped', async () => {
    const { dir, job } = timeLimited!;
    const task = `${job}_0`;
    const st = await cluster!.waitFor([task], allEnded([task]), 'the time limit (1 minute; Slurm checks every 30 s)', 180_000);
    assert.equal(st.get(task), 'TIMEOUT');
    const run = readSweep(dir).runs[0].id;
    const rec = json(join(dir, 'runs', run, 'run.json'));
    assert.equal(rec.status, 'interrupted');
    assert.equal(rec.stop.reason, 'SIGTERM');
    assert.ok(rec.steps > 0 && rec.steps < 100_000, `stopped at ${rec.steps}`);
    assert.equal(findResumePoint(join(dir, 'runs', run, 'checkpoints'))!.manifest.step, rec.steps);
    const log = readFileSync(join(dir, 'logs', `slurm-${job}_0.out`), 'utf8');
    assert.match(log, /DUE TO TIME LIMIT/);
    assert.match(log, /stopped at step \d+ \(SIGTERM\); checkpoint written/);
  });
});
