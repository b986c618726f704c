/** The statistics behind the reports' verdicts, against values worked by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fisherExactGreater, normalizedMutualInformation } from '../kernel-lib/exp/stats.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('Fisher exact (one-sided): hypergeometric tails worked by hand', () => {
  close(fisherExactGreater(3, 3, 0, 3), 1 / 20); // C(3,3)C(3,0)/C(6,3)
  close(fisherExactGreater(1, 3, 0, 3), 1 / 2); // one divergence in 3 seeds against none: chance
  close(fisherExactGreater(2, 3, 0, 3), 4 / 20); // (C(3,2)C(3,0)) / C(6,2) = 3/15 = 0.2
  close(fisherExactGreater(3, 4, 1, 4), 17 / 70); // Fisher's tea-tasting table
  close(fisherExactGreater(0, 3, 3, 3), 1); // the other direction: every outcome is at least 0
  close(fisherExactGreater(0, 3, 0, 3), 1);
  close(fisherExactGreater(5, 5, 5, 5), 1);
  // Symmetry: A's upper tail equals B's lower tail; the two directions sum to 1 + P(table).
  const p = fisherExactGreater(4, 10, 1, 12);
  const q = fisherExactGreater(1, 12, 4, 10);
  // Worked: N = 22, K = 5 events, 10 in A. P(X = 4) = C(10,4)C(12,1)/C(22,5) = 2520/26334 = 20/209;
  // P(X ≥ 4) = (2520 + 252)/26334 = 2/19 = 0.1053; P(Y ≥ 1) for B = 1 − P(Y = 0) = 1 − C(10,5)/C(22,5) = 207/209 = 0.9904
  // (scipy.stats.fisher_exact(..., alternative='greater'): 0.10526315789473684 and 0.9904306220095693).
  close(p, 2 / 19);
  close(q, 207 / 209);
  close(p + q, 1 + 20 / 209);
  assert.throws(() => fisherExactGreater(4, 3, 0, 3), /events exceed trials \(4 of 3/);
  assert.throws(() => fisherExactGreater(-1, 3, 0, 3), /a must be a whole number ≥ 0, got -1/);
});

test('normalised mutual information: 1 for a relabelling, 0 for independence', () => {
  close(normalizedMutualInformation([0, 0, 1, 1, 2, 2], [2, 2, 0, 0, 1, 1], 3, 3), 1);
  close(normalizedMutualInformation([0, 1, 0, 1], [0, 0, 1, 1], 2, 2), 0);
});
