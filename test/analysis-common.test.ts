/**
 * What the analyses share (experiments/common.ts), with values worked by hand: which runs count
 * (completed with a final evaluation; diverged ones as the uniform predictor −ln V), grouping
 * and pairing by seed, step cost and training time, mean curves over seeds, when a curve reaches
 * a quality (interpolated), sizes and FLOPs of the quick models, epochs, tokens per second,
 * late-training means and the table formats.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIME_MEANING, assessAt, byGroup, done, epochs, finalNegLogPerplexity, hasOutcome, lateMoe, lateTrainLoss, meanEvalCurve,
  meanPlusMinus, pairBySeed, pairedEvidence, qualityOrUniform, reachAt, secondsToReach, seeded, seriesOf, sizeOf, stepCostMs,
  stepsToReach, summaryOverRuns, tableNumber, tokensPerSec, wallClock,
} from '../experiments/common.ts';
import { summarize } from '../kernel-lib/exp/stats.ts';
import type { LoadedRun } from '../kernel-lib/exp/types.ts';
import { UNIFORM, device, makeRun, moe, row, rows, type RunSpec } from './fixtures/analysis/runs.ts';

const run = (o: Partial<RunSpec> & { seed?: number } = {}) => makeRun('scaling', { group: 'dense', seed: 0, final: -4, ...o });
const close = (got: number, want: number, what = '') => assert.ok(Math.abs(got - want) < 1e-12, `${what}: ${got} vs ${want}`);

test('done and hasOutcome: completed with a final evaluation; hasOutcome also counts diverged runs', () => {
  const c = run();
  const noFinal = { ...run(), final: undefined };
  const div = run({ status: 'diverged', evals: [] });
  const stopped = { ...run({ status: 'stopped' }), final: run().final };
  const others = (['interrupted', 'missing', 'failed'] as const).map((status) => run({ status }));
  assert.deepEqual(done([c, noFinal, div, stopped, ...others]), [c]);
  assert.deepEqual([c, noFinal, div, stopped, ...others].map(hasOutcome), [true, false, true, false, false, false, false]);
});

test('byGroup: groups in order of first appearance, runs in their order', () => {
  const [a0, b0, a1, c0, b1] = [run({ group: 'dense', seed: 0 }), run({ group: 'switch-e2', seed: 0 }), run({ group: 'dense', seed: 1 }), run({ group: 'switch-e8', seed: 0 }), run({ group: 'switch-e2', seed: 1 })];
  const m = byGroup([a0, b0, a1, c0, b1]);
  assert.deepEqual([...m.keys()], ['dense', 'switch-e2', 'switch-e8']);
  assert.deepEqual(m.get('dense'), [a0, a1]);
  assert.deepEqual(m.get('switch-e2'), [b0, b1]);
  assert.deepEqual(m.get('switch-e8'), [c0]);
  assert.equal(byGroup([]).size, 0);
});

test('finalNegLogPerplexity and qualityOrUniform: the final quality; a diverged run is −ln V of its vocabulary, never NaN', () => {
  assert.equal(finalNegLogPerplexity(run({ final: -3.5 })), -3.5);
  assert.ok(Number.isNaN(finalNegLogPerplexity({ ...run(), final: undefined })));
  assert.equal(qualityOrUniform(run({ final: -3.5 })), -3.5);
  assert.equal(qualityOrUniform(run({ status: 'diverged', evals: [[30, -5]] })), UNIFORM);
  // Even with a final evaluation on record, diverged is −ln V.
  assert.equal(qualityOrUniform({ ...run({ final: -3 }), status: 'diverged' }), UNIFORM);
  assert.equal(qualityOrUniform(run({ status: 'diverged', evals: [], config: { vocabSize: 8000 } })), -8.987196820661973);
});

test('seeded: one run per seed, ids group-s<seed>, the preset\'s seeds by default', () => {
  const cfg = { numExperts: 4 };
  assert.deepEqual(seeded('quick', 'g', { a: 1 }, cfg), [
    { id: 'g-s0', group: 'g', seed: 0, config: cfg, labels: { a: 1 } },
    { id: 'g-s1', group: 'g', seed: 1, config: cfg, labels: { a: 1 } },
  ]);
  assert.deepEqual(seeded('cpu', 'g', {}, {}).map((r) => r.id), ['g-s0', 'g-s1', 'g-s2']);
  assert.deepEqual(seeded('gpu', 'h', {}, {}, [3, 7]).map((r) => [r.id, r.seed]), [['h-s3', 3], ['h-s7', 7]]);
});

test('stepCostMs and wallClock: CPU time on CPU backends, wall time on a GPU or without CPU time; cumulative seconds', () => {
  const r = run();
  const x = row({ step: 1, cpuMs: 40, stepMs: 100 });
  assert.equal(stepCostMs(r, x), 40);
  assert.equal(stepCostMs({ ...r, device: undefined }, x), 40);
  assert.equal(stepCostMs({ ...r, device: device({ backend: 'webgpu', gpu: true }) }, x), 100);
  assert.equal(stepCostMs({ ...r, device: device({ backend: 'webgpu', gpu: false, softwareGpu: true }) }, x), 40);
  assert.equal(stepCostMs(r, { ...x, cpuMs: 0 }), 100);
  assert.equal(stepCostMs(r, { ...x, cpuMs: -1 }), 100);
  // Rows at steps 2, 4, 5: 2 steps × 100 ms, 2 × 300 ms, 1 × 50 ms (no CPU time: wall time).
  const t = run({ train: [row({ step: 2, cpuMs: 100 }), row({ step: 4, cpuMs: 300 }), row({ step: 5, cpuMs: 0, stepMs: 50 })] });
  const clock = wallClock(t);
  assert.deepEqual([...clock.keys()], [2, 4, 5]);
  close(clock.get(2)!, 0.2, 'step 2');
  close(clock.get(4)!, 0.8, 'step 4');
  close(clock.get(5)!, 0.85, 'step 5');
  assert.equal(wallClock(run()).size, 0);
  assert.match(TIME_MEANING, /^training time: CPU seconds of the run's process on CPU backends \(parallel runs share cores\), wall seconds on a GPU; evaluation excluded$/);
});

test('meanEvalCurve: the mean and standard error over seeds at the evaluation steps every seed has', () => {
  // Seed 0 at 10, 20, 30; seed 1 at 10, 30: steps 10 and 30. A run without evaluations is left out.
  const a = run({ seed: 0, evals: [[10, -5], [20, -4.5], [30, -4]], train: rows(30, () => ({ cpuMs: 100 })) });
  const b = run({ seed: 1, evals: [[10, -6], [30, -3]], train: rows(30, () => ({ cpuMs: 300 })) });
  const c = run({ seed: 2, status: 'diverged', evals: [] });
  const steps = meanEvalCurve([a, b, c]);
  assert.deepEqual(steps, { x: [10, 30], y: [-5.5, -3.5], se: [0.5, 0.5] });
  // Against training seconds: 10 steps at 0.1 s and 0.3 s → mean 2 s; 30 steps → 6 s.
  const secs = meanEvalCurve([a, b], 'seconds');
  close(secs.x[0], 2, 'x at 10');
  close(secs.x[1], 6, 'x at 30');
  // One seed: no spread, drawn as 0.
  assert.deepEqual(meanEvalCurve([a]), { x: [10, 20, 30], y: [-5, -4.5, -4], se: [0, 0, 0] });
  assert.deepEqual(meanEvalCurve([]), { x: [], y: [], se: [] });
  assert.deepEqual(meanEvalCurve([c]), { x: [], y: [], se: [] });
  // A step without a training row has no time: NaN.
  assert.ok(Number.isNaN(meanEvalCurve([run({ evals: [[10, -5]] })], 'seconds').x[0]));
  // The steps are the first run's, in its order.
  assert.deepEqual(meanEvalCurve([b, a]).x, [10, 30]);
  assert.deepEqual(seriesOf('s', steps), { name: 's', x: [10, 30], y: [-5.5, -3.5], error: [0.5, 0.5], dashed: false });
  assert.equal(seriesOf('s', steps, true).dashed, true);
});

test('reachAt, stepsToReach, secondsToReach: the first point at or above the target, linearly interpolated', () => {
  const x = [10, 20, 30];
  const y = [-5, -4, -3];
  assert.equal(reachAt(x, y, -3.5), 25);
  assert.equal(reachAt(x, y, -4.75), 12.5);
  assert.equal(reachAt(x, y, -4), 20, 'exactly at a point');
  assert.equal(reachAt(x, y, -6), 10, 'already at the first evaluation');
  assert.equal(reachAt(x, y, -5), 10);
  assert.ok(Number.isNaN(reachAt(x, y, -2.5)));
  assert.ok(Number.isNaN(reachAt([], [], 0)));
  // A plateau at the target: its first point, not the end of the plateau.
  assert.equal(reachAt([10, 20, 30, 40], [-5, -4, -4, -3], -4), 20);
  // Falling back below the target after reaching it: the first crossing.
  assert.equal(reachAt([10, 20, 30, 40], [-5, -3, -6, -2], -4), 15);
  const r = run({ evals: [[10, -5], [20, -4], [30, -3]], train: rows(30, (i) => ({ cpuMs: i < 20 ? 100 : 400 })) });
  assert.equal(stepsToReach(r, -3.5), 25);
  // 20 steps at 0.1 s = 2 s, then 10 at 0.4 s = 6 s: halfway between 2 and 6.
  close(secondsToReach(r, -3.5), 4, 'seconds');
  close(secondsToReach(r, -4.5), 1.5, 'seconds');
  assert.ok(Number.isNaN(secondsToReach(r, 0)));
});

test('sizeOf: parameters and training FLOPs per token of the quick models (V 1000, seq 32, D 32, F 64, 2 blocks, tied embeddings)', () => {
  // Dense: embeddings 1000·32 + 32·32 = 33024, LayerNorms 2·2·64 + 64 = 320, blocks 2·(4·32² + 2·32·64) = 16384.
  // FLOPs: 3 · (2·16384 + 2·2·2·32·32 + 2·32·1000) = 3 · 104960.
  assert.deepEqual(sizeOf(run({ group: 'dense' })), { total: 49728, active: 49728, flops: 314880 });
  // Switch E=8 in block 1: + router 32·8 and 7 more experts (7·2·32·64) in total; + router only per token.
  assert.deepEqual(sizeOf(run({ group: 'switch-e8' })), { total: 78656, active: 49984, flops: 316416 });
  // Top-2: two experts per token.
  assert.deepEqual(sizeOf(run({ group: 'top2-e2' })), { total: 53888, active: 53888, flops: 339840 });
  // The vocabulary of the config: V = 2000 adds 32 000 parameters and 3·2·32·1000 FLOPs.
  assert.deepEqual(sizeOf(run({ group: 'dense', config: { vocabSize: 2000 } })), { total: 81728, active: 81728, flops: 506880 });
});

test('epochs: steps · batch · sequence over the training split\'s tokens; NaN without it', () => {
  // 120 · 8 · 32 = 30720 tokens
  assert.equal(epochs(run({ trainTokens: 15360 })), 2);
  assert.equal(epochs(run({ trainTokens: 61440 })), 0.5);
  assert.ok(Number.isNaN(epochs(run())));
  assert.ok(Number.isNaN(epochs(run({ trainTokens: 0 }))));
});

test('tokensPerSec: rows after the first logEvery (the start-up window); all rows when there are no more', () => {
  // logEvery 10: rows 10 and 11 at 100 and 300 ms → 2 · 256 tokens in 0.4 s.
  const r = run({ train: rows(12, (i) => ({ cpuMs: i < 10 ? 10_000 : i === 10 ? 100 : 300 })) });
  assert.equal(tokensPerSec(r), 1280);
  // Exactly 10 rows: every one counts (4 at 100 ms, 6 at 400 ms: 2800 ms for 2560 tokens).
  const ten = run({ train: rows(10, (i) => ({ cpuMs: i < 4 ? 100 : 400 })) });
  assert.equal(tokensPerSec(ten), (10 * 256 * 1000) / 2800);
  // 11 rows: the 11th alone.
  assert.equal(tokensPerSec(run({ train: rows(11, (i) => ({ cpuMs: i < 10 ? 100 : 400 })) })), 640);
  // On a GPU, wall time.
  assert.equal(tokensPerSec({ ...r, device: device({ gpu: true, backend: 'webgpu' }), train: rows(12, () => ({ stepMs: 64, cpuMs: 1 })) }), 4000);
});

test('lateTrainLoss and lateMoe: means over the last quarter of the training rows (and the MoE layers)', () => {
  // 8 rows: rows 6 and 7; 7 rows: rows 5 and 6 (floor(5.25)); 4 rows: row 3.
  assert.equal(lateTrainLoss(run({ train: rows(8, (i) => ({ crossEntropy: i < 6 ? 9 : i })) })), 6.5);
  assert.equal(lateTrainLoss(run({ train: rows(7, (i) => ({ crossEntropy: i < 5 ? 9 : i })) })), 5.5);
  assert.equal(lateTrainLoss(run({ train: rows(4, (i) => ({ crossEntropy: i })) })), 3);
  assert.ok(Number.isNaN(lateTrainLoss(run())));
  const m = run({ train: rows(8, (i) => ({ moe: [moe({ entropy: i < 6 ? 9 : 1 }), moe({ layer: 3, entropy: i < 6 ? 9 : 2 })] })) });
  assert.equal(lateMoe(m, (x) => x.entropy), 1.5);
});

test('summaryOverRuns, meanPlusMinus, tableNumber: summaries of completed runs and their table formats', () => {
  const rs = [run({ seed: 0, final: -4 }), run({ seed: 1, final: -3 }), run({ seed: 2, status: 'diverged', evals: [] }), { ...run({ seed: 3 }), final: undefined }];
  const s = summaryOverRuns(rs, finalNegLogPerplexity);
  assert.deepEqual([s.n, s.mean], [2, -3.5]);
  close(s.se, 0.5, 'se');
  assert.equal(meanPlusMinus(s), '-3.500 ± 0.500');
  assert.equal(meanPlusMinus(s, 1), '-3.5 ± 0.5');
  assert.equal(meanPlusMinus(summarize([2])), '2.000');
  assert.equal(meanPlusMinus(summarize([2]), 2), '2.00');
  assert.equal(meanPlusMinus(summarize([])), '–');
  assert.equal(meanPlusMinus(summarize([NaN, Infinity])), '–');
  assert.equal(meanPlusMinus({ n: 1, mean: NaN, sd: NaN, se: NaN, min: NaN, max: NaN, nonFinite: 0 }), '–');
  assert.equal(meanPlusMinus({ n: 2, mean: 1, sd: NaN, se: NaN, min: 1, max: 1, nonFinite: 0 }), '1.000');
  // Whatever else a summary says: no value without data, no ± with one seed.
  assert.equal(meanPlusMinus({ n: 0, mean: 1.5, sd: NaN, se: NaN, min: 1.5, max: 1.5, nonFinite: 0 }), '–');
  assert.equal(meanPlusMinus({ n: 1, mean: 2, sd: 0.5, se: 0.5, min: 2, max: 2, nonFinite: 0 }), '2.000');
  assert.equal(tableNumber(1.23456789), 1.2346);
  assert.equal(tableNumber(1.23456789, 2), 1.23);
  assert.equal(tableNumber(-0.00004), -0);
  assert.equal(tableNumber(NaN), null);
  assert.equal(tableNumber(Infinity), null);
});

test('pairBySeed and pairedEvidence: seeds both arms have an outcome for, in arm a\'s order; diverged counted, others dropped', () => {
  const a = [run({ seed: 2, final: -2 }), run({ seed: 0, final: -4 }), run({ seed: 1, status: 'diverged', evals: [] }), run({ seed: 3, status: 'failed' }), run({ seed: 4, final: -1 })];
  const b = [run({ seed: 0, final: -5 }), run({ seed: 1, final: -6 }), run({ seed: 2, status: 'missing' }), run({ seed: 3, final: -3 }), run({ seed: 4, status: 'diverged', evals: [] })];
  assert.deepEqual(pairBySeed(a, b, qualityOrUniform), { a: [-4, UNIFORM, -1], b: [-5, -6, UNIFORM], seeds: [0, 1, 4] });
  // Swapping the arms swaps the values and follows the other arm's order.
  assert.deepEqual(pairBySeed(b, a, qualityOrUniform), { a: [-5, -6, UNIFORM], b: [-4, UNIFORM, -1], seeds: [0, 1, 4] });
  // A seed's later outcome in b is found past a failed run of the same seed.
  const b2 = [run({ seed: 0, status: 'failed' }), run({ seed: 0, final: -7 })];
  assert.deepEqual(pairBySeed([run({ seed: 0, final: -4 })], b2, finalNegLogPerplexity), { a: [-4], b: [-7], seeds: [0] });
  const e = pairedEvidence(a, b, qualityOrUniform, (m) => `${m.a.n} ${m.a.mean.toFixed(3)} ${m.b.mean.toFixed(3)}`);
  assert.deepEqual(e, { kind: 'paired', a: [-4, UNIFORM, -1], b: [-5, -6, UNIFORM], seeds: [0, 1, 4], measured: `3 ${((-5 + UNIFORM) / 3).toFixed(3)} ${((-11 + UNIFORM) / 3).toFixed(3)}` });
});

test('assessAt: the paper\'s claims are decided at cpu and gpu, not at quick', () => {
  assert.deepEqual((['quick', 'cpu', 'gpu'] as const).map(assessAt), [false, true, true]);
});

test('fixture sanity: the quick scaling dense run has 120 steps, vocabulary 1000, batch 8 × 32, logEvery 10', () => {
  const r: LoadedRun = run();
  assert.deepEqual([r.config.steps, r.config.vocabSize, r.config.batchSize, r.config.seqLen, r.config.logEvery], [120, 1000, 8, 32, 10]);
});
