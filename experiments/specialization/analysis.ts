/**
 * The specialisation analysis, per MoE layer: which experts take which parts of speech and
 * genres (tables and heatmaps), each expert's most frequent and most over-represented words,
 * normalised mutual information of expert with tag, genre and word against a shuffled baseline,
 * how it develops over training, and which parts of speech get dropped; and how well a token's
 * expert in one MoE layer predicts its expert in the next.
 */
import { join } from 'node:path';
import { UNIVERSAL_TAGS, Vocab } from '../../kernel-lib/data/index.ts';
import type { Analysis, LoadedRun } from '../../kernel-lib/exp/types.ts';
import { barFigure, heatmapFigure, lineFigure } from '../../kernel-lib/exp/plots.ts';
import {
  crossLayerPredictability, finalRoutingSnapshot, transitionHeatmap, type LayerTransition,
} from '../../kernel-lib/exp/routing-traces.ts';
import { normalizedMutualInformation, permutationPValue, shuffled, summarize } from '../../kernel-lib/exp/stats.ts';
import type { Evidence } from '../../kernel-lib/exp/claims.ts';
import type { Figure, Table } from '../../kernel-lib/report/types.ts';
import {
  readRoutingSnapshot, readRoutingTokens, routingSteps, type RoutingTokens,
} from '../../kernel-lib/train/routing-dump.ts';
import { done, meanPlusMinus, tableNumber } from '../common.ts';
import { absentNote, compactLabels, contingency, nmiWithBaseline, presentShares } from './measures.ts';

/**
 * Shuffles per permutation test: the smallest p is 1/1000, below 0.05 over up to 50 (seed, layer)
 * tests (Bonferroni).
 */
export const PERMUTATIONS = 999;

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

/** One run's routing snapshots, per MoE layer: the measures above, and the sample of tokens routed. */
function analyseRun(r: LoadedRun): { layers: LayerResult[]; tokens: RoutingTokens; numExperts: number } {
  const steps = routingSteps(r.runDir);
  if (steps.length === 0) throw new Error(`run ${r.id} has no routing snapshots in ${r.runDir}/routing`);
  const tokens = readRoutingTokens(r.runDir);
  const vocab = Vocab.load(join(r.runDir, 'vocab.json'));
  const snapshots = steps.map((step) => readRoutingSnapshot(r.runDir, step));
  const last = snapshots[snapshots.length - 1];
  const numExperts = last.numExperts;
  const numTags = UNIVERSAL_TAGS.length;
  const numGenres = tokens.genres.length;
  const words = compactLabels(tokens.input);
  const layers = last.layers.map((layer, layerIndex): LayerResult => {
    const expertOf = last.expert[layerIndex];
    const tagCounts = contingency(expertOf, tokens.coarse, numExperts, numTags);
    const dropped = new Array<number>(numTags).fill(0);
    const total = new Array<number>(numTags).fill(0);
    for (let i = 0; i < expertOf.length; i++) {
      total[tokens.coarse[i]]++;
      if (last.kept[layerIndex][i] === 0) dropped[tokens.coarse[i]]++;
    }
    // Words: per expert, the most frequent, and the most over-represented (count ≥ 3) relative to the
    // word's overall share.
    const wordCount = new Map<number, number>();
    for (const id of tokens.input) wordCount.set(id, (wordCount.get(id) ?? 0) + 1);
    const perExpert = Array.from({ length: numExperts }, () => new Map<number, number>());
    for (let i = 0; i < expertOf.length; i++) {
      perExpert[expertOf[i]].set(tokens.input[i], (perExpert[expertOf[i]].get(tokens.input[i]) ?? 0) + 1);
    }
    const numTokens = expertOf.length;
    const topWords = perExpert.map((counts) => [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([id, count]) => `${vocab.tokens[id]} (${count})`));
    const liftWords = perExpert.map((counts) => {
      const load = [...counts.values()].reduce((a, b) => a + b, 0);
      return [...counts.entries()]
        .filter(([, count]) => count >= 3)
        .map(([id, count]) => [id, count / load / (wordCount.get(id)! / numTokens)] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([id, lift]) => `${vocab.tokens[id]} ×${lift.toFixed(1)}`);
    });
    return {
      layer,
      tag: nmiWithBaseline(expertOf, tokens.coarse, numExperts, numTags),
      tagPermutationP: permutationPValue(
        normalizedMutualInformation(expertOf, tokens.coarse, numExperts, numTags),
        (i) => normalizedMutualInformation(shuffled(expertOf, 5000 + i), tokens.coarse, numExperts, numTags),
        PERMUTATIONS,
      ),
      genre: nmiWithBaseline(expertOf, tokens.genre, numExperts, numGenres),
      word: nmiWithBaseline(expertOf, words.labels, numExperts, words.count),
      tagOverTime: snapshots.map((snapshot) => ({
        step: snapshot.step,
        nmi: nmiWithBaseline(snapshot.expert[layerIndex], tokens.coarse, numExperts, numTags, 0).nmi,
      })),
      tagCounts,
      genreCounts: contingency(expertOf, tokens.genre, numExperts, numGenres),
      droppedByTag: dropped.map((d, j) => (total[j] ? d / total[j] : NaN)),
      topWords,
      liftWords,
    };
  });
  return { layers, tokens, numExperts };
}

/**
 * How predictable a token's expert is from its expert in the MoE layer below, at the last routing
 * snapshot (routing-traces.ts): per pair of consecutive MoE layers, the accuracy of predicting the
 * upper expert from the lower one against always guessing the upper layer's busiest expert, the
 * NMI and H(e_l | e_prev) over seeds, and P(e_l | e_prev) for the first seed.
 */
export function crossLayerSection(runs: LoadedRun[]): { figures: Figure[]; tables: Table[] } {
  const perRun = runs.flatMap((r) => {
    const snapshot = finalRoutingSnapshot(r.runDir);
    return snapshot ? [{ r, transitions: crossLayerPredictability(snapshot) }] : [];
  });
  const pairs = perRun[0]?.transitions ?? [];
  if (pairs.length === 0) return { figures: [], tables: [] };
  const over = (i: number, f: (t: LayerTransition) => number) => summarize(perRun.map((x) => f(x.transitions[i])));
  const table: Table = {
    id: 'cross-layer',
    title: 'How well a token\'s expert in one MoE layer predicts its expert in the next (last snapshot)',
    columns: ['layers', 'accuracy (mean ± se)', 'baseline: busiest expert', 'NMI', 'H(e_l | e_prev) (nats)',
      'H(e_l) (nats)', 'seeds'],
    rows: pairs.map((t, i) => [
      `${t.from} → ${t.to}`, meanPlusMinus(over(i, (x) => x.accuracy), 4),
      tableNumber(over(i, (x) => x.baselineAccuracy).mean), tableNumber(over(i, (x) => x.nmi).mean),
      tableNumber(over(i, (x) => x.conditionalEntropy).mean), tableNumber(over(i, (x) => x.entropy).mean),
      perRun.length,
    ]),
    caption: 'Accuracy: predicting each token\'s upper expert by the most frequent upper expert among tokens with the '
      + 'same lower expert; the baseline always guesses the upper layer\'s busiest expert. Computed on the sample it '
      + 'describes (in-sample), so it is an upper bound on what a predictor would reach on new tokens.',
  };
  const first = perRun[0];
  const figures = first.transitions.map((t) => transitionHeatmap(t, {
    id: `expert-transition-layer${t.from}-${t.to}`,
    title: `P(expert in layer ${t.to} | expert in layer ${t.from}) (seed ${first.r.seed}, last snapshot)`,
    caption: 'Each row sums to 1 (empty rows: experts no sample token chose in the lower layer). One bright cell per '
      + 'row: the lower layer\'s expert decides the upper one\'s; rows alike: it tells nothing.',
  }));
  return { figures, tables: [table] };
}

/** The specialisation experiment's report sections, summary table and the evidence for its claim. */
export function analyze(runs: LoadedRun[]): Analysis {
  const usable = done(runs);
  const results = usable.map((r) => ({ r, ...analyseRun(r) }));
  const figures: Figure[] = [];
  const tables: Table[] = [];
  const evidence: Record<string, Evidence> = {};
  if (results.length === 0) {
    const empty: Table = {
      id: 'specialization', title: 'No completed run to analyse', columns: ['run', 'status'],
      rows: runs.map((r) => [r.id, r.status]),
    };
    return {
      evidence,
      sections: [{
        heading: 'Expert specialisation', paragraphs: ['No run has finished yet.'], figures, tables: [empty],
      }],
      summary: empty,
    };
  }
  const first = results[0];
  const expertNames = Array.from({ length: first.numExperts }, (_, e) => `expert ${e}`);
  const tags = [...UNIVERSAL_TAGS];
  for (const layerResult of first.layers) {
    const layerIndex = first.layers.indexOf(layerResult);
    const layer = layerResult.layer;
    const tagShares = presentShares(layerResult.tagCounts, tags);
    const genreShares = presentShares(layerResult.genreCounts, first.tokens.genres);
    figures.push(heatmapFigure({
      id: `tags-layer${layer}`, title: `Layer ${layer}: where each part of speech goes (seed ${first.r.seed})`,
      rows: expertNames, columns: tagShares.columns, z: tagShares.z, x: 'universal tag of the input token',
      y: 'expert', scale: 'share of the tag',
      caption: 'Each column sums to 1: the share of that tag\'s tokens routed to each expert (argmax). Balanced '
        + 'routing without specialisation gives every cell ≈ 1/E.'
        + absentNote(tagShares.absent, { one: 'tag', many: 'tags' }),
    }));
    figures.push(heatmapFigure({
      id: `genres-layer${layer}`, title: `Layer ${layer}: where each genre goes (seed ${first.r.seed})`,
      rows: expertNames, columns: genreShares.columns, z: genreShares.z, x: 'genre (Brown category)',
      y: 'expert', scale: 'share of the genre',
      caption: 'Each column sums to 1: the share of that genre\'s tokens routed to each expert (argmax). Balanced '
        + 'routing without specialisation gives every cell ≈ 1/E.'
        + absentNote(genreShares.absent, { one: 'genre', many: 'genres' }),
    }));
    tables.push({
      id: `tags-layer${layer}`, title: `Layer ${layer}: tokens per expert and tag (seed ${first.r.seed})`,
      columns: ['expert', ...tags], rows: layerResult.tagCounts.map((row, e) => [`expert ${e}`, ...row]),
    });
    tables.push({
      id: `words-layer${layer}`, title: `Layer ${layer}: words per expert (seed ${first.r.seed})`,
      columns: ['expert', 'most frequent input words (count)',
        'most over-represented (× its overall share; ≥ 3 occurrences)'],
      rows: layerResult.topWords.map((w, e) => [`expert ${e}`, w.join(', '), layerResult.liftWords[e].join(', ')]),
    });
    const nmiOverTime = results.map((x) => x.layers[layerIndex].tagOverTime);
    figures.push(lineFigure({
      id: `nmi-over-training-layer${layer}`, title: `Layer ${layer}: NMI(expert; part of speech) over training`,
      x: 'training step', y: 'normalised mutual information',
      series: nmiOverTime.map((points, i) => ({
        name: `seed ${results[i].r.seed}`, x: points.map((p) => p.step), y: points.map((p) => p.nmi),
      })),
      caption: 'NMI between each token\'s expert (argmax) and its part of speech at each routing snapshot, one line '
        + 'per seed. Step 0 is the untrained router, already a function of the token it sees, so its NMI is above '
        + 'zero before any training: compare the curve with its start and with the shuffled baseline in the NMI '
        + 'table, not with zero.',
    }));
    figures.push(barFigure({
      id: `dropped-by-tag-layer${layer}`,
      title: `Layer ${layer}: share of each part of speech dropped (training capacity)`,
      x: 'universal tag', y: 'dropped share', categories: tags,
      series: results.map((x) => ({ name: `seed ${x.r.seed}`, values: x.layers[layerIndex].droppedByTag })),
    }));
  }
  const nmiRows = first.layers.flatMap((layerResult, layerIndex) =>
    (['tag', 'genre', 'word'] as const).map((what) => {
      const values = results.map((x) => x.layers[layerIndex][what]);
      const permutationP = what === 'tag'
        ? Math.max(...results.map((x) => x.layers[layerIndex].tagPermutationP))
        : null;
      return [
        layerResult.layer, what === 'tag' ? 'part of speech' : what,
        meanPlusMinus(summarize(values.map((v) => v.nmi)), 4),
        tableNumber(summarize(values.map((v) => v.baselineMean)).mean, 4),
        tableNumber(summarize(results.map((x) => x.layers[layerIndex].tagOverTime[0].nmi)).mean, 4),
        what === 'tag' ? tableNumber(permutationP!, 4) : null, values.length,
      ].map((cell, column) => (column === 4 && what !== 'tag' ? null : cell));
    }),
  );
  const nmiTable: Table = {
    id: 'nmi', title: 'Normalised mutual information of expert with part of speech, genre and word',
    columns: ['layer', 'with', 'NMI at the end (mean ± se over seeds)', 'shuffled baseline (mean)',
      'step-0 router (tag, mean)', `permutation p (tag, ${PERMUTATIONS} shuffles; largest over seeds)`, 'seeds'],
    rows: nmiRows,
    caption: 'Shuffled baseline: the same expert assignments shuffled across tokens (loads unchanged). The untrained '
      + 'step-0 router is already a function of the token it sees, so it beats the shuffled baseline too: the claim '
      + 'compares the end with step 0 of the same seed. Word NMI is inflated by the many rare words: compare it with '
      + 'its baseline.',
  };
  tables.unshift(nmiTable);
  // Per seed, the layers averaged (layers within a seed are not independent): NMI with tag at the end vs at step 0.
  const perSeed = results.map((x) => ({
    seed: x.r.seed,
    end: summarize(x.layers.map((layerResult) => layerResult.tagOverTime.at(-1)!.nmi)).mean,
    start: summarize(x.layers.map((layerResult) => layerResult.tagOverTime[0].nmi)).mean,
  }));
  evidence['pos-specialisation'] = {
    kind: 'paired', a: perSeed.map((p) => p.end), b: perSeed.map((p) => p.start), seeds: perSeed.map((p) => p.seed),
    measured: 'NMI(expert; part of speech), mean over layers: '
      + `end ${summarize(perSeed.map((p) => p.end)).mean.toFixed(4)}, `
      + `step 0 ${summarize(perSeed.map((p) => p.start)).mean.toFixed(4)}`,
  };
  const summary: Table = {
    id: 'specialization', title: 'NMI per run and layer',
    columns: ['run', 'seed', 'layer', 'NMI tag', 'NMI genre', 'NMI word', 'tag baseline', 'genre baseline',
      'word baseline'],
    rows: results.flatMap((x) => x.layers.map((layerResult) => [
      x.r.id, x.r.seed, layerResult.layer,
      tableNumber(layerResult.tag.nmi, 5), tableNumber(layerResult.genre.nmi, 5), tableNumber(layerResult.word.nmi, 5),
      tableNumber(layerResult.tag.baselineMean, 5), tableNumber(layerResult.genre.baselineMean, 5),
      tableNumber(layerResult.word.baselineMean, 5),
    ])),
  };
  const crossLayer = crossLayerSection(results.map((x) => x.r));
  figures.push(...crossLayer.figures);
  tables.push(...crossLayer.tables);
  return {
    evidence,
    sections: [{
      heading: 'Expert specialisation',
      paragraphs: [`A fixed sample of ${first.tokens.input.length} validation tokens was routed at `
        + `${routingSteps(first.r.runDir).length} points during training (as in training: training capacity factor). `
        + 'The expert of a token is its router\'s argmax; part of speech is the universal tag of the input token '
        + 'the router sees.'],
      figures,
      tables,
    }],
    summary,
  };
}
