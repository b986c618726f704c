/**
 * Specialisation measures from routing snapshots: expert × label contingency tables and the
 * normalised mutual information of the expert with part of speech, genre and word, against a
 * shuffled-assignment baseline (the same expert loads, assigned at random).
 */
import { normalizedMutualInformation, shuffled } from '../../kernel-lib/exp/stats.ts';

/** counts[e][label]: tokens of each label routed to each expert. */
export function contingency(
  expert: ArrayLike<number>, label: ArrayLike<number>, E: number, nLabels: number,
): number[][] {
  const m = Array.from({ length: E }, () => new Array<number>(nLabels).fill(0));
  for (let i = 0; i < expert.length; i++) m[expert[i]][label[i]]++;
  return m;
}

/** Each label's tokens as shares over experts (columns sum to 1): which experts a label goes to. */
export function sharesPerLabel(counts: number[][]): number[][] {
  const nLabels = counts[0]?.length ?? 0;
  const totals = Array.from({ length: nLabels }, (_, j) => counts.reduce((s, row) => s + row[j], 0));
  return counts.map((row) => row.map((v, j) => (totals[j] ? v / totals[j] : 0)));
}

/**
 * The shares of {@link sharesPerLabel} for the labels present in the sample only (a label with
 * no token has no shares: its column would be all zeros, not summing to 1); `absent` names the
 * labels left out, in their order.
 */
export function presentShares(
  counts: number[][], labels: readonly string[],
): { columns: string[]; z: number[][]; absent: string[] } {
  const present = labels.map((_, j) => counts.some((row) => row[j] > 0));
  const keep = <T>(row: readonly T[]) => row.filter((_, j) => present[j]);
  return { columns: keep(labels), z: sharesPerLabel(counts.map(keep)), absent: labels.filter((_, j) => !present[j]) };
}

/**
 * A caption's sentence on the labels left out of a heatmap: '' for none, else e.g.
 * " 2 genres absent from the sample are left out: humor, religion."
 */
export function absentNote(absent: readonly string[], noun: { one: string; many: string }): string {
  if (absent.length === 0) return '';
  return absent.length === 1
    ? ` 1 ${noun.one} absent from the sample is left out: ${absent[0]}.`
    : ` ${absent.length} ${noun.many} absent from the sample are left out: ${absent.join(', ')}.`;
}

export interface NmiWithBaseline {
  nmi: number;
  /** Mean and 99th percentile of the NMI over shuffled assignments. */
  baselineMean: number;
  baselineP99: number;
}

/**
 * NMI(expert; label) and its permutation baseline: the expert assignments shuffled across
 * tokens (loads unchanged), `shuffles` times with fixed seeds.
 */
export function nmiWithBaseline(
  expert: ArrayLike<number>, label: ArrayLike<number>, E: number, nLabels: number, shuffles = 20,
): NmiWithBaseline {
  const nmi = normalizedMutualInformation(expert, label, E, nLabels);
  const base = Array.from(
    { length: shuffles },
    (_, s) => normalizedMutualInformation(shuffled(expert, 1000 + s), label, E, nLabels),
  ).sort((a, b) => a - b);
  return {
    nmi,
    baselineMean: base.reduce((a, b) => a + b, 0) / base.length,
    baselineP99: base[Math.min(base.length - 1, Math.ceil(0.99 * base.length) - 1)],
  };
}

/**
 * Word labels compacted to 0..n−1 (the vocabulary is large and most words are absent from the
 * sample), so contingency tables stay small.
 */
export function compactLabels(ids: ArrayLike<number>): { labels: Int32Array; count: number } {
  const map = new Map<number, number>();
  const labels = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    let v = map.get(ids[i]);
    if (v === undefined) map.set(ids[i], (v = map.size));
    labels[i] = v;
  }
  return { labels, count: map.size };
}
