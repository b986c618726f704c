/**
 * `exp <name> --emit slurm` without a cluster: the sweep folder and the two batch scripts it
 * writes, `--submit` against a stand-in `sbatch` (the arguments it is given), input that must
 * be refused with nothing written, the lock of an earlier incarnation of a requeued task, and
 * scripts/slurm-local.sh without Slurm installed. The real cluster: slurm-cluster.test.ts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getExperiment, PRESETS } from '../experiments/index.ts';
import { expCommand } from '../kernel-lib/cli/exp.ts';
import { presetSweep } from '../kernel-lib/exp/orchestrate.ts';
import { emitSlurmSweep } from '../kernel-lib/exp/slurm-emit.ts';
import { releaseEarlierIncarnationLock } from '../kernel-lib/exp/slurm-lock.ts';
import { arraySpec } from '../kernel-lib/exp/slurm-script.ts';
import { readSweep } from '../kernel-lib/exp/sweep-file.ts';
import { ROOT, cliSync } from './helpers/proc.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `switchyard-${p}-`));
const emit = (args: string[], env: Record<string, string> = {}) => cliSync(['exp', 'specialization', '--emit', 'slurm', ...args], env);
const sbatchLines = (script: string) => script.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8));

describe('exp --emit slurm', () => {
  test('quick preset: sweep.json as a local run resolves it, an array of one task per run that execs the trainer, and the report script', () => {
    const out = join(tmp('emit'), 'sweep');
    const r = emit(['--preset', 'quick', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /\[switchyard\] backend /, 'emitting must not start a backend');
    const o = JSON.parse(r.stdout);
    assert.deepEqual(o, { experiment: 'specialization', preset: 'quick', dir: out, runs: 2, backend: 'wasm', submit: join(out, 'submit.sbatch'), report: join(out, 'report.sbatch') });
    assert.deepEqual(readdirSync(out).sort(), ['logs', 'report.sbatch', 'submit.sbatch', 'sweep.json']);
    const sweep = readSweep(out);
    const local = presetSweep(getExperiment('specialization'), PRESETS.quick, 'wasm');
    assert.deepEqual([sweep.key, sweep.runs], [local.key, local.runs], 'the emitted sweep must be the one a local run of the same preset resolves');

    const submit = readFileSync(o.submit, 'utf8');
    assert.deepEqual(sbatchLines(submit), ['--job-name=switchyard-specialization-quick', '--array=0-1%2', '--requeue', '--open-mode=append', `--output=${out}/logs/slurm-%A_%a.out`, '--cpus-per-task=1']);
    const exec = submit.split('\n').filter((l) => /^exec /.test(l));
    assert.equal(exec.length, 1, 'the task must exec the trainer: a shell that waits for it would keep a batch SIGTERM from it');
    assert.match(exec[0], new RegExp(`^exec "\\$\\{SWITCHYARD_NODE:-${process.execPath}\\}" --import tsx ${ROOT}/?kernel-lib/cli\\.ts exp run-one ${out} --index "\\$SLURM_ARRAY_TASK_ID" --backend wasm --diverged-ok$`));
    assert.match(submit, new RegExp(`^cd ${ROOT.replace(/\/$/, '')}$`, 'm'));

    const report = readFileSync(o.report, 'utf8');
    assert.deepEqual(sbatchLines(report), ['--job-name=switchyard-specialization-quick-report', '--kill-on-invalid-dep=yes', '--open-mode=append', `--output=${out}/logs/slurm-report-%j.out`, '--cpus-per-task=1']);
    assert.match(report, new RegExp(`^exec .*kernel-lib/cli\\.ts report ${out}$`, 'm'));
    for (const f of [o.submit, o.report]) assert.equal(spawnSync('bash', ['-n', f]).status, 0, `${f} is not valid bash`);

    const again = emit(['--preset', 'quick', '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /kept .*sweep\.json \(2 runs/);
    assert.equal(readSweep(out).created, sweep.created, 'emitting the same sweep again keeps its sweep file');
  });

  test('gpu preset: a GPU per task and WebGPU; partition, account, time, memory, CPUs and the throttle from options', () => {
    const out = join(tmp('emit-gpu'), 'sweep');
    const r = emit(['--preset', 'gpu', '--out', out, '--partition', 'gpu', '--account', 'lab-1', '--time', '2:00:00', '--mem', '16G', '--cpus-per-task', '2', '--jobs', '1']);
    assert.equal(r.code, 0, r.stderr);
    const submit = readFileSync(join(out, 'submit.sbatch'), 'utf8');
    assert.deepEqual(sbatchLines(submit).slice(1), [`--array=0-${readSweep(out).runs.length - 1}%1`, '--requeue', '--open-mode=append', `--output=${out}/logs/slurm-%A_%a.out`, '--partition=gpu', '--account=lab-1', '--time=2:00:00', '--cpus-per-task=2', '--mem=16G', '--gres=gpu:1']);
    assert.match(submit, /--backend webgpu --diverged-ok$/m);
    const report = sbatchLines(readFileSync(join(out, 'report.sbatch'), 'utf8'));
    assert.ok(!report.some((l) => l.startsWith('--gres')), 'the report needs no GPU');
    assert.ok(report.includes('--cpus-per-task=1') && report.includes('--partition=gpu'));
  });

  test('--submit hands the unfinished runs to sbatch, then the report with afterok on the array; prints the ids and how to watch them', () => {
    const bin = tmp('fake-sbatch');
    const calls = join(bin, 'calls');
    // A stand-in sbatch that records its arguments and answers job ids 41, 42, …
    writeFileSync(join(bin, 'sbatch'), `#!/bin/bash\necho "$*" >>${calls}\nn=$(wc -l <${calls})\necho "$((40 + n));cluster"\n`);
    writeFileSync(join(bin, 'squeue'), '#!/bin/bash\n');
    for (const f of ['sbatch', 'squeue']) chmodSync(join(bin, f), 0o755);
    const out = join(tmp('emit-submit'), 'sweep');
    emitSlurmSweep(getExperiment('specialization'), PRESETS.quick, { out });
    // Run 0 has finished: only run 1 goes to the array.
    const run0 = readSweep(out).runs[0].id;
    mkdirSync(join(out, 'runs', run0), { recursive: true });
    // (Diverged: a finished run that needs no final evaluation, only its metrics file.)
    writeFileSync(join(out, 'runs', run0, 'run.json'), JSON.stringify({ status: 'diverged', steps: 3 }));
    writeFileSync(join(out, 'runs', run0, 'metrics.jsonl'), '');
    const r = emit(['--preset', 'quick', '--out', out, '--submit'], { PATH: `${bin}:${process.env.PATH}` });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).submitted, { arrayJob: '41', reportJob: '42', indices: [1], watch: 'squeue -j 41,42' });
    assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), [`--parsable --array=1%1 ${out}/submit.sbatch`, `--parsable --dependency=afterok:41 ${out}/report.sbatch`]);
    assert.match(r.stderr, /submitted array job 41 \(runs 1\), then report job 42; watch with: squeue -j 41,42/);
    assert.equal(arraySpec(5, 2), '0-4%2');
    assert.equal(arraySpec(1, 4), '0%1');
    assert.equal(arraySpec(5, 3, [1, 3]), '1,3%2');
  });
});

describe('exp --emit: refused, naming the value, with nothing written', () => {
  const refusedCli = (args: string[], re: RegExp, env: Record<string, string> = {}) => {
    const r = cliSync(['exp', 'specialization', ...args], env);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, re, args.join(' '));
  };
  // The same command in this process (no process start per case); a refusal throws before writing.
  const refused = (args: string[], re: RegExp) => assert.rejects(expCommand(['specialization', ...args]), re, args.join(' '));

  test('an unknown kind, Slurm missing for --submit, bad Slurm values, options without --emit', async () => {
    const root = tmp('emit-bad');
    const out = join(root, 'sweep');
    refusedCli(['--emit', 'pbs', '--out', out], /--emit: expected one of slurm, got 'pbs'/);
    refusedCli(['--emit', 'slurm', '--out', out, '--submit'], /--submit needs Slurm's sbatch, squeue on PATH, and they are not there .*nothing was written/, { PATH: '/nonexistent' });
    await refused(['--emit', 'slurm', '--out', out, '--time', '2h'], /--time: expected a Slurm time limit.*got '2h'/);
    await refused(['--emit', 'slurm', '--out', out, '--partition', 'gpu a100'], /--partition: expected a partition name.*got 'gpu a100'/);
    await refused(['--emit', 'slurm', '--out', out, '--gres', 'gpu:1\n#SBATCH --x'], /--gres: expected a generic resource/);
    await refused(['--emit', 'slurm', '--out', out, '--mem', 'lots'], /--mem: expected a memory size/);
    await refused(['--emit', 'slurm', '--out', join(root, 'my sweep')], /--out ".*my sweep" cannot stand in an #SBATCH line/);
    await refused(['--emit', 'slurm', '--out', out, '--backend', 'auto'], /name a backend .* not 'auto'/);
    await refused(['--emit', 'slurm', '--out', out, '--budget', '5'], /--budget calibrates on this machine/);
    await refused(['--emit', 'slurm', '--out', out, '--id', 'x'], /--out names the sweep folder itself; leave out --id/);
    await refused(['--out', out], /--out goes with --emit slurm/);
    await refused(['--partition', 'gpu'], /--partition goes with --emit slurm/);
    assert.deepEqual(readdirSync(root), [], 'a refused emit wrote something');
  });

  test('an output folder holding another sweep, or anything else, is refused and left as it is', async () => {
    const out = join(tmp('emit-other'), 'sweep');
    emitSlurmSweep(getExperiment('routing'), PRESETS.quick, { out });
    const before = readFileSync(join(out, 'sweep.json'), 'utf8');
    const scripts = readFileSync(join(out, 'submit.sbatch'), 'utf8');
    refusedCli(['--emit', 'slurm', '--out', out], new RegExp(`${out} holds another sweep \\(routing, definition [0-9a-f]{8}; this one is [0-9a-f]{8}\\); nothing was changed. Choose another --out folder`));
    assert.equal(readFileSync(join(out, 'sweep.json'), 'utf8'), before);
    assert.equal(readFileSync(join(out, 'submit.sbatch'), 'utf8'), scripts, 'the other sweep\'s script was overwritten');
    const busy = tmp('emit-busy');
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    await refused(['--emit', 'slurm', '--out', busy], /is not empty and holds no sweep; nothing was changed/);
    assert.deepEqual(readdirSync(busy), ['notes.txt']);
  });
});

describe('a requeued task and the lock of its earlier incarnation', () => {
  const runDir = (lockOwner: object, env: object) => {
    const d = tmp('requeue-lock');
    writeFileSync(join(d, 'lock'), JSON.stringify(lockOwner));
    writeFileSync(join(d, 'environment.json'), JSON.stringify(env));
    return d;
  };
  const earlier = { pid: 4242, host: 'node-a', started: '2026-01-01T00:00:00Z', command: 'train' };

  test('taken over when the newest start record names the owner as this Slurm job with fewer restarts', () => {
    const d = runDir(earlier, { pid: 4242, slurm: { jobId: '77', restartCount: undefined }, resumed: [] });
    assert.equal(releaseEarlierIncarnationLock(d, { SLURM_JOB_ID: '77', SLURM_RESTART_COUNT: '1' }), true);
    assert.ok(!existsSync(join(d, 'lock')));
    const r = runDir(earlier, { pid: 1, slurm: { jobId: '77' }, resumed: [{ pid: 4242, slurm: { jobId: '77', restartCount: '1' } }] });
    assert.equal(releaseEarlierIncarnationLock(r, { SLURM_JOB_ID: '77', SLURM_RESTART_COUNT: '2' }), true, 'the newest record is the last resumption');
  });

  test('taken over from the lock\'s own Slurm facts when the task was killed before it wrote its start record', () => {
    const d = tmp('requeue-lock-early');
    writeFileSync(join(d, 'lock'), JSON.stringify({ ...earlier, slurm: { jobId: '77', restartCount: '1' } }));
    assert.equal(releaseEarlierIncarnationLock(d, { SLURM_JOB_ID: '77', SLURM_RESTART_COUNT: '2' }), true);
    assert.ok(!existsSync(join(d, 'lock')));
    for (const env of [{ SLURM_JOB_ID: '77', SLURM_RESTART_COUNT: '1' }, { SLURM_JOB_ID: '78', SLURM_RESTART_COUNT: '2' }]) {
      const same = tmp('requeue-lock-same');
      writeFileSync(join(same, 'lock'), JSON.stringify({ ...earlier, slurm: { jobId: '77', restartCount: '1' } }));
      assert.equal(releaseEarlierIncarnationLock(same, env), false, JSON.stringify(env));
      assert.ok(existsSync(join(same, 'lock')));
    }
  });

  test('left alone for another job, the same incarnation, an owner the records do not name, or outside Slurm', () => {
    const env = { pid: 4242, slurm: { jobId: '77', restartCount: '1' }, resumed: [] };
    const cases: [object, object, NodeJS.ProcessEnv][] = [
      [earlier, env, { SLURM_JOB_ID: '78', SLURM_RESTART_COUNT: '2' }],
      [earlier, env, { SLURM_JOB_ID: '77', SLURM_RESTART_COUNT: '1' }],
      [{ ...earlier, pid: 5151 }, env, { SLURM_JOB_ID: '77', SLURM_RESTART_COUNT: '2' }],
      [earlier, env, {}],
    ];
    for (const [owner, e, procEnv] of cases) {
      const d = runDir(owner, e);
      assert.equal(releaseEarlierIncarnationLock(d, procEnv), false, JSON.stringify(procEnv));
      assert.ok(existsSync(join(d, 'lock')));
    }
  });
});

test('scripts/slurm-local.sh without Slurm or munge fails, naming what to install, and creates nothing', () => {
  const dir = join(tmp('slurm-missing'), 'cluster');
  const r = spawnSync('/bin/bash', [join(ROOT, 'scripts', 'slurm-local.sh'), 'start', dir], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /slurm-local: not found: .*sinfo.*\. Install Debian's Slurm and munge: apt-get install -y slurm-wlm munge/);
  assert.ok(!existsSync(dir));
});
