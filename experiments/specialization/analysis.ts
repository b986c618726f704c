/**
 * The specialisation analysis, per MoE layer: which experts take which parts of speech and
 * genres (tables and heatmaps), each expert's most frequent and most over-represented words,
 * normalised mutual information of expert with tag, genre and word against a shuffled baseline,
 * how it develops over training, and which parts of speech get dropped.
 */
import { join } from 'node:path';
import { UNIVERSAL_TAGS, Vocab } from '../../kernel-lib/data/index.ts';
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { barFigure, heatmapFigure, lineFigure } from '../../kernel-lib/exp/plots.ts';
import { normalizedMutualInformation, permutationPValue, shuffled, summarize } from '../../kernel-lib/exp/stats.ts';
import type { Evidence } from '../../kernel-lib/exp/claims.ts';
import type { Figure, Table } from '../../kernel-lib/report/types.ts';
import { readRoutingSnapshot, readRoutingTokens, routingSteps, type RoutingTokens } from '../../kernel-lib/train/routing-dump.ts';
import { done, num, pm } from '../common.ts';

/** Shuffles per permutation test: the smallest p is 1/1000, below 0.05 over up to 50 (seed, layer) tests (Bonferroni). */
export const PERMUTATIONS = 999;
import { absentNote, compactLabels, contingency, nmiWithBaseline, presentShares } from './measures.ts';

interface LayerResult {
  layer: number;
  tag: ReturnType<typeof nmiWithBaseline>;
  /** Permutation p-value of NMI(expert; tag) at the end against PERMUTATIONS shuffles of the experts across tokens. */
  tagPermutationP: number;
  genre: ReturnType<typeof nmiWithBaseline>;
  word: ReturnType<typeof nmiWithBaseline>;
  /** NMI(expert; tag) at each snapshot step. */
  tagOverTime: { step: number; nmi: number }[];
  tagCounts: number[][];
  genreCounts: number[][];
  /** Per tag: share of its tokens dropped entirely (kept = 0) at the final snapshot. */
  droppedByTag: number[];
  topWords: string[][];
  liftWords: string[][];
}

function analyseRun(r: LoadedRun): { layers: LayerResult[]; tokens: RoutingTokens; E: number } {
  const steps = routingSteps(r.runDir);
  if (steps.length === 0) throw new Error(`run ${r.id} has no routing snapshots in ${r.runDir}/routing`);
  const tokens = readRoutingTokens(r.runDir);
  const vocab = Vocab.load(join(r.runDir, 'vocab.json'));
  const snaps = steps.map((s) => readRoutingSnapshot(r.runDir, s));
  const last = snaps[snaps.length - 1];
  const E = last.numExperts;
  const T = UNIVERSAL_TAGS.length;
  const G = tokens.genres.length;
  const words = compactLabels(tokens.input);
  const layers = last.layers.map((layer, l): LayerResult => {
    const ex = last.expert[l];
    const tagCounts = contingency(ex, tokens.coarse, E, T);
    const dropped = new Array<number>(T).fill(0);
    const total = new Array<number>(T).fill(0);
    for (let i = 0; i < ex.length; i++) {
      total[tokens.coarse[i]]++;
      if (last.kept[l][i] === 0) dropped[tokens.coarse[i]]++;
    }
    // Words: per expert, the most frequent, and the most over-represented (count ≥ 3) relative to the word's overall share.
    const wordCount = new Map<number, number>();
    for (const id of tokens.input) wordCount.set(id, (wordCount.get(id) ?? 0) + 1);
    const perExpert = Array.from({ length: E }, () => new Map<number, number>());
    for (let i = 0; i < ex.length; i++) perExpert[ex[i]].set(tokens.input[i], (perExpert[ex[i]].get(tokens.input[i]) ?? 0) + 1);
    const N = ex.length;
    const topWords = perExpert.map((m) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([id, c]) => `${vocab.tokens[id]} (${c})`));
    const liftWords = perExpert.map((m) => {
      const load = [...m.values()].reduce((a, b) => a + b, 0);
      return [...m.entries()].filter(([, c]) => c >= 3).map(([id, c]) => [id, c / load / (wordCount.get(id)! / N)] as const).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([id, lift]) => `${vocab.tokens[id]} ×${lift.toFixed(1)}`);
    });
    return {
      layer,
      tag: nmiWithBaseline(ex, tokens.coarse, E, T),
      tagPermutationP: permutationPValue(
        normalizedMutualInformation(ex, tokens.coarse, E, T), (i) => normalizedMutualInformation(shuffled(ex, 5000 + i), tokens.coarse, E, T), PERMUTATIONS),
      genre: nmiWithBaseline(ex, tokens.genre, E, G),
      word: nmiWithBaseline(ex, words.labels, E, words.count),
      tagOverTime: snaps.map((s) => ({ step: s.step, nmi: nmiWithBaseline(s.expert[l], tokens.coarse, E, T, 0).nmi })),
      tagCounts,
      genreCounts: contingency(ex, tokens.genre, E, G),
      droppedByTag: dropped.map((d, j) => (total[j] ? d / total[j] : NaN)),
      topWords,
      liftWords,
    };
  });
  return { layers, tokens, E };
}

export function analyze(runs: LoadedRun[]): Analysis {
  const usable = done(runs);
  const results = usable.map((r) => ({ r, ...analyseRun(r) }));
  const figures: Figure[] = [];
  const tables: Table[] = [];
  const evidence: Record<string, Evidence> = {};
  if (results.length === 0) {
    const empty: Table = { id: 'specialization', title: 'No completed run to analyse', columns: ['run', 'status'], rows: runs.map((r) => [r.id, r.status]) };
    return { evidence, sections: [{ heading: 'Expert specialisation', paragraphs: ['No run has finished yet.'], figures, tables: [empty] }], summary: empty };
  }
  const first = results[0];
  const expertNames = Array.from({ length: first.E }, (_, e) => `expert ${e}`);
  const tags = [...UNIVERSAL_TAGS];
  for (const L of first.layers) {
    const l = first.layers.indexOf(L);
    const tagShares = presentShares(L.tagCounts, tags);
    const genreShares = presentShares(L.genreCounts, first.tokens.genres);
    figures.push(heatmapFigure({ id: `tags-layer${L.layer}`, title: `Layer ${L.layer}: where each part of speech goes (seed ${first.r.seed})`, rows: expertNames, columns: tagShares.columns, z: tagShares.z, x: 'universal tag of the input token', y: 'expert', scale: 'share of the tag', caption: `Each column sums to 1: the share of that tag's tokens routed to each expert (argmax). Balanced routing without specialisation gives every cell ≈ 1/E.${absentNote(tagShares.absent, { one: 'tag', many: 'tags' })}` }));
    figures.push(heatmapFigure({ id: `genres-layer${L.layer}`, title: `Layer ${L.layer}: where each genre goes (seed ${first.r.seed})`, rows: expertNames, columns: genreShares.columns, z: genreShares.z, x: 'genre (Brown category)', y: 'expert', scale: 'share of the genre', caption: `Each column sums to 1: the share of that genre's tokens routed to each expert (argmax). Balanced routing without specialisation gives every cell ≈ 1/E.${absentNote(genreShares.absent, { one: 'genre', many: 'genres' })}` }));
    tables.push({ id: `tags-layer${L.layer}`, title: `Layer ${L.layer}: tokens per expert and tag (seed ${first.r.seed})`, columns: ['expert', ...tags], rows: L.tagCounts.map((row, e) => [`expert ${e}`, ...row]) });
    tables.push({ id: `words-layer${L.layer}`, title: `Layer ${L.layer}: words per expert (seed ${first.r.seed})`, columns: ['expert', 'most frequent input words (count)', 'most over-represented (× its overall share; ≥ 3 occurrences)'], rows: L.topWords.map((w, e) => [`expert ${e}`, w.join(', '), L.liftWords[e].join(', ')]) });
    const over = results.map((x) => x.layers[l].tagOverTime);
    figures.push(lineFigure({ id: `nmi-over-training-layer${L.layer}`, title: `Layer ${L.layer}: NMI(expert; part of speech) over training`, x: 'training step', y: 'normalised mutual information', series: over.map((o, i) => ({ name: `seed ${results[i].r.seed}`, x: o.map((p) => p.step), y: o.map((p) => p.nmi) })), caption: 'NMI between each token\'s expert (argmax) and its part of speech at each routing snapshot, one line per seed. Step 0 is the untrained router, already a function of the token it sees, so its NMI is above zero before any training: compare the curve with its start and with the shuffled baseline in the NMI table, not with zero.' }));
    figures.push(barFigure({ id: `dropped-by-tag-layer${L.layer}`, title: `Layer ${L.layer}: share of each part of speech dropped (training capacity)`, x: 'universal tag', y: 'dropped share', categories: tags, series: results.map((x) => ({ name: `seed ${x.r.seed}`, values: x.layers[l].droppedByTag })) }));
  }
  const nmiRows = first.layers.flatMap((L, l) =>
    (['tag', 'genre', 'word'] as const).map((what) => {
      const vals = results.map((x) => x.layers[l][what]);
      const perm = what === 'tag' ? Math.max(...results.map((x) => x.layers[l].tagPermutationP)) : null;
      return [
        L.layer, what === 'tag' ? 'part of speech' : what, pm(summarize(vals.map((v) => v.nmi)), 4),
        num(summarize(vals.map((v) => v.baselineMean)).mean, 4), num(summarize(results.map((x) => x.layers[l].tagOverTime[0].nmi)).mean, 4),
        what === 'tag' ? num(perm!, 4) : null, vals.length,
      ].map((c, k) => (k === 4 && what !== 'tag' ? null : c));
    }),
  );
  const nmiTable: Table = {
    id: 'nmi', title: 'Normalised mutual information of expert with part of speech, genre and word',
    columns: ['layer', 'with', 'NMI at the end (mean ± se over seeds)', 'shuffled baseline (mean)', 'step-0 router (tag, mean)', `permutation p (tag, ${PERMUTATIONS} shuffles; largest over seeds)`, 'seeds'],
    rows: nmiRows,
    caption: 'Shuffled baseline: the same expert assignments shuffled across tokens (loads unchanged). The untrained step-0 router is already a function of the token it sees, so it beats the shuffled baseline too: the claim compares the end with step 0 of the same seed. Word NMI is inflated by the many rare words: compare it with its baseline.',
  };
  tables.unshift(nmiTable);
  // Per seed, the layers averaged (layers within a seed are not independent): NMI with tag at the end vs at step 0.
  const perSeed = results.map((x) => ({
    seed: x.r.seed,
    end: summarize(x.layers.map((L) => L.tagOverTime.at(-1)!.nmi)).mean,
    start: summarize(x.layers.map((L) => L.tagOverTime[0].nmi)).mean,
  }));
  evidence['pos-specialisation'] = {
    kind: 'paired', a: perSeed.map((p) => p.end), b: perSeed.map((p) => p.start), seeds: perSeed.map((p) => p.seed),
    measured: `NMI(expert; part of speech), mean over layers: end ${summarize(perSeed.map((p) => p.end)).mean.toFixed(4)}, step 0 ${summarize(perSeed.map((p) => p.start)).mean.toFixed(4)}`,
  };
  const summary: Table = { id: 'specialization', title: 'NMI per run and layer', columns: ['run', 'seed', 'layer', 'NMI tag', 'NMI genre', 'NMI word', 'tag baseline', 'genre baseline', 'word baseline'], rows: results.flatMap((x) => x.layers.map((L) => [x.r.id, x.r.seed, L.layer, num(L.tag.nmi, 5), num(L.genre.nmi, 5), num(L.word.nmi, 5), num(L.tag.baselineMean, 5), num(L.genre.baselineMean, 5), num(L.word.baselineMean, 5)])) };
  return {
    evidence,
    sections: [{ heading: 'Expert specialisation', paragraphs: [`A fixed sample of ${first.tokens.input.length} validation tokens was routed at ${routingSteps(first.r.runDir).length} points during training (as in training: training capacity factor). The expert of a token is its router's argmax; part of speech is the universal tag of the input token the router sees.`], figures, tables }],
    summary,
  };
}
