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
import { summarize } from '../../kernel-lib/exp/stats.ts';
import type { Claim, Figure, Table } from '../../kernel-lib/report/types.ts';
import { readRoutingSnapshot, readRoutingTokens, routingSteps, type RoutingTokens } from '../../kernel-lib/train/routing-dump.ts';
import { done, num, pm } from '../common.ts';
import { absentNote, compactLabels, contingency, nmiWithBaseline, presentShares } from './measures.ts';

interface LayerResult {
  layer: number;
  tag: ReturnType<typeof nmiWithBaseline>;
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
  const claims: Claim[] = [];
  if (results.length === 0) {
    const empty: Table = { id: 'specialization', title: 'No completed run to analyse', columns: ['run', 'status'], rows: runs.map((r) => [r.id, r.status]) };
    return { claims, sections: [{ heading: 'Expert specialisation', paragraphs: ['No run has finished yet.'], figures, tables: [empty] }], summary: empty };
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
      return [L.layer, what === 'tag' ? 'part of speech' : what, pm(summarize(vals.map((v) => v.nmi)), 4), num(summarize(vals.map((v) => v.baselineMean)).mean, 4), num(summarize(vals.map((v) => v.baselineP99)).mean, 4), vals.filter((v) => v.nmi > v.baselineP99).length, vals.length];
    }),
  );
  const nmiTable: Table = { id: 'nmi', title: 'Normalised mutual information of expert with part of speech, genre and word', columns: ['layer', 'with', 'NMI (mean ± se over seeds)', 'shuffled baseline (mean)', 'shuffled 99th percentile', 'seeds above the 99th percentile', 'seeds'], rows: nmiRows, caption: 'Baseline: the same expert assignments shuffled across tokens (loads unchanged), 20 times. Word NMI is inflated by the many rare words: compare it with its baseline.' };
  tables.unshift(nmiTable);
  const allTag = results.flatMap((x) => x.layers.map((L) => L.tag));
  claims.push({
    claim: 'Experts specialise: routing carries information about the token\'s part of speech (ST-MoE §7, Table 13; Switch has only prose)',
    measured: `NMI(expert; tag) ${pm(summarize(allTag.map((t) => t.nmi)), 4)} vs shuffled ${summarize(allTag.map((t) => t.baselineMean)).mean.toFixed(4)}; above the shuffled 99th percentile in ${allTag.filter((t) => t.nmi > t.baselineP99).length} of ${allTag.length} (seed, layer) pairs`,
    verdict: allTag.length > 0 && allTag.every((t) => t.nmi > t.baselineP99) ? 'yes' : allTag.some((t) => t.nmi > t.baselineP99) ? 'inconclusive' : 'no',
    rule: 'yes if every seed and layer exceeds the 99th percentile of its shuffled baseline (a permutation test at 1%), no if none does, inconclusive otherwise',
  });
  const growth = results.flatMap((x) => x.layers.map((L) => L.tagOverTime.at(-1)!.nmi - L.tagOverTime[0].nmi));
  const g = summarize(growth);
  claims.push({
    claim: 'Specialisation by part of speech develops during training (from the initial router\'s)',
    measured: `NMI(expert; tag) change from step 0 to the end: ${pm(g, 4)} over ${g.n} (seed, layer) pairs`,
    verdict: g.n < 2 ? 'inconclusive' : g.mean > 2 * g.se ? 'yes' : g.mean < -2 * g.se ? 'no' : 'inconclusive',
    rule: 'yes if the mean change exceeds 2 standard errors, no if below −2, inconclusive otherwise or with one pair',
  });
  const summary: Table = { id: 'specialization', title: 'NMI per run and layer', columns: ['run', 'seed', 'layer', 'NMI tag', 'NMI genre', 'NMI word', 'tag baseline', 'genre baseline', 'word baseline'], rows: results.flatMap((x) => x.layers.map((L) => [x.r.id, x.r.seed, L.layer, num(L.tag.nmi, 5), num(L.genre.nmi, 5), num(L.word.nmi, 5), num(L.tag.baselineMean, 5), num(L.genre.baselineMean, 5), num(L.word.baselineMean, 5)])) };
  return {
    claims,
    sections: [{ heading: 'Expert specialisation', paragraphs: [`A fixed sample of ${first.tokens.input.length} validation tokens was routed at ${routingSteps(first.r.runDir).length} points during training (as in training: training capacity factor). The expert of a token is its router's argmax; part of speech is the universal tag of the input token the router sees.`], figures, tables }],
    summary,
  };
}
