/**
 * A sweep's folder is named by a hash of its definition (kernel-lib/exp/sweep-file.ts). Settings
 * added to the schema later must not move the folders of sweeps defined before them: those keep
 * resuming under newer code. Set away from their default, they define another comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definitionKey } from '../kernel-lib/exp/sweep-file.ts';
import { presetSweep } from '../kernel-lib/exp/orchestrate.ts';
import { getExperiment, PRESETS } from '../experiments/index.ts';

const sweep = presetSweep(getExperiment('scaling'), PRESETS.quick, 'wasm');
const keyOf = (edit: (c: Record<string, unknown>) => Record<string, unknown>) =>
  definitionKey('scaling', 'quick', 'x steps', sweep.runs.map((r) => ({ ...r, config: edit({ ...r.config }) as typeof r.config })));

test('settings added later (shared experts, router bias rate) leave the key alone at their default', () => {
  const now = keyOf((c) => c);
  const without = keyOf(({ numSharedExperts: _s, sharedDff: _d, biasUpdateRate: _b, ...rest }) => rest);
  assert.equal(now, without, 'a config saved before these settings existed must hash the same');
});

test('set away from their default, they change the key; so does any other setting', () => {
  const now = keyOf((c) => c);
  for (const edit of [{ biasUpdateRate: 0.001 }, { numSharedExperts: 1 }, { numSharedExperts: 1, sharedDff: 32 }, { balanceCoef: 0.02 }]) {
    assert.notEqual(keyOf((c) => ({ ...c, ...edit })), now, JSON.stringify(edit));
  }
});

test('initFrom (sparse upcycling), unset by default, is absent from the key until set', () => {
  const now = keyOf((c) => c);
  // Absent, not present as undefined: the resolved config equals the JSON it is written to (slurm-emit compares them).
  assert.ok(sweep.runs.every((r) => !('initFrom' in r.config)), 'a resolved config holds no unset initFrom');
  assert.ok(sweep.runs.every((r) => !JSON.stringify(r.config).includes('initFrom')), 'an unset initFrom is written nowhere');
  assert.equal(keyOf(({ initFrom: _i, ...rest }) => rest), now, 'a config saved before initFrom existed must hash the same');
  assert.notEqual(keyOf((c) => ({ ...c, initFrom: 'runs/dense' })), now);
});
