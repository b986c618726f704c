/**
 * kernel-lib/exp/routing-traces.ts on hand-computed values: expert load shares from the
 * training rows' counts (before capacity and kept; missing and all-zero rows), load imbalance
 * max/mean, the contingency table of two layers' experts with its conditional entropy,
 * mutual information, NMI and prediction accuracy against the baseline (checked against
 * scipy.stats.entropy), snapshots of one, two and three MoE layers, reading the last snapshot of
 * a run directory, and the three figures.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  conditionalShares, crossLayerPredictability, expertLoad, expertLoadHeatmap, finalRoutingSnapshot, layerTransition,
  loadImbalance, loadImbalanceFigure, loadImbalanceSeries, moeLayers, transitionHeatmap,
} from '../kernel-lib/exp/routing-traces.ts';
import { writeArrayBundle } from '../kernel-lib/data/index.ts';
import type { RoutingSnapshot } from '../kernel-lib/train/routing-dump.ts';
import { makeRun, moe, rows } from './fixtures/analysis/runs.ts';

const close = (got: number, want: number, tol = 1e-12) => assert.ok(Math.abs(got - want) <= tol, `${got} vs ${want}`);
const LN2 = Math.LN2;
/** H(3/4, 1/4) in nats: −(3/4 ln 3/4 + 1/4 ln 1/4) (scipy.stats.entropy([3, 1])). */
const H31 = 0.5623351446188083;

/** Labels of a contingency table: n_ij tokens with expert i below and j above, row by row. */
function labels(counts: number[][]): { prev: number[]; next: number[] } {
  const prev: number[] = [];
  const next: number[] = [];
  counts.forEach((r, i) => r.forEach((n, j) => {
    for (let k = 0; k < n; k++) {
      prev.push(i);
      next.push(j);
    }
  }));
  return { prev, next };
}
const transition = (counts: number[][]) => {
  const { prev, next } = labels(counts);
  return layerTransition(prev, next, counts.length, counts[0].length);
};

test('loadImbalance: max over mean of the loads, scale-free; 1 balanced, E on one expert; NaN with nothing routed', () => {
  assert.equal(loadImbalance([3, 1]), 1.5);
  assert.equal(loadImbalance([0.75, 0.25]), 1.5);
  assert.equal(loadImbalance([2, 2, 2, 2]), 1);
  assert.equal(loadImbalance([0, 0, 8, 0]), 4);
  assert.equal(loadImbalance([1, 2, 3, 6]), 2); // 6 / 3
  assert.ok(Number.isNaN(loadImbalance([])));
  assert.ok(Number.isNaN(loadImbalance([0, 0])));
  assert.ok(Number.isNaN(loadImbalance([NaN, NaN])));
});

test('expertLoad: per logged step each expert\'s share before capacity and kept; gaps where nothing was recorded', () => {
  const run = makeRun('routing', {
    group: 'top1-a0.01', seed: 0, final: -4,
    train: rows(4, (i) => ({
      moe: [
        [moe({ countsBefore: [3, 1, 0, 4], countsKept: [2, 1, 0, 1] })],
        [], // a row without MoE metrics (none logged): skipped
        [moe({ countsBefore: [2, 2, 2, 2], countsKept: [] }), moe({ layer: 3, countsBefore: [0, 0, 0, 5], countsKept: [0, 0, 0, 0] })],
        [moe({ countsBefore: [0, 0, 0, 0], countsKept: [1, 1, 1, 1] })],
      ][i],
    })),
  });
  assert.deepEqual(moeLayers(run), [1, 3]);
  // Layers listed ascending whatever order the rows name them in.
  const later = rows(2, (i) => ({ moe: i === 0 ? [moe({ layer: 5 }), moe({ layer: 3 })] : [moe({ layer: 1 }), moe({ layer: 5 })] }));
  assert.deepEqual(moeLayers(makeRun('routing', { group: 'top1-a0.01', seed: 0, train: later })), [1, 3, 5]);
  // A row whose counts are not E long (E: the longest, 4) is a gap, not a load over 2 experts.
  const short = makeRun('routing', { group: 'top1-a0.01', seed: 0, train: rows(2, (i) => ({ moe: [moe({ countsBefore: [[1, 3], [1, 1, 1, 1]][i] })] })) });
  assert.deepEqual(expertLoad(short, 1).before, [[NaN, NaN, NaN, NaN], [0.25, 0.25, 0.25, 0.25]]);
  const l1 = expertLoad(run, 1);
  assert.deepEqual([l1.layer, l1.numExperts, l1.steps], [1, 4, [1, 3, 4]]);
  assert.deepEqual(l1.before, [[3 / 8, 1 / 8, 0, 4 / 8], [0.25, 0.25, 0.25, 0.25], [NaN, NaN, NaN, NaN]]);
  assert.deepEqual(l1.kept, [[0.5, 0.25, 0, 0.25], [NaN, NaN, NaN, NaN], [0.25, 0.25, 0.25, 0.25]]);
  const l3 = expertLoad(run, 3);
  assert.deepEqual([l3.steps, l3.before, l3.kept], [[3], [[0, 0, 0, 1]], [[NaN, NaN, NaN, NaN]]]);
  // A layer never recorded: no steps, no experts.
  assert.deepEqual(expertLoad(run, 5), { layer: 5, numExperts: 0, steps: [], before: [], kept: [] });
  // Imbalance over training: 4 · 4/8 = 2, then 1, then nothing routed.
  assert.deepEqual(loadImbalanceSeries(run, 1), { layer: 1, steps: [1, 3, 4], imbalance: [2, 1, NaN] });
  assert.deepEqual(loadImbalanceSeries(run, 1, 'kept'), { layer: 1, steps: [1, 3, 4], imbalance: [2, NaN, 1] });
  assert.deepEqual(loadImbalanceSeries(run, 3), { layer: 3, steps: [3], imbalance: [4] });
  assert.deepEqual(moeLayers(makeRun('routing', { group: 'top1-a0.01', seed: 0 })), []);
});

test('layerTransition: a 2×2 table [[3, 1], [1, 3]], worked in nats', () => {
  const t = transition([[3, 1], [1, 3]]);
  assert.deepEqual([t.from, t.to, t.tokens, t.counts], [0, 1, 8, [[3, 1], [1, 3]]]);
  close(t.entropy, LN2); // column totals 4, 4
  close(t.conditionalEntropy, H31); // each row H(3/4, 1/4), weights 1/2
  close(t.mutualInformation, LN2 - H31); // 0.1308120359411371 (scipy)
  close(t.nmi, (LN2 - H31) / LN2); // 0.18872187554086736 (scipy), = 1 − H(3/4, 1/4) in bits
  close(t.nmi, 0.18872187554086736);
  assert.equal(t.accuracy, 0.75);
  assert.equal(t.baselineAccuracy, 0.5);
  // Swapping the layers' roles gives the same table transposed (symmetric here).
  const { prev, next } = labels([[3, 1], [1, 3]]);
  assert.deepEqual(layerTransition(next, prev, 2, 2, [4, 7]).counts, [[3, 1], [1, 3]]);
  assert.deepEqual([layerTransition(next, prev, 2, 2, [4, 7]).from, layerTransition(next, prev, 2, 2, [4, 7]).to], [4, 7]);
});

test('layerTransition: perfectly predictable → accuracy 1, H(e_l | e_prev) = 0, NMI 1; independent → NMI 0', () => {
  const p = transition([[0, 0, 2], [2, 0, 0], [0, 2, 0]]); // a permutation of 3 experts
  assert.deepEqual([p.accuracy, p.conditionalEntropy, p.nmi], [1, 0, 1]);
  close(p.baselineAccuracy, 1 / 3);
  close(p.entropy, Math.log(3));
  close(p.mutualInformation, Math.log(3));
  const ind = transition([[1, 1], [1, 1]]);
  assert.deepEqual([ind.nmi, ind.mutualInformation, ind.accuracy, ind.baselineAccuracy], [0, 0, 0.5, 0.5]);
  close(ind.conditionalEntropy, LN2);
  // Independent but unbalanced: rows in the same 3:1 proportion; prediction gains nothing.
  const skew = transition([[3, 1], [6, 2]]);
  close(skew.nmi, 0, 1e-15);
  close(skew.conditionalEntropy, H31);
  assert.deepEqual([skew.accuracy, skew.baselineAccuracy], [0.75, 0.75]);
});

test('layerTransition: an expert never chosen below (zero row), unequal totals, a constant layer, no tokens', () => {
  // Rows: expert 0 → [2, 1, 0], expert 1 never chosen, expert 2 → [0, 1, 3]; N = 7 (values from scipy).
  const t = transition([[2, 1, 0], [0, 0, 0], [0, 1, 3]]);
  close(t.conditionalEntropy, 0.5941261547656673);
  close(t.entropy, 1.0789922078775833);
  close(t.mutualInformation, 0.484866053111916);
  close(t.nmi, 0.5648478646806308);
  close(t.accuracy, 5 / 7);
  close(t.baselineAccuracy, 3 / 7);
  assert.deepEqual(conditionalShares(t.counts), [[2 / 3, 1 / 3, 0], [NaN, NaN, NaN], [0, 0.25, 0.75]]);
  // Every token on one expert below: nothing to condition on, NMI 0 by the project's convention.
  const flat = transition([[0, 0], [1, 3]]);
  assert.deepEqual([flat.nmi, flat.mutualInformation, flat.accuracy, flat.baselineAccuracy], [0, 0, 0.75, 0.75]);
  close(flat.conditionalEntropy, H31);
  // No tokens: an empty table, every measure NaN.
  const none = layerTransition([], [], 2, 2);
  assert.deepEqual(none.counts, [[0, 0], [0, 0]]);
  for (const k of ['entropy', 'conditionalEntropy', 'mutualInformation', 'nmi', 'accuracy', 'baselineAccuracy'] as const) {
    assert.ok(Number.isNaN(none[k]), k);
  }
  assert.throws(() => layerTransition([0, 1], [0], 2, 2), /2 tokens in one layer, 1 in the other/);
  assert.throws(() => layerTransition([0, 2], [0, 1], 2, 2), /token 1 has experts 2 → 1, outside \[0, 2\) × \[0, 2\)/);
  assert.throws(() => layerTransition([0, 1], [-1, 1], 2, 2), /token 0 has experts 0 → -1/);
  assert.throws(() => layerTransition([0, -1], [1, 1], 2, 2), /token 1 has experts -1 → 1/);
  assert.throws(() => layerTransition([0.5], [1], 2, 2), /token 0 has experts 0.5 → 1/);
  assert.throws(() => layerTransition([1], [3], 2, 3), /outside \[0, 2\) × \[0, 3\)/);
});

const snapshot = (layers: number[], expert: number[][], numExperts = 2, step = 120): RoutingSnapshot => ({
  step, layers, numExperts, expert: expert.map((e) => Uint16Array.from(e)), kept: expert.map((e) => new Uint8Array(e.length).fill(1)),
});

test('crossLayerPredictability: one transition per consecutive pair of MoE layers; one layer gives none', () => {
  assert.deepEqual(crossLayerPredictability(snapshot([1], [[0, 1, 1]])), []);
  assert.deepEqual(crossLayerPredictability(snapshot([], [])), []);
  const [t] = crossLayerPredictability(snapshot([1, 3], [[0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 0, 1, 1, 1]]));
  assert.deepEqual([t.from, t.to, t.tokens, t.counts, t.accuracy, t.baselineAccuracy], [1, 3, 8, [[3, 1], [1, 3]], 0.75, 0.5]);
  close(t.conditionalEntropy, H31);
  // Three layers: pairs (1, 3) and (3, 5), each against the layer just below, with E = 3.
  const three = crossLayerPredictability(snapshot([1, 3, 5], [[0, 1, 2, 2], [2, 0, 1, 1], [2, 2, 2, 0]], 3));
  assert.deepEqual(three.map((x) => [x.from, x.to]), [[1, 3], [3, 5]]);
  assert.deepEqual(three[0].counts, [[0, 0, 1], [1, 0, 0], [0, 2, 0]]);
  assert.deepEqual(three[1].counts, [[0, 0, 1], [1, 0, 1], [0, 0, 1]]);
  assert.deepEqual([three[0].accuracy, three[1].accuracy, three[1].baselineAccuracy], [1, 0.75, 0.75]);
});

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Writes `routing/step-<step>.bin` as the trainer does (train/routing-dump.ts's format). */
function writeSnapshot(runDir: string, s: RoutingSnapshot): void {
  const N = s.expert[0]?.length ?? 0;
  const expert = new Uint16Array(s.layers.length * N);
  const kept = new Uint8Array(s.layers.length * N);
  s.expert.forEach((e, l) => expert.set(e, l * N));
  s.kept.forEach((k, l) => kept.set(k, l * N));
  writeArrayBundle(join(runDir, 'routing', `step-${String(s.step).padStart(8, '0')}.bin`), 'switchyard-routing-step-1',
    { step: s.step, layers: s.layers, numExperts: s.numExperts, tokens: N }, { expert, kept });
}

test('finalRoutingSnapshot: the last step\'s snapshot of a run directory; null without any', () => {
  const dir = mkdtempSync(join(tmpdir(), 'routing-traces-'));
  dirs.push(dir);
  assert.equal(finalRoutingSnapshot(join(dir, 'absent')), null);
  writeSnapshot(dir, snapshot([1, 3], [[0, 0], [1, 1]], 2, 100));
  writeSnapshot(dir, snapshot([1, 3], [[0, 1], [1, 0]], 2, 20));
  const s = finalRoutingSnapshot(dir)!;
  assert.deepEqual([s.step, s.layers, s.numExperts, [...s.expert[0]], [...s.expert[1]]], [100, [1, 3], 2, [0, 0], [1, 1]]);
});

test('figures: load heatmap (experts × steps), imbalance lines with the balanced line, P(e_l | e_prev) heatmap', () => {
  const run = makeRun('routing', {
    group: 'top1-a0.01', seed: 0,
    train: rows(3, (i) => ({ moe: [moe({ countsBefore: [[3, 1], [1, 1], [0, 0]][i], countsKept: [[1, 1], [1, 1], [0, 2]][i] })] })),
  });
  const load = expertLoad(run, 1);
  const heat = expertLoadHeatmap(load, { id: 'load', caption: 'c' });
  assert.deepEqual([heat.id, heat.title, heat.caption], ['load', 'Layer 1: expert load over training', 'c']);
  const trace = heat.data[0] as { x: string[]; y: string[]; z: (number | null)[][]; colorbar: { title: { text: string } } };
  assert.deepEqual([trace.x, trace.y], [['1', '2', '3'], ['expert 0', 'expert 1']]);
  assert.deepEqual(trace.z, [[0.75, 0.5, null], [0.25, 0.5, null]]); // rows experts, columns steps; gaps as null
  assert.equal(trace.colorbar.title.text, 'share before capacity');
  const kept = expertLoadHeatmap(load, { id: 'kept', title: 'T', kind: 'kept' });
  assert.deepEqual((kept.data[0] as { z: number[][] }).z, [[0.5, 0.5, 0], [0.5, 0.5, 1]]);
  assert.equal((kept.data[0] as { colorbar: { title: { text: string } } }).colorbar.title.text, 'share kept');
  assert.equal(kept.title, 'T');
  const layout = heat.layout as { xaxis: { title: { text: string } }; yaxis: { title: { text: string } } };
  assert.deepEqual([layout.xaxis.title.text, layout.yaxis.title.text], ['training step', 'expert']);

  const lines = loadImbalanceFigure({
    id: 'imb', title: 'Imbalance', caption: 'cap',
    series: [{ name: 'a', ...loadImbalanceSeries(run, 1) }, { name: 'b', steps: [5, 9], imbalance: [2, 1], dashed: true }],
  });
  const ld = lines.data as { name: string; x: number[]; y: (number | null)[]; line?: { dash: string } }[];
  assert.deepEqual(ld.map((s) => [s.name, s.x, s.y, s.line?.dash]), [
    ['a', [1, 2, 3], [1.5, 1, null], undefined], ['b', [5, 9], [2, 1], 'dash'], ['balanced: 1', [1, 9], [1, 1], 'dash'],
  ]);
  assert.deepEqual([lines.id, lines.title, lines.caption], ['imb', 'Imbalance', 'cap']);
  assert.equal((lines.layout as { yaxis: { title: { text: string } } }).yaxis.title.text, 'load imbalance (max / mean)');
  assert.equal((lines.layout as { xaxis: { title: { text: string } } }).xaxis.title.text, 'training step');
  // No series: no balanced line either.
  assert.deepEqual(loadImbalanceFigure({ id: 'x', title: 'x', series: [] }).data, []);

  const t = layerTransition([0, 0, 0, 2, 2, 2, 2], [0, 0, 1, 1, 2, 2, 2], 3, 3, [1, 3]);
  const tr = transitionHeatmap(t, { id: 'tr' });
  const td = tr.data[0] as { x: string[]; y: string[]; z: (number | null)[][] };
  assert.equal(tr.title, 'P(expert in layer 3 | expert in layer 1)');
  assert.deepEqual([td.y, td.x], [['expert 0', 'expert 1', 'expert 2'], ['expert 0', 'expert 1', 'expert 2']]);
  assert.deepEqual(td.z, [[2 / 3, 1 / 3, 0], [null, null, null], [0, 0.25, 0.75]]);
  assert.equal((tr.data[0] as { colorbar: { title: { text: string } } }).colorbar.title.text, 'P(column | row)');
  // No experts at all: an empty heatmap, not a crash.
  const empty = transitionHeatmap(layerTransition([], [], 0, 0), { id: 'e' }).data[0] as { x: string[]; y: string[]; z: number[][] };
  assert.deepEqual([empty.x, empty.y, empty.z], [[], [], []]);
  const tl = tr.layout as { xaxis: { title: { text: string } }; yaxis: { title: { text: string } } };
  assert.deepEqual([tl.xaxis.title.text, tl.yaxis.title.text], ['expert in layer 3', 'expert in layer 1']);
  assert.equal(transitionHeatmap(t, { id: 'tr', title: 'Mine', caption: 'k' }).caption, 'k');
  assert.equal(transitionHeatmap(t, { id: 'tr', title: 'Mine' }).title, 'Mine');
});
