/**
 * The specialisation analysis (experiments/specialization/analysis.ts) on routing snapshots
 * written by hand into temporary run directories (the files the trainer writes: routing/tokens.bin,
 * routing/step-<8 digits>.bin, vocab.json): NMI(expert; part of speech) at the end against
 * step 0 per seed with the layers averaged (the claim's evidence), permutation p-values, words
 * per expert, dropped tokens per tag, the tables and figures, and the verdict.
 *
 * The sample: 40 tokens, 20 nouns (dog ×9, cat ×6, the ×3, a ×2) then 20 verbs (runs ×12,
 * sits ×3, the ×5), genres news and fiction alternating (humor absent). NMI of a 2 × 2 table
 * with 20/20 margins: 1 when experts follow the tags exactly, 1 − H₂(1/4)/ln 2 = 0.1887219 for a
 * 15/5 split, 0 for 10/10 or a single expert.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze, crossLayerSection, PERMUTATIONS } from '../experiments/specialization/analysis.ts';
import { claimRules } from '../experiments/specialization/sweep.ts';
import { Vocab, SPECIAL_TOKENS, UNIVERSAL_TAGS, writeArrayBundle, type Batch } from '../kernel-lib/data/index.ts';
import { writeRoutingTokens } from '../kernel-lib/train/routing-dump.ts';
import { decideClaims } from '../kernel-lib/exp/claims.ts';
import type { LoadedRun } from '../kernel-lib/exp/types.ts';
import { makeRun, matchesSnapshot, paired } from './fixtures/analysis/runs.ts';

const root = mkdtempSync(join(tmpdir(), 'switchyard-analysis-spec-'));
after(() => rmSync(root, { recursive: true, force: true }));

const close = (got: number, want: number, what: string, tol = 1e-12) => assert.ok(Math.abs(got - want) <= tol, `${what}: ${got}, expected ${want}`);
const NMI_15_5 = 0.18872187554086717;
const N = 40;
const WORDS = ['dog', 'cat', 'the', 'a', 'runs', 'sits'];
const id = (w: string) => SPECIAL_TOKENS.length + WORDS.indexOf(w);
const input = [
  ...Array(9).fill('dog'), ...Array(6).fill('cat'), ...Array(3).fill('the'), ...Array(2).fill('a'),
  ...Array(12).fill('runs'), ...Array(3).fill('sits'), ...Array(5).fill('the'),
].map(id);
const NOUN = UNIVERSAL_TAGS.indexOf('NOUN');
const VERB = UNIVERSAL_TAGS.indexOf('VERB');
const coarse = input.map((_, i) => (i < 20 ? NOUN : VERB));
const genre = input.map((_, i) => i % 2);

/** Expert of token i for a routing pattern. */
const PATTERNS: Record<string, (i: number) => number> = {
  /** Nouns to expert 0, verbs to 2: NMI 1. */
  exact: (i) => (i < 20 ? 0 : 2),
  /** Tokens 0–14 and 35–39 to expert 1, the rest to 3: 15/5 per tag, NMI 0.1887. */
  split: (i) => (i < 15 || i >= 35 ? 1 : 3),
  /** Experts alternate 0, 1: 10/10 per tag, NMI 0. */
  alternate: (i) => i % 2,
  /** Every token to expert 3: NMI 0. */
  single: () => 3,
};

/**
 * Writes a run directory: the sample, the vocabulary and one snapshot per step with, per MoE
 * layer (1 and 3), the pattern at that step; at the last step nouns 0–3 are dropped in layer 1.
 */
interface Sample { words: string[]; input: number[]; coarse: number[]; genre: number[] }
const SAMPLE: Sample = { words: WORDS, input, coarse, genre };

function runDir(name: string, steps: Record<number, [string, string]>, sample = SAMPLE): string {
  const dir = join(root, name);
  const batch = { inputs: Int32Array.from(sample.input), targets: Int32Array.from(sample.input), inputCoarse: Uint8Array.from(sample.coarse), genre: Uint8Array.from(sample.genre) } as unknown as Batch;
  writeRoutingTokens(dir, [batch], ['news', 'fiction', 'humor']);
  new Vocab([...SPECIAL_TOKENS, ...sample.words], true).save(join(dir, 'vocab.json'));
  const last = Math.max(...Object.keys(steps).map(Number));
  for (const [step, layers] of Object.entries(steps)) {
    const expert = new Uint16Array(2 * N);
    const kept = new Uint8Array(2 * N).fill(1);
    layers.forEach((p, l) => {
      for (let i = 0; i < N; i++) expert[l * N + i] = PATTERNS[p](i);
    });
    if (Number(step) === last) for (let i = 0; i < 4; i++) kept[i] = 0;
    writeArrayBundle(join(dir, 'routing', `step-${String(step).padStart(8, '0')}.bin`), 'switchyard-routing-step-1', { step: Number(step), layers: [1, 3], numExperts: 4, tokens: N }, { expert, kept });
  }
  return dir;
}

/** Seed 0: layer 1 from independent to exact, layer 3 from a single expert to the 15/5 split. */
const dir0 = runDir('s0', { 0: ['alternate', 'single'], 60: ['split', 'single'], 120: ['exact', 'split'] });
/** Seed 1: layer 1 starts at the split already and stays there, layer 3 from a single expert to the split. */
const dir1 = runDir('s1', { 0: ['split', 'single'], 60: ['split', 'alternate'], 120: ['split', 'split'] });
const run = (seed: number, dir: string, o: Partial<LoadedRun> = {}): LoadedRun => ({ ...makeRun('specialization', { group: 'switch-e4', seed, final: -4, runDir: dir }), ...o });

test('pos-specialisation: per seed, NMI(expert; tag) at the end and at step 0, each the mean over the MoE layers', () => {
  const a = analyze([run(0, dir0), run(1, dir1)]);
  const e = paired(a.evidence['pos-specialisation']);
  assert.deepEqual(e.seeds, [0, 1]);
  // seed 0: end (1 + 0.1887)/2, start (0 + 0)/2; seed 1: end 0.1887, start (0.1887 + 0)/2
  close(e.a[0], (1 + NMI_15_5) / 2, 'seed 0 end');
  close(e.b[0], 0, 'seed 0 start');
  close(e.a[1], NMI_15_5, 'seed 1 end');
  close(e.b[1], NMI_15_5 / 2, 'seed 1 start');
  assert.equal(e.measured, 'NMI(expert; part of speech), mean over layers: end 0.3915, step 0 0.0472');
});

test('only completed runs are analysed; without any there is an empty table naming the runs; a run without snapshots is refused', () => {
  const a = analyze([run(0, dir0), run(1, dir1, { status: 'diverged', final: undefined })]);
  assert.deepEqual(paired(a.evidence['pos-specialisation']).seeds, [0]);
  const none = analyze([run(0, dir0, { status: 'missing', final: undefined }), run(1, dir1, { status: 'failed', final: undefined })]);
  assert.deepEqual(none.evidence, {});
  assert.deepEqual(none.summary, { id: 'specialization', title: 'No completed run to analyse', columns: ['run', 'status'], rows: [['switch-e4-s0', 'missing'], ['switch-e4-s1', 'failed']] });
  assert.deepEqual(none.sections, [{ heading: 'Expert specialisation', paragraphs: ['No run has finished yet.'], figures: [], tables: [none.summary] }]);
  const empty = join(root, 'empty');
  assert.throws(() => analyze([run(0, empty)]), new RegExp(`^Error: run switch-e4-s0 has no routing snapshots in ${empty}/routing$`));
});

test('the NMI table: per layer, tag / genre / word NMI over seeds with the shuffled baseline, the step-0 router and the largest permutation p', () => {
  const a = analyze([run(0, dir0), run(1, dir1)]);
  const t = a.sections[0].tables[0];
  assert.equal(t.id, 'nmi');
  assert.deepEqual(t.columns, ['layer', 'with', 'NMI at the end (mean ± se over seeds)', 'shuffled baseline (mean)', 'step-0 router (tag, mean)', `permutation p (tag, ${PERMUTATIONS} shuffles; largest over seeds)`, 'seeds']);
  assert.equal(PERMUTATIONS, 999);
  const rowsOf = (layer: number) => t.rows.filter((r) => r[0] === layer);
  const [tag1, genre1, word1] = rowsOf(1);
  // Layer 1: end NMI 1 and 0.1887 (mean 0.5944, se 0.4056); step 0: 0 and 0.1887.
  assert.deepEqual([tag1[1], tag1[2], tag1[4], tag1[6]], ['part of speech', '0.5944 ± 0.4056', 0.0944, 2]);
  // p: seed 1's split (15/5) is reached by about 0.4% of shuffles (hypergeometric), so its p
  // lies well above the smallest 1/1000 and well below 0.05; seed 0's exact split is never reached.
  assert.ok(typeof tag1[5] === 'number' && tag1[5] > 0.001 && tag1[5] < 0.02, String(tag1[5]));
  assert.deepEqual([genre1[1], genre1[4], genre1[5]], ['genre', null, null]);
  assert.deepEqual([word1[1], word1[4], word1[5]], ['word', null, null]);
  const [tag3] = rowsOf(3);
  // Layer 3: the split in both seeds (se 0), step 0 a single expert.
  assert.deepEqual([tag3[2], tag3[4]], ['0.1887 ± 0.0000', 0]);
  // Seed 0 alone: its exact layer-1 split beats all 999 shuffles: p = 1/1000.
  const one = analyze([run(0, dir0)]);
  const t1 = one.sections[0].tables[0].rows[0];
  assert.deepEqual([t1[2], t1[4], t1[5], t1[6]], ['1.0000', 0, 0.001, 1]);
  matchesSnapshot('specialization', { sections: a.sections, summary: a.summary });
});

test('words per expert, parts of speech per expert, dropped share per tag, NMI over training (first seed and every seed)', () => {
  const a = analyze([run(0, dir0), run(1, dir1)]);
  const sec = a.sections[0];
  assert.match(sec.paragraphs[0], /^A fixed sample of 40 validation tokens was routed at 3 points during training/);
  const table = (tid: string) => sec.tables.find((t) => t.id === tid)!;
  // Layer 1 at the end (seed 0): nouns on expert 0, verbs on expert 2.
  const tags1 = table('tags-layer1');
  assert.deepEqual(tags1.columns, ['expert', ...UNIVERSAL_TAGS]);
  assert.deepEqual(tags1.rows.map((r) => r.slice(0, 3)), [['expert 0', 20, 0], ['expert 1', 0, 0], ['expert 2', 0, 20], ['expert 3', 0, 0]]);
  const words1 = table('words-layer1');
  // Expert 0: dog 9, cat 6, the 3, a 2; lift = share on the expert / share overall: dog (9/20)/(9/40) = 2,
  // cat 2, the (3/20)/(8/40) = 0.75 (0.7499999… in float64: '0.7'); a (2 occurrences) is below the 3 needed.
  assert.deepEqual(words1.rows[0], ['expert 0', 'dog (9), cat (6), the (3), a (2)', 'dog ×2.0, cat ×2.0, the ×0.7']);
  assert.deepEqual(words1.rows[1], ['expert 1', '', '']);
  // Expert 2: runs 12, the 5, sits 3: the (5/20)/(8/40) = 1.25, sits 2 (3 occurrences: enough).
  assert.deepEqual(words1.rows[2], ['expert 2', 'runs (12), the (5), sits (3)', 'runs ×2.0, sits ×2.0, the ×1.3']);
  // Layer 3 (the split): expert 1 has dog 9, cat 6, the 5 (of 8): the ×1.3; expert 3: runs 12, the 3, sits 3, a 2.
  assert.deepEqual(table('words-layer3').rows[1], ['expert 1', 'dog (9), cat (6), the (5)', 'dog ×2.0, cat ×2.0, the ×1.3']);
  assert.deepEqual(table('words-layer3').rows[3], ['expert 3', 'runs (12), the (3), sits (3), a (2)', 'runs ×2.0, sits ×2.0, the ×0.7']);
  // Heatmaps: only the tags and genres present, each column summing to 1.
  const fig = (fid: string) => sec.figures.find((f) => f.id === fid)!;
  const heat = fig('tags-layer1').data[0] as { x: string[]; y: string[]; z: number[][] };
  assert.deepEqual([heat.x, heat.y, heat.z], [['NOUN', 'VERB'], ['expert 0', 'expert 1', 'expert 2', 'expert 3'], [[1, 0], [0, 0], [0, 1], [0, 0]]]);
  assert.match(fig('tags-layer1').caption!, / 10 tags absent from the sample are left out: ADJ, ADV, PRON, DET, ADP, NUM, CONJ, PRT, \., X\.$/);
  const g = fig('genres-layer3');
  assert.deepEqual((g.data[0] as { x: string[]; z: number[][] }).z, [[0, 0], [0.5, 0.5], [0, 0], [0.5, 0.5]]);
  assert.match(g.caption!, / 1 genre absent from the sample is left out: humor\.$/);
  assert.equal(g.title, 'Layer 3: where each genre goes (seed 0)');
  // Dropped share per tag at the last snapshot: nouns 0–3 in layer 1 (4 of 20); tags absent: no value.
  const dropped = fig('dropped-by-tag-layer1').data as { name: string; x: string[]; y: (number | null)[] }[];
  assert.deepEqual(dropped.map((s) => s.name), ['seed 0', 'seed 1']);
  assert.deepEqual(dropped[0].y.slice(0, 3), [0.2, 0, null]);
  // NMI over training, one line per seed.
  const over = fig('nmi-over-training-layer1').data as { name: string; x: number[]; y: number[] }[];
  assert.deepEqual(over.map((s) => [s.name, s.x]), [['seed 0', [0, 60, 120]], ['seed 1', [0, 60, 120]]]);
  over[0].y.forEach((v, i) => close(v, [0, NMI_15_5, 1][i], `seed 0 step ${i}`));
  over[1].y.forEach((v, i) => close(v, NMI_15_5, `seed 1 step ${i}`));
  const over3 = fig('nmi-over-training-layer3').data as { y: number[] }[];
  over3[1].y.forEach((v, i) => close(v, [0, 0, NMI_15_5][i], `seed 1 layer 3 step ${i}`));
  // Summary: per run and layer.
  assert.deepEqual(a.summary.columns, ['run', 'seed', 'layer', 'NMI tag', 'NMI genre', 'NMI word', 'tag baseline', 'genre baseline', 'word baseline']);
  assert.deepEqual(a.summary.rows.map((r) => r.slice(0, 4)), [['switch-e4-s0', 0, 1, 1], ['switch-e4-s0', 0, 3, 0.18872], ['switch-e4-s1', 1, 1, 0.18872], ['switch-e4-s1', 1, 3, 0.18872]]);
  // Genres alternate within every expert's tokens: NMI with genre 0 at the exact split.
  assert.equal(a.summary.rows[0][4], 0);
});

test('at most 8 words per expert in each list; captions name one absent tag, and several absent genres', () => {
  // Ten words, 4 occurrences each, tags 0–10 in turn (X absent), every token of genre news.
  const words = Array.from({ length: 10 }, (_, k) => `w${k}`);
  const wide: Sample = {
    words, input: Array.from({ length: N }, (_, i) => SPECIAL_TOKENS.length + (i % 10)), coarse: Array.from({ length: N }, (_, i) => i % 11), genre: Array(N).fill(0),
  };
  const a = analyze([run(0, runDir('wide', { 0: ['single', 'single'], 120: ['single', 'single'] }, wide))]);
  const w = a.sections[0].tables.find((t) => t.id === 'words-layer1')!.rows[3];
  assert.deepEqual(w, ['expert 3', words.slice(0, 8).map((x) => `${x} (4)`).join(', '), words.slice(0, 8).map((x) => `${x} ×1.0`).join(', ')]);
  const cap = (id: string) => a.sections[0].figures.find((f) => f.id === id)!.caption!;
  assert.match(cap('tags-layer1'), /\(argmax\)\. Balanced routing without specialisation gives every cell ≈ 1\/E\. 1 tag absent from the sample is left out: X\.$/);
  assert.match(cap('genres-layer3'), /≈ 1\/E\. 2 genres absent from the sample are left out: fiction, humor\.$/);
});

test('verdict: NMI rising from step 0 in every seed is reproduced; falling is not reproduced', () => {
  const rules = claimRules();
  const rising = [
    run(0, dir0),
    run(1, runDir('r1', { 0: ['single', 'alternate'], 120: ['exact', 'split'] })),
    run(2, runDir('r2', { 0: ['alternate', 'single'], 120: ['exact', 'split'] })),
  ];
  const v = decideClaims(rules, analyze(rising).evidence, { assess: true })[0];
  // end − start = 0.5944 in every seed: no spread, p = 0.
  assert.equal(v.verdict, 'reproduced');
  close(v.effect!, (1 + NMI_15_5) / 2, 'effect', 1e-12);
  const falling = [
    run(0, runDir('f0', { 0: ['exact', 'exact'], 120: ['split', 'split'] })),
    run(1, runDir('f1', { 0: ['exact', 'exact'], 120: ['split', 'single'] })),
    run(2, runDir('f2', { 0: ['exact', 'split'], 120: ['single', 'single'] })),
  ];
  const w = decideClaims(rules, analyze(falling).evidence, { assess: true })[0];
  // end − start: 0.1887 − 1, 0.0944 − 1, 0 − 0.5944
  close(w.effect!, (NMI_15_5 - 1 + NMI_15_5 / 2 - 1 - (1 + NMI_15_5) / 2) / 3, 'effect', 1e-12);
  assert.equal(w.verdict, 'not reproduced');
});

test('cross-layer predictability at the last snapshot: accuracy against the busiest-expert baseline, NMI, H(e_l | e_prev), P(e_l | e_prev)', () => {
  const a = analyze([run(0, dir0), run(1, dir1)]);
  const table = a.sections[0].tables.find((t) => t.id === 'cross-layer')!;
  assert.deepEqual(table.columns, ['layers', 'accuracy (mean ± se)', 'baseline: busiest expert', 'NMI', 'H(e_l | e_prev) (nats)', 'H(e_l) (nats)', 'seeds']);
  // Seed 0, step 120: layer 1 exact (nouns → 0, verbs → 2), layer 3 the 15/5 split: table [[15, 5], [5, 15]] on
  // experts {0, 2} × {1, 3}: accuracy 30/40, baseline 20/40, NMI 0.1887, H(e_3 | e_1) = H(3/4, 1/4) = 0.5623, H(e_3) = ln 2.
  // Seed 1: the split in both layers: accuracy 1, baseline 0.5, NMI 1, H(e_3 | e_1) = 0.
  const h = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
  assert.deepEqual(table.rows, [['1 → 3', '0.8750 ± 0.1250', 0.5, Number(((NMI_15_5 + 1) / 2).toFixed(4)), Number((h / 2).toFixed(4)), Number(Math.log(2).toFixed(4)), 2]]);
  const heat = a.sections[0].figures.find((f) => f.id === 'expert-transition-layer1-3')!;
  assert.match(heat.title, /seed 0/);
  const z = (heat.data[0] as { z: (number | null)[][] }).z;
  assert.deepEqual([z[0], z[2]], [[0, 0.75, 0, 0.25], [0, 0.25, 0, 0.75]]);
  assert.ok(z[1].every((v) => v === null || Number.isNaN(v)), 'expert 1 of layer 1 is never chosen by seed 0: an empty row');
  // One MoE layer per snapshot: no pair, no cross-layer table or figure.
  const single = join(root, 'single');
  const batch = { inputs: Int32Array.from(input), targets: Int32Array.from(input), inputCoarse: Uint8Array.from(coarse), genre: Uint8Array.from(genre) } as unknown as Batch;
  writeRoutingTokens(single, [batch], ['news', 'fiction', 'humor']);
  new Vocab([...SPECIAL_TOKENS, ...WORDS], true).save(join(single, 'vocab.json'));
  for (const step of [0, 120]) {
    writeArrayBundle(join(single, 'routing', `step-${String(step).padStart(8, '0')}.bin`), 'switchyard-routing-step-1', { step, layers: [1], numExperts: 4, tokens: N }, { expert: Uint16Array.from({ length: N }, (_, i) => PATTERNS.split(i)), kept: new Uint8Array(N).fill(1) });
  }
  const one = analyze([run(0, single)]);
  assert.equal(one.sections[0].tables.some((t) => t.id === 'cross-layer'), false);
  assert.equal(one.sections[0].figures.some((f) => f.id.startsWith('expert-transition')), false);
});

test('crossLayerSection: a run without routing snapshots is left out of the table and the seeds; none with them: no table or figure', () => {
  const empty = join(root, 'no-snapshots');
  assert.deepEqual(crossLayerSection([run(0, empty)]), { figures: [], tables: [] });
  // Seed 1 alone (the split in both layers): accuracy 1, baseline 0.5, NMI 1, H(e_3 | e_1) = 0, H(e_3) = ln 2.
  const mixed = crossLayerSection([run(0, empty), run(1, dir1)]);
  assert.deepEqual(mixed.tables.map((t) => t.rows), [[['1 → 3', '1.0000', 0.5, 1, 0, Number(Math.log(2).toFixed(4)), 1]]]);
  assert.deepEqual(mixed.figures.map((f) => f.id), ['expert-transition-layer1-3']);
  assert.match(mixed.figures[0].title, /seed 1/);
});
