/** counts[e][label]: tokens of each label routed to each expert. */
export declare function contingency(expert: ArrayLike<number>, label: ArrayLike<number>, E: number, nLabels: number): number[][];
/** Each label's tokens as shares over experts (columns sum to 1): which experts a label goes to. */
export declare function sharesPerLabel(counts: number[][]): number[][];
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
export declare function nmiWithBaseline(expert: ArrayLike<number>, label: ArrayLike<number>, E: number, nLabels: number, shuffles?: number): NmiWithBaseline;
/**
 * Word labels compacted to 0..n−1 (the vocabulary is large and most words are absent from the
 * sample), so contingency tables stay small.
 */
export declare function compactLabels(ids: ArrayLike<number>): {
    labels: Int32Array;
    count: number;
};
