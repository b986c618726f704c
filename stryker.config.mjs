// StrykerJS (mutation testing) over the Node test runner: `npm run mutate [group ...]`
// (scripts/mutate.ts). Each group names the code that decides and the test files that cover it;
// the tap runner records which of those files reach each mutant and runs only them.
// MUTATE_GROUPS (comma-separated) selects groups; the script sets it.
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GROUPS = {
  stats: {
    // The statistics, the t distribution under them, and the claim rules that decide verdicts with them.
    // test/calibration.test.ts (Monte-Carlo, ~10 s a run) is left out: too slow to run once per mutant.
    mutate: ['kernel-lib/exp/stats.ts', 'kernel-lib/exp/distributions.ts', 'kernel-lib/exp/claims.ts'],
    tests: ['test/stats.test.ts', 'test/stats-*.test.ts', 'test/claims*.test.ts'],
  },
  analysis: {
    // Unit tests of the claim rules (worked values). test/experiments.test.ts runs whole sweeps
    // (minutes a run): too slow to run once per mutant, so it is not part of this group.
    // routing-traces.ts: the per-token routing traces the routing, balance and specialization reports show
    mutate: ['experiments/*/analysis.ts', 'experiments/common.ts', 'kernel-lib/exp/routing-traces.ts'],
    tests: ['test/analysis*.test.ts', 'test/claims*.test.ts', 'test/routing-traces.test.ts'],
  },
  moe: {
    // capacity.ts holds the packed layout's row bound too, whose worked values are in packed-mutation
    mutate: ['kernel-lib/moe/capacity.ts', 'kernel-lib/moe/routing/*.ts', 'kernel-lib/moe/losses.ts', 'kernel-lib/moe/dispatch.ts'],
    tests: ['test/moe.cpu.test.ts', 'test/moe-mutation.test.ts', 'test/routing-mutation.test.ts', 'test/packed-mutation.test.ts'],
  },
  packed: {
    // contracts.ts: the layout's segment offset and row tile, and the kernels' names
    mutate: ['kernel-lib/moe/packed-layout.ts', 'kernel-lib/moe/packed-rows.ts', 'kernel-lib/kernels/contracts.ts'],
    tests: ['test/packed-mutation.test.ts'],
  },
  budget: {
    mutate: ['kernel-lib/exp/budget.ts'],
    tests: ['test/budget-mutation.test.ts'],
  },
  conformance: {
    // case.ts (parsing and validating a case) and relativeError and checkCase in run.ts (lines 82-147: the verdict on an answer)
    mutate: ['kernel-lib/conformance/case.ts', 'kernel-lib/conformance/run.ts:82-147'],
    tests: ['test/conformance-mutation.test.ts', 'test/moe.validation.test.ts'],
  },
};

const selected = (process.env.MUTATE_GROUPS || Object.keys(GROUPS).join(',')).split(',').filter(Boolean);
for (const g of selected) if (!GROUPS[g]) throw new Error(`unknown mutation group '${g}' (choose ${Object.keys(GROUPS).join(', ')})`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: {
    testFiles: selected.flatMap((g) => GROUPS[g].tests),
    // node's test runner under tsx; Stryker's hook records which files reach which mutants
    nodeArgs: ['--import', 'tsx', '--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
    // Run a file to its end on a failure: killing it at the first 'not ok' left processes that Stryker
    // could only time out (most of the moe group's mutants), which took longer than the tests.
    forceBail: false,
  },
  coverageAnalysis: 'perTest',
  mutate: selected.flatMap((g) => GROUPS[g].mutate),
  // The sandbox copies only what the tests read; results, runs and caches stay behind.
  ignorePatterns: ['results', 'runs', '.cache', '.gpu', 'dist', 'notebooks', 'reports', 'docs', '.jupyter', '.ci'],
  // Outside the work tree, so that `eslint .` and others' tools never see a half-written sandbox.
  tempDirName: join(tmpdir(), `switchyard-stryker-${process.pid}`),
  concurrency: Number(process.env.MUTATE_CONCURRENCY || 2),
  timeoutMS: 10000,
  reporters: ['json', 'html', 'clear-text', 'progress-append-only'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false, reportScoreTable: true },
  thresholds: { high: 85, low: 70, break: null },
  cleanTempDir: 'always',
  // `npm run mutate -- --incremental`: Stryker's incremental mode. It reads the committed report of
  // the last full run of these groups (test/mutation-baseline/), runs again only the mutants whose
  // code or covering test files changed since, and rewrites that file. CI uses it for the stats
  // group; a run without the flag tests every mutant.
  incremental: process.env.MUTATE_INCREMENTAL === '1',
  incrementalFile: join('test', 'mutation-baseline', `${selected.join('+')}.json`),
};
