/**
 * `--budget`'s step arithmetic (kernel-lib/exp/budget.ts) against given timings, worked by hand.
 * The calibration child is replaced by a shell script standing in for node (process.execPath),
 * which prints the step time the test gives for each run index; only the real spawn time
 * (milliseconds) is measured, so every example uses steps of a minute or more, where that cannot
 * move a step.
 * Rule (budget.ts): per run fixed = startup + evalPoints·evalBatches·msPerStep/3, J = min(jobs, runs),
 *   steps = min(⌊(budget·J/1.1 − Σ fixed)/Σ msPerStep⌋, ⌊(budget − max startup)/slowest msPerStep⌋),
 *   rounded down to tens from 100 on; refused below minSteps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planBudget } from '../kernel-lib/exp/budget.ts';
import type { SweepFile } from '../kernel-lib/exp/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-budget-math-'));
const callLog = join(dir, 'calls.log');
const fake = join(dir, 'fake-node.sh');
/** With FAKE_SLEEP set, each calibration writes `start i`, sleeps, then `end i` here: the order shows how many ran at once. */
const orderLog = join(dir, 'order.log');
// Answers `node --import tsx cli.ts exp calibrate <dir> --index i --backend b` as the calibrate
// command does (JSON with msPerStep and timedMs); refuses anything else.
writeFileSync(
  fake,
  `#!/bin/sh
cmd=""; idx=""; backend=""
while [ $# -gt 0 ]; do
  case "$1" in
    calibrate|run-one) cmd=$1 ;;
    --index) idx=$2 ;;
    --backend) backend=$2 ;;
  esac
  shift
done
echo "$cmd $idx $backend [$SWITCHYARD_BACKEND]" >> "${callLog}"
if [ -n "$FAKE_SLEEP" ]; then echo "start $idx" >> "${orderLog}"; sleep "$FAKE_SLEEP"; echo "end $idx" >> "${orderLog}"; fi
[ "$cmd" = calibrate ] || { echo "not a calibration: $cmd" >&2; exit 9; }
eval "fail=\\$FAKE_FAIL_$idx"
if [ "$fail" = silent ]; then exit 4; fi
if [ -n "$fail" ]; then echo "loading the corpus" >&2; echo "$fail" >&2; exit 3; fi
eval "ms=\\$FAKE_MS_$idx"
eval "timed=\\$FAKE_TIMED_$idx"
printf '{"msPerStep": %s, "timedMs": %s}\\n' "$ms" "\${timed:-0}"
`,
);
chmodSync(fake, 0o755);

/** A sweep with the given run groups (in order), eval points and eval batches; `from[i]`: run i starts from run from[i]. */
function sweep(groups: string[], evalPoints = 0, evalBatches = 1, from: Record<number, number> = {}): SweepFile {
  return {
    experiment: 'budget-test',
    runs: groups.map((group, i) => ({ id: `r${i}`, group, seed: i, config: { evalBatches, ...(i in from ? { initFrom: `runs/r${from[i]}` } : {}) } })),
    schedule: { evalPoints, warmupFraction: 0 },
  } as unknown as SweepFile;
}

/**
 * Runs planBudget with the fake calibration: msPerStep and startup (ms) per run index.
 * Returns the plan and the calibration calls.
 */
async function plan(s: SweepFile, timing: Record<number, { ms: number; startup?: number; fail?: string }>, minutes: number, jobs: number, minSteps?: number) {
  writeFileSync(callLog, '');
  const saved = process.execPath;
  const env = Object.keys(timing).flatMap((i) => [`FAKE_MS_${i}`, `FAKE_TIMED_${i}`, `FAKE_FAIL_${i}`]);
  for (const [i, t] of Object.entries(timing)) {
    process.env[`FAKE_MS_${i}`] = String(t.ms);
    process.env[`FAKE_TIMED_${i}`] = String(-(t.startup ?? 0)); // startup = measured − timedMs
    if (t.fail) process.env[`FAKE_FAIL_${i}`] = t.fail;
  }
  process.env.SWITCHYARD_BACKEND = 'cpu'; // the child must get it cleared
  process.execPath = fake;
  try {
    const p = await planBudget(dir, s, minutes, jobs, 'wasm', minSteps);
    return { plan: p, calls: readFileSync(callLog, 'utf8').trim().split('\n').sort() };
  } finally {
    process.execPath = saved;
    for (const k of env) delete process.env[k];
    delete process.env.SWITCHYARD_BACKEND;
  }
}

const MIN = 60_000;

test('budget: one run of 1-minute steps in 100 minutes takes 90 steps (the 1.1 packing margin), the estimate 99 minutes', async () => {
  // ⌊100/1.1⌋ = ⌊90.9⌋ = 90 (by the sweep); ⌊100 − startup⌋ = 99 (by the run alone); 90·1.1 = 99 minutes.
  const { plan: p, calls } = await plan(sweep(['a']), { 0: { ms: MIN } }, 100, 1);
  assert.equal(p.steps, 90);
  assert.ok(p.estimateMinutes >= 99 && p.estimateMinutes < 99.05, `estimate ${p.estimateMinutes}`);
  assert.ok(p.estimateMinutes <= 100, 'the plan fits the budget');
  assert.equal(p.timings.a.msPerStep, MIN);
  assert.ok(p.timings.a.startupMs >= 0 && p.timings.a.startupMs < 2000, `startup ${p.timings.a.startupMs}`);
  assert.deepEqual(calls, ['calibrate 0 wasm []'], 'one calibration, on the sweep backend, SWITCHYARD_BACKEND cleared');
});

test('budget: 100 steps or more are rounded down to tens (181 → 180), within the budget', async () => {
  // ⌊200/1.1⌋ = ⌊181.8⌋ = 181 → 180; estimate 180·1.1 = 198 minutes.
  const { plan: p } = await plan(sweep(['a']), { 0: { ms: MIN } }, 200, 1);
  assert.equal(p.steps, 180);
  assert.ok(p.estimateMinutes >= 198 && p.estimateMinutes < 198.05, `estimate ${p.estimateMinutes}`);
});

test('budget: minSteps is the boundary: exactly 10 steps fit, 9 are refused naming the budget and the need', async () => {
  // 11.5 minutes: ⌊11.5/1.1⌋ = ⌊10.45⌋ = 10 steps; 10.5 minutes: ⌊9.5⌋ = 9 < 10.
  const { plan: p } = await plan(sweep(['a']), { 0: { ms: MIN } }, 11.5, 1);
  assert.equal(p.steps, 10);
  // need: 10 steps · 1 minute · 1.1 = 11.0 minutes
  await assert.rejects(plan(sweep(['a']), { 0: { ms: MIN } }, 10.5, 1), {
    message: '--budget 10.5 minutes cannot fit this sweep: 1 runs of at least 10 steps need about 11.0 minutes with 1 parallel run(s) (a step takes 60000 ms for the slowest configuration)',
  });
  // a lower minSteps accepts the 9
  assert.equal((await plan(sweep(['a']), { 0: { ms: MIN } }, 10.5, 1, 9)).plan.steps, 9);
});

test('budget: groups calibrated once each; 4 runs, 2 jobs, evaluations cost a third of a step each', async () => {
  // groups a (1 min/step), b (0.5 min/step), runs a a b b; evalPoints 3 × evalBatches 2 = 6 passes = 2 steps' time.
  // fixed = 2·2 + 2·1 = 6 min; per step Σ = 1 + 1 + 0.5 + 0.5 = 3 min; J = 2:
  // ⌊(100·2/1.1 − 6)/3⌋ = ⌊(181.82 − 6)/3⌋ = ⌊58.6⌋ = 58; by the slowest run alone ⌊100/1⌋ − 1 = 99.
  const s = sweep(['a', 'a', 'b', 'b'], 3, 2);
  const { plan: p, calls } = await plan(s, { 0: { ms: MIN }, 2: { ms: MIN / 2 } }, 100, 2);
  assert.equal(p.steps, 58);
  assert.deepEqual(calls, ['calibrate 0 wasm []', 'calibrate 2 wasm []'], 'the first run of each group');
  assert.deepEqual(Object.keys(p.timings).sort(), ['a', 'b']);
  // estimate (6 + 58·3)·1.1/2 = 99 minutes
  assert.ok(p.estimateMinutes >= 99 && p.estimateMinutes < 99.05, `estimate ${p.estimateMinutes}`);
  // with one job: ⌊(100/1.1 − 6)/3⌋ = ⌊28.3⌋ = 28
  assert.equal((await plan(s, { 0: { ms: MIN }, 2: { ms: MIN / 2 } }, 100, 1)).plan.steps, 28);
});

test('budget: with as many jobs as runs the slowest run alone sets the steps, after the longest startup', async () => {
  // a: 1 min/step, startup 1.5 min; b: 0.5 min/step, startup 0; runs a a b b, jobs 8 → J = 4 (runs):
  // by the sweep ⌊(100·4/1.1 − 2·1.5 − 6)/3⌋ = ⌊(363.6 − 9)/3⌋ = 118; by the run ⌊(100 − 1.5)/1⌋ = 98.
  const s = sweep(['a', 'a', 'b', 'b'], 3, 2);
  const { plan: p } = await plan(s, { 0: { ms: MIN, startup: 1.5 * MIN }, 2: { ms: MIN / 2 } }, 100, 8);
  assert.equal(p.steps, 98);
  assert.ok(p.timings.a.startupMs >= 1.5 * MIN && p.timings.a.startupMs < 1.5 * MIN + 2000, `startup ${p.timings.a.startupMs}`);
  // estimate (Σ fixed 9 + 98·3)·1.1/4 = 83.325 minutes: well inside, since one run is the limit
  assert.ok(p.estimateMinutes >= 83.3 && p.estimateMinutes < 83.4, `estimate ${p.estimateMinutes}`);
  // refused when 4 runs cannot each do 10 steps: need (9 + 10·3)·1.1/4 = 10.7 minutes
  await assert.rejects(plan(s, { 0: { ms: MIN, startup: 1.5 * MIN }, 2: { ms: MIN / 2 } }, 5, 8), /4 runs of at least 10 steps need about 10\.7 minutes with 4 parallel run\(s\) \(a step takes 60000 ms/);
});

test('budget: a bad number of minutes and a failed calibration are refused, naming them', async () => {
  for (const bad of [0, -1, NaN, Infinity]) {
    await assert.rejects(planBudget(dir, sweep(['a']), bad, 1, 'wasm'), { message: `--budget must be a number of minutes > 0, got ${bad}` });
  }
  await assert.rejects(plan(sweep(['a', 'b']), { 0: { ms: MIN }, 1: { ms: MIN, fail: 'out of memory' } }, 100, 2), {
    message: 'calibration of run 1 failed (exit 3): out of memory',
  });
});

test('timeTrainSteps: the median of real training steps on synthetic batches, leaving no tensor behind; bad counts refused', async () => {
  const { useBackend } = await import('../kernel-lib/backend/index.ts');
  const tf = await import('@tensorflow/tfjs');
  const { timeTrainSteps } = await import('../kernel-lib/exp/budget.ts');
  const { tinyConfig } = await import('./helpers/train-config.ts');
  await useBackend('cpu', { log: false });
  const cfg = tinyConfig({ name: 'timing', backend: 'cpu', dModel: 16, dFf: 32, seqLen: 8, batchSize: 2 });
  const before = tf.memory().numTensors;
  const ms = await timeTrainSteps(cfg, 2, 1);
  assert.ok(Number.isFinite(ms) && ms > 0, `median ${ms} ms`);
  assert.equal(tf.memory().numTensors, before, 'the model and optimizer are disposed');
  await assert.rejects(timeTrainSteps(cfg, 0, 1), /repeats must be an integer ≥ 1, got 0/);
  await assert.rejects(timeTrainSteps(cfg, 1, -1), /warmup must be an integer ≥ 0, got -1/);
  assert.equal(tf.memory().numTensors, before, 'nothing left behind by a refused timing either');
});

test('budget: a calibration that fails silently says so with an empty reason; a budget past the step limit is refused', async () => {
  await assert.rejects(plan(sweep(['a']), { 0: { ms: MIN, fail: 'silent' } }, 100, 1), { message: 'calibration of run 0 failed (exit 4): ' });
  // 1e-4 ms a step: 10 minutes give ⌊600000/1.1/1e-4⌋ ≈ 5.45e9 steps, past MAX_STEPS = 1e9; 1 minute gives 5.45e8
  await assert.rejects(plan(sweep(['a']), { 0: { ms: 1e-4 } }, 10, 1), /^Error: --budget 10 minutes would give every run 5,45\d,\d{3},\d{3} steps, more than a run may take \(1,000,000,000\); give a budget in minutes \(1 fit 10 steps per run\)$/);
  const ok = await plan(sweep(['a']), { 0: { ms: 1e-4 } }, 1, 1);
  assert.ok(ok.plan.steps > 5.4e8 && ok.plan.steps <= 1e9 && ok.plan.steps % 10 === 0, `${ok.plan.steps}`);
});

test('budget: a run that starts from another (initFrom) runs after it, so the chain alone must fit', async () => {
  // a (1 min/step, startup 1 min), b (0.5 min/step, startup 0.5 min); runs a, b, b with r1 from r0 and r2 from r1, 8 jobs
  // → J = 3, 101 minutes less the calibration's few real seconds (δ): by the sweep ⌊(101·3/1.1 − 2)/2⌋ = 136; by one
  // run ⌊(101 − 1 − δ)/1⌋ = 99; by the chains r0→r1 ⌊(101 − 1.5 − δ)/1.5⌋ = 66 and r0→r1→r2 ⌊(101 − 2 − δ)/2⌋ = 49.
  const timing = { 0: { ms: MIN, startup: MIN }, 1: { ms: MIN / 2, startup: MIN / 2 } };
  const chained = await plan(sweep(['a', 'b', 'b'], 0, 1, { 1: 0, 2: 1 }), timing, 101, 8);
  assert.equal(chained.plan.steps, 49);
  assert.equal((await plan(sweep(['a', 'b', 'b'], 0, 1, { 1: 0 }), timing, 101, 8)).plan.steps, 66);
  assert.equal((await plan(sweep(['a', 'b', 'b']), timing, 101, 8)).plan.steps, 99, 'without sources: one run alone');
});

test('budget: calibrations run at most `jobs` at a time (one job: one after another)', async () => {
  writeFileSync(orderLog, '');
  process.env.FAKE_SLEEP = '0.3';
  try {
    await plan(sweep(['a', 'b', 'c']), { 0: { ms: MIN }, 1: { ms: MIN }, 2: { ms: MIN } }, 1000, 1);
    assert.deepEqual(readFileSync(orderLog, 'utf8').trim().split('\n'), ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    writeFileSync(orderLog, '');
    await plan(sweep(['a', 'b', 'c']), { 0: { ms: MIN }, 1: { ms: MIN }, 2: { ms: MIN } }, 1000, 2);
    // Two at once: runs 0 and 1 start before either ends; run 2 waits for one of them.
    const order = readFileSync(orderLog, 'utf8').trim().split('\n');
    assert.deepEqual(order.slice(0, 2).sort(), ['start 0', 'start 1'], order.join(', '));
    assert.ok(order.indexOf('start 2') > Math.min(order.indexOf('end 0'), order.indexOf('end 1')), order.join(', '));
  } finally {
    delete process.env.FAKE_SLEEP;
  }
});

test('budget: exactly MAX_STEPS (10⁹) steps a run is allowed', async () => {
  // One run of 1 s a step, no evaluations: steps = ⌊((budget − δ)/1.1 − startup)/1000⌋, δ the calibration's real
  // milliseconds and startup its spawn time (a few ms, more on a loaded machine). budget = 1.1·(10¹² + 990) ms puts
  // the value 990 ms above 10⁹ steps' 10¹² ms: ⌊10⁹ + (990 − δ/1.1 − startup)/1000⌋ = 10⁹ for δ/1.1 + startup below 990 ms.
  const minutes = (1.1 * (1e12 + 990)) / MIN;
  assert.equal((await plan(sweep(['a']), { 0: { ms: 1000 } }, minutes, 1)).plan.steps, 1e9);
});
