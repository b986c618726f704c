/**
 * The upcycle analysis (experiments/upcycle/analysis.ts) on synthetic run records with values
 * chosen by hand: the paired evidence of upcycle-beats-dense and upcycle-beats-scratch, the check
 * that reads each second-phase run's own initFrom record (passing, and failing in each way), the
 * table (steps, FLOPs over both phases, paired Δ cells), the figure over both phases, and verdicts.
 * Intervals: t₀.₉₇₅ with 2 df = 4.3026527297 (scipy), not the code under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, startProblem } from '../experiments/upcycle/analysis.ts';
import { claimRules } from '../experiments/upcycle/sweep.ts';
import { decideClaims } from '../kernel-lib/exp/claims.ts';
import { flopsPerToken } from '../kernel-lib/model/counts.ts';
import { modelConfigOf } from '../kernel-lib/model/config.ts';
import type { LoadedRun } from '../kernel-lib/exp/types.ts';
import type { InitFromRecord } from '../kernel-lib/train/run-dir.ts';
import { check, makeRun, matchesSnapshot, paired, UNIFORM, type RunSpec } from './fixtures/analysis/runs.ts';

/** The quick sweep's phase length: 60 steps; MoE blocks of the quick model: block 1. */
const M = 60;
/** Final quality per group and seed (0, 1, 2). upcycled − dense continued: 0.125, 0.25, 0.375; − Switch continued: 0.25 each. */
const FINAL: Record<string, number[]> = {
  'dense-pre': [-5, -5.25, -5.5], 'switch-pre': [-5.125, -5.375, -5.625],
  'dense-continued': [-4.5, -4.5, -4.5], upcycled: [-4.375, -4.25, -4.125], 'switch-continued': [-4.625, -4.5, -4.375],
};
const FROM: Record<string, string> = { 'dense-continued': 'dense-pre', upcycled: 'dense-pre', 'switch-continued': 'switch-pre' };

/** The record a second-phase run's trainer writes (environment.json initFrom). */
const record = (group: string, seed: number, o: Partial<InitFromRecord> = {}): InitFromRecord => ({
  given: `runs/${FROM[group]}-s${seed}`, path: `/sweep/runs/${FROM[group]}-s${seed}`, step: M, checkpoint: 'ckpt', sha256: 'x',
  kind: group === 'upcycled' ? 'upcycle' : 'warm start', upcycledBlocks: group === 'upcycled' ? [1] : [],
  copied: [], fromDense: [], fresh: [], unused: [], ...o,
});
const run = (group: string, seed: number, o: Partial<RunSpec> & { initFrom?: InitFromRecord | null } = {}): LoadedRun => {
  const { initFrom, ...spec } = o;
  const r = makeRun('upcycle', { group, seed, evals: [[30, FINAL[group][seed] - 0.5], [M, FINAL[group][seed]]], ...spec });
  const init = initFrom === undefined ? (FROM[group] ? record(group, seed) : undefined) : initFrom ?? undefined;
  return init ? { ...r, initFrom: init } : r;
};
const SEEDS = [0, 1, 2];
const all = () => Object.keys(FINAL).flatMap((g) => SEEDS.map((s) => run(g, s)));

test('upcycle-beats-dense and upcycle-beats-scratch: final qualities of the second phase paired by seed', () => {
  const a = analyze(all());
  const dense = paired(a.evidence['upcycle-beats-dense']);
  assert.deepEqual([dense.a, dense.b, dense.seeds], [[-4.375, -4.25, -4.125], [-4.5, -4.5, -4.5], [0, 1, 2]]);
  assert.equal(dense.measured, 'upcycled -4.2500 vs dense continued -4.5000');
  const scratch = paired(a.evidence['upcycle-beats-scratch']);
  assert.deepEqual([scratch.a, scratch.b], [[-4.375, -4.25, -4.125], [-4.625, -4.5, -4.375]]);
  assert.equal(scratch.measured, 'upcycled -4.2500 vs Switch from scratch -4.5000');
  // A diverged upcycled run counts as −ln V; a missing dense-continued run takes its seed out.
  const runs = [run('upcycled', 0, { status: 'diverged', evals: [] }), run('upcycled', 1), run('dense-continued', 0), run('dense-continued', 1, { status: 'missing', evals: [] })];
  const d = paired(analyze(runs).evidence['upcycle-beats-dense']);
  assert.deepEqual([d.a, d.b, d.seeds], [[UNIFORM], [-4.5], [0]]);
  // Without the upcycled arm: no paper evidence.
  assert.deepEqual(Object.keys(analyze(all().filter((r) => r.group !== 'upcycled')).evidence), ['upcycle-starts-from-dense']);
});

test('verdicts: differences 0.125, 0.25, 0.375 (se 0.0722) reproduce; a constant 0.25 is reproduced with p 0', () => {
  const claims = decideClaims(claimRules(), analyze(all()).evidence, { assess: true });
  const byId = Object.fromEntries(claims.map((c) => [c.id, c]));
  assert.equal(byId['upcycle-beats-dense'].verdict, 'reproduced');
  // mean 0.25, sd 0.125, se 0.125/√3; interval 0.25 ± 4.3026527297·0.0721688 = [−0.0605, 0.5605]
  const ci = byId['upcycle-beats-dense'].ci95!;
  assert.ok(Math.abs(ci[0] - (0.25 - 4.3026527297 * 0.125 / Math.sqrt(3))) < 1e-6 && Math.abs(ci[1] - (0.25 + 4.3026527297 * 0.125 / Math.sqrt(3))) < 1e-6, `${ci}`);
  assert.equal(byId['upcycle-beats-scratch'].verdict, 'reproduced');
  assert.equal(byId['upcycle-starts-from-dense'].verdict, 'pass');
  // Reversed (upcycling behind dense continuation in every seed by 0.25): not reproduced.
  const behind = all().map((r) => (r.group === 'upcycled' ? run('upcycled', r.seed, { evals: [[M, FINAL['dense-continued'][r.seed] - 0.25]] }) : r));
  const rev = decideClaims(claimRules(), analyze(behind).evidence, { assess: true }).find((c) => c.id === 'upcycle-beats-dense')!;
  assert.equal(rev.verdict, 'not reproduced');
});

test('startProblem: own source at its final step, upcycle for dense → Switch with every MoE block, warm start otherwise', () => {
  assert.equal(startProblem(run('upcycled', 1), M), null);
  assert.equal(startProblem(run('switch-continued', 2), M), null);
  assert.equal(startProblem(run('dense-continued', 0), M), null);
  assert.equal(startProblem(run('dense-pre', 0), M), 'dense-pre-s0 is not a second-phase run');
  assert.equal(startProblem(run('upcycled', 0, { initFrom: null }), M), 'upcycled-s0 has no initFrom record');
  assert.equal(startProblem(run('upcycled', 0, { initFrom: record('upcycled', 1) }), M), 'upcycled-s0 started from /sweep/runs/dense-pre-s1');
  assert.equal(startProblem(run('upcycled', 0, { initFrom: record('upcycled', 0, { path: '/sweep/runs/switch-pre-s0' }) }), M), 'upcycled-s0 started from /sweep/runs/switch-pre-s0');
  assert.equal(startProblem(run('upcycled', 0, { initFrom: record('upcycled', 0, { step: 40 }) }), M), 'upcycled-s0 started from step 40, not 60');
  assert.equal(startProblem(run('upcycled', 0, { initFrom: record('upcycled', 0, { kind: 'warm start' }) }), M), 'upcycled-s0 was a warm start');
  assert.equal(startProblem(run('switch-continued', 0, { initFrom: record('switch-continued', 0, { kind: 'upcycle' }) }), M), 'switch-continued-s0 was a upcycle');
  assert.equal(startProblem(run('upcycled', 0, { initFrom: record('upcycled', 0, { upcycledBlocks: [] }) }), M), 'upcycled-s0 upcycled blocks , its MoE blocks are 1');
  assert.equal(startProblem(run('upcycled', 0, { initFrom: record('upcycled', 0, { upcycledBlocks: [0, 1] }) }), M), 'upcycled-s0 upcycled blocks 0, 1, its MoE blocks are 1');
  // Every block a MoE block (sparseEvery 1): blocks 0, 1.
  assert.equal(startProblem(run('upcycled', 0, { config: { sparseEvery: 1 } }), M), 'upcycled-s0 upcycled blocks 1, its MoE blocks are 0, 1');
  // A run of a group the sweep does not define (another sweep's run in the folder) is no second-phase run.
  const stranger = makeRun('upcycle', { group: 'other', like: 'upcycled', seed: 0, evals: [[M, -4]] });
  assert.equal(startProblem(stranger, M), 'other-s0 is not a second-phase run');
  assert.deepEqual(Object.keys(analyze([...all(), stranger]).evidence), ['upcycle-beats-dense', 'upcycle-beats-scratch', 'upcycle-starts-from-dense']);
  assert.equal(check(analyze([...all(), stranger]).evidence['upcycle-starts-from-dense']).pass, true);
  // No runs at all: no paper evidence, and the check fails (no second-phase run).
  const none = analyze([]);
  assert.deepEqual(Object.keys(none.evidence), ['upcycle-starts-from-dense']);
  assert.equal(check(none.evidence['upcycle-starts-from-dense']).pass, false);
  // The check fails on any such run, naming it; it needs a completed second-phase run to pass.
  const bad = all().map((r) => (r.id === 'upcycled-s2' ? run('upcycled', 2, { initFrom: record('upcycled', 2, { step: 1 }) }) : r));
  const c = check(analyze(bad).evidence['upcycle-starts-from-dense']);
  assert.equal(c.pass, false);
  assert.equal(c.measured, "1 run(s) did not start as they should: upcycled-s2 started from step 1, not 60");
  const twoBad = bad.map((r) => (r.id === 'dense-continued-s0' ? run('dense-continued', 0, { initFrom: null }) : r));
  assert.equal(check(analyze(twoBad).evidence['upcycle-starts-from-dense']).measured,
    '2 run(s) did not start as they should: dense-continued-s0 has no initFrom record; upcycled-s2 started from step 1, not 60');
  assert.equal(check(analyze(all().filter((r) => r.labels.phase === 1)).evidence['upcycle-starts-from-dense']).pass, false);
  assert.equal(check(analyze(all()).evidence['upcycle-starts-from-dense']).measured, '9 second-phase run(s), each from its own '
    + 'seed\'s first-phase run at step 60 (its records): upcycled runs with every MoE block made from the dense FFN, '
    + 'continued ones warm-started');
});

test('the table: both phases\' steps and training FLOPs, final quality, paired Δ cells; the figure draws phase 2 after phase 1', () => {
  const a = analyze(all());
  const t = a.sections[0].tables[0];
  assert.equal(t.id, 'upcycle');
  const r = (g: string) => all().find((x) => x.group === g)!;
  const perStep = (g: string) => flopsPerToken(modelConfigOf(r(g).config, r(g).config.vocabSize)).training * r(g).config.batchSize * r(g).config.seqLen * M;
  assert.deepEqual(t.rows.map((row) => row.slice(0, 5)), [
    ['dense continued', 'dense', 'dense', 120, perStep('dense-pre') + perStep('dense-continued')],
    ['upcycled to Switch', 'dense', 'switch', 120, perStep('dense-pre') + perStep('upcycled')],
    ['Switch from scratch', 'switch', 'switch', 120, perStep('switch-pre') + perStep('switch-continued')],
  ]);
  assert.ok(perStep('upcycled') > perStep('dense-continued'), 'Switch costs its routers on top of the dense model');
  // upcycled − dense continued: 0.25 ± 4.3026527297·0.125/√3 = [−0.0605, 0.5605]; − Switch from scratch: 0.25 exactly;
  // dense continued − Switch from scratch: 0.125, 0, −0.125: 0 ± 0.3105.
  assert.deepEqual(t.rows.map((row) => row.slice(5)), [
    ['-4.500 ± 0.000', '–', '0.0000 [-0.3105, 0.3105]', 3],
    ['-4.250 ± 0.072', '0.2500 [-0.0605, 0.5605]', '0.2500 [0.2500, 0.2500]', 3],
    ['-4.500 ± 0.072', '0.0000 [-0.3105, 0.3105]', '–', 3],
  ]);
  const f = a.sections[0].figures[0];
  assert.equal(f.id, 'quality-vs-total-steps');
  const traces = f.data as { name: string; x: number[]; y: number[] }[];
  const named = (n: string) => traces.find((x) => x.name === n)!;
  assert.deepEqual(named('dense (phase 1)').x, [30, 60]);
  assert.deepEqual(named('upcycled to Switch').x, [90, 120]);
  assert.deepEqual(named('upcycled to Switch').y, [-4.75, -4.25]);
  assert.equal(traces.filter((x) => x.name === 'dense (phase 1)').length, 1, 'the shared dense first phase is drawn once');
  assert.ok(named('switch (phase 1)'));
  assert.deepEqual(traces.map((x) => [x.name, (x as { line?: { dash?: string } }).line?.dash ?? 'solid']), [
    ['dense (phase 1)', 'dash'], ['dense continued', 'solid'], ['upcycled to Switch', 'solid'],
    ['switch (phase 1)', 'dash'], ['Switch from scratch', 'solid'],
  ]);
  matchesSnapshot('upcycle', { sections: a.sections, summary: a.summary });
});
