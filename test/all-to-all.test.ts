/**
 * The expert-parallel all-to-all cost (kernel-lib/moe/all-to-all.ts) against cases computed by
 * hand, the layouts it refuses, and docs/scaling-out.md's worked examples against the function.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allToAllCost, type AllToAllConfig } from '../kernel-lib/moe/all-to-all.ts';
import { scalingOutTable } from '../scripts/scaling-out-table.ts';
import { ROOT } from './helpers/proc.ts';

const base: AllToAllConfig = { experts: 8, tokens: 1024, dModel: 16, k: 1, capacityFactor: 1.0, devices: 4, bytesPerElement: 4 };

describe('all-to-all bytes of an expert-parallel Switch layer', () => {
  test('capacity factor 1, k = 1: the buffer is exactly the tokens; 3/4 of it leaves each device', () => {
    // 4 devices × 256 tokens, one group each; C = ceil(1 · 256 / 8) = 32.
    // Buffer 4 · 8 · 32 · 16 = 16384 elements; 3/4 cross: 12288 elements · 4 B = 49152 B per all-to-all.
    const r = allToAllCost(base);
    assert.equal(r.capacity, 32);
    assert.equal(r.groups, 4);
    assert.equal(r.bufferElements, 16384);
    assert.equal(r.bytesPerAllToAll, 49152);
    assert.equal(r.bytesPerDevicePerAllToAll, 12288);
    assert.equal(r.allToAllsPerStep, 4);
    assert.equal(r.bytesPerStep, 196608);
    assert.equal(r.bytesPerDevicePerStep, 49152);
    assert.equal(r.payloadBytesPerStep, 196608, 'no padding at capacity factor 1 with T/P divisible by E');
  });

  test('capacity factor 1.25 pads every expert to C = 40; k = 2 doubles the slots', () => {
    const cf = allToAllCost({ ...base, capacityFactor: 1.25 });
    assert.equal(cf.capacity, 40); // ceil(1.25 · 256 / 8)
    assert.equal(cf.bytesPerAllToAll, 61440); // 4 · 8 · 40 · 16 · 3/4 · 4
    assert.equal(cf.payloadBytesPerStep, 196608, 'the tokens themselves do not change with the capacity factor');
    const k2 = allToAllCost({ ...base, capacityFactor: 1.25, k: 2 });
    assert.equal(k2.capacity, 80); // ceil(1.25 · 2 · 256 / 8)
    assert.equal(k2.bytesPerAllToAll, 122880);
    assert.equal(k2.payloadBytesPerStep, 393216); // 2 · 1024 · 16 · 4 · 3/4 · 4
  });

  test('capacity rounds up per group: 6 experts, 100-token groups on 3 devices', () => {
    // C = ceil(100 / 6) = 17; buffer 3 · 6 · 17 · 10 = 3060 elements; 2/3 cross at 2 B: 4080 B.
    // The tokens alone: 300 · 10 · 2 · 2/3 = 4000 B.
    const r = allToAllCost({ experts: 6, tokens: 300, dModel: 10, capacityFactor: 1, devices: 3 });
    assert.equal(r.capacity, 17);
    assert.equal(r.bufferElements, 3060);
    assert.equal(r.bytesPerAllToAll, 4080);
    assert.equal(r.payloadBytesPerStep, 16000);
    assert.equal(r.bytesPerStep, 16320);
    // 7 experts on 7 devices, 100 tokens each: 100/7 = 14.3 slots, rounded up (not to the nearest) to 15.
    // Buffer 7 · 7 · 15 · 4 = 2940 elements; 6/7 cross at 2 B: 5040 B. The tokens alone: 700 · 4 · 2 · 6/7 = 4800 B.
    const up = allToAllCost({ experts: 7, tokens: 700, dModel: 4, capacityFactor: 1, devices: 7 });
    assert.equal(up.capacity, 15);
    assert.equal(up.bytesPerAllToAll, 5040);
    assert.equal(up.payloadBytesPerStep, 4 * 4800);
  });

  test('smaller groups, more layers; one device moves nothing; dropless moves the payload; C is capped at the group', () => {
    const groups = allToAllCost({ ...base, groupSize: 64 });
    assert.equal(groups.groups, 16);
    assert.equal(groups.capacity, 8); // ceil(64 / 8)
    assert.equal(groups.bytesPerAllToAll, 49152, 'same bytes as one group per device when nothing rounds');
    const layers = allToAllCost({ ...base, moeLayers: 3 });
    assert.equal(layers.allToAllsPerStep, 12);
    assert.equal(layers.bytesPerStep, 3 * 196608);
    const one = allToAllCost({ ...base, devices: 1 });
    assert.equal(one.bytesPerStep, 0);
    assert.equal(one.payloadBytesPerStep, 0);
    const dropless = allToAllCost({ ...base, capacityFactor: null });
    assert.equal(dropless.capacity, null);
    assert.equal(dropless.bufferElements, 0);
    assert.equal(dropless.bytesPerStep, dropless.payloadBytesPerStep);
    assert.equal(dropless.bytesPerStep, 196608);
    const capped = allToAllCost({ experts: 2, tokens: 8, dModel: 1, capacityFactor: 8, devices: 2, groupSize: 4 });
    assert.equal(capped.capacity, 4); // min(4, ceil(8 · 4 / 2) = 16)
  });

  test('impossible layouts are refused, naming the value', () => {
    const refused = (c: Partial<AllToAllConfig>, re: RegExp) => assert.throws(() => allToAllCost({ ...base, ...c }), re);
    refused({ devices: 3 }, /8 experts cannot be spread evenly over 3 devices/);
    refused({ experts: 12, devices: 3, tokens: 1000 }, /1000 tokens cannot be split evenly over 3 devices/);
    refused({ groupSize: 100 }, /a group of 100 tokens does not divide a device's 256 tokens/);
    refused({ k: 9 }, /k = 9 exceeds the 8 experts/);
    refused({ capacityFactor: 0 }, /capacityFactor must be a number > 0 or null/);
    refused({ dModel: 1.5 }, /dModel \(D\) must be an integer ≥ 1, got 1\.5/);
    refused({ devices: 0 }, /devices \(P\) must be an integer ≥ 1, got 0/);
  });
});

test("docs/scaling-out.md's worked examples are the function's output", () => {
  const doc = readFileSync(join(ROOT, 'docs', 'scaling-out.md'), 'utf8');
  const m = /<!-- table: scripts\/scaling-out-table\.ts -->\n([\s\S]*?)\n<!-- end of table -->/.exec(doc);
  assert.ok(m, 'docs/scaling-out.md has no generated table between its markers');
  assert.equal(m[1], scalingOutTable(), 'the table differs from `npx tsx scripts/scaling-out-table.ts`: regenerate it');
});
