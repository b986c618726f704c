// Backend-independent parts of the MoE core: capacity arithmetic, config validation, conformance
// case parsing, and a self-check of the float64 test reference against the fixtures (so the
// reference that judges the library is itself checked against an independent implementation).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expertChoiceCapacity, resolveMoeConfig, roundCapacity, tokenChoiceCapacity, MoeLayer, type MoeConfig } from '../kernel-lib/moe/index.ts';
import { parseCase, readCase } from '../kernel-lib/conformance/case.ts';
import { FIXTURE_DIR } from './helpers/moe-suite.ts';
import { finiteDifferences, flatten, paramNamesOf, referenceMoe, relError, type Nested, type RefConfig, type RefInputs } from './helpers/reference-moe.ts';

const tmp = mkdtempSync(join(tmpdir(), 'switchyard-moe-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('capacity arithmetic', () => {
  test('tokenChoiceCapacity = ceil(capacityFactor · k · T / E)', () => {
    assert.equal(tokenChoiceCapacity(1.0, 1, 16, 4), 4);
    assert.equal(tokenChoiceCapacity(1.25, 1, 16, 4), 5);
    assert.equal(tokenChoiceCapacity(1.25, 1, 10, 4), 4, 'ceil(3.125)');
    assert.equal(tokenChoiceCapacity(1.0, 2, 16, 4), 8);
    assert.equal(tokenChoiceCapacity(1.0, 2, 10, 3), 7, 'ceil(6.67)');
    assert.equal(tokenChoiceCapacity(0.25, 1, 16, 4), 1);
    assert.equal(tokenChoiceCapacity(0.1, 1, 4, 8), 1, 'ceil(0.05): never 0');
    assert.equal(tokenChoiceCapacity(0.5, 3, 10, 5), 3);
  });

  test('tokenChoiceCapacity is capped at T', () => {
    assert.equal(tokenChoiceCapacity(4, 2, 6, 2), 6, 'ceil(24) → T = 6');
    assert.equal(tokenChoiceCapacity(2, 1, 8, 1), 8, 'ceil(16) → T = 8');
    assert.equal(tokenChoiceCapacity(1, 1, 8, 1), 8);
  });

  test('tokenChoiceCapacity is null (no limit) for a null capacity factor', () => {
    assert.equal(tokenChoiceCapacity(null, 1, 16, 4), null);
    assert.equal(tokenChoiceCapacity(null, 2, 16, 4), null);
  });

  test('expertChoiceCapacity = min(T, ceil(capacityFactor · T / E)); null → T', () => {
    assert.equal(expertChoiceCapacity(1.0, 12, 3), 4);
    assert.equal(expertChoiceCapacity(0.5, 10, 4), 2, 'ceil(1.25)');
    assert.equal(expertChoiceCapacity(0.25, 16, 4), 1);
    assert.equal(expertChoiceCapacity(2.0, 10, 5), 4);
    assert.equal(expertChoiceCapacity(5, 12, 3), 12, 'min(12, 20)');
    assert.equal(expertChoiceCapacity(null, 12, 3), 12);
  });

  test('roundCapacity rounds a dropless load up to a multiple, at least 1, at most T', () => {
    assert.equal(roundCapacity(3, 64), 8);
    assert.equal(roundCapacity(8, 64), 8);
    assert.equal(roundCapacity(9, 64), 16);
    assert.equal(roundCapacity(0, 64), 1);
    assert.equal(roundCapacity(13, 10), 10, 'at most T');
    assert.equal(roundCapacity(5, 5, 4), 5, 'ceil(5/4)·4 = 8 → T = 5');
    assert.equal(roundCapacity(5, 64, 4), 8);
    assert.equal(roundCapacity(7, 64, 1), 7);
  });
});

describe('config validation', () => {
  const base = { dModel: 8, dFf: 16 };
  type Partial_ = Partial<MoeConfig> & Pick<MoeConfig, 'dModel' | 'dFf'>;
  const bad = (over: Record<string, unknown>): Partial_ => ({ ...base, ...over }) as unknown as Partial_;
  /** resolveMoeConfig and the MoeLayer constructor both throw, naming `field` and the bad value. */
  const rejects = (over: Record<string, unknown>, field: string, value: string) => {
    for (const [who, fn] of [
      ['resolveMoeConfig', () => resolveMoeConfig(bad(over))],
      ['MoeLayer', () => new MoeLayer(bad(over), { name: `bad-${field}-${value}` })],
    ] as const) {
      assert.throws(fn, (err: Error) => {
        assert.ok(err.message.includes(field), `${who}: ${JSON.stringify(err.message)} should name ${field}`);
        assert.ok(err.message.includes(value), `${who}: ${JSON.stringify(err.message)} should name the value ${value}`);
        return true;
      });
    }
  };

  test('defaults fill in and top1 forces k = 1', () => {
    const cfg = resolveMoeConfig({ ...base });
    assert.equal(cfg.router, 'top1');
    assert.equal(cfg.k, 1);
    assert.equal(cfg.dModel, 8);
    const topk = resolveMoeConfig({ ...base, router: 'topk', k: 2 });
    assert.equal(topk.k, 2);
  });

  test('numExperts 0', () => rejects({ numExperts: 0 }, 'numExperts', '0'));
  test('numExperts 2.5', () => rejects({ numExperts: 2.5 }, 'numExperts', '2.5'));
  test('k 0', () => rejects({ router: 'topk', k: 0 }, 'k', '0'));
  test('k > numExperts', () => rejects({ router: 'topk', k: 5, numExperts: 4 }, 'k', '5'));
  test('k > numExperts names numExperts too', () => rejects({ router: 'topk', k: 5, numExperts: 4 }, 'numExperts', '4'));
  test('capacityFactor 0', () => rejects({ capacityFactor: 0 }, 'capacityFactor', '0'));
  test('capacityFactor -1', () => rejects({ capacityFactor: -1 }, 'capacityFactor', '-1'));
  test('capacityFactor NaN', () => rejects({ capacityFactor: NaN }, 'capacityFactor', 'NaN'));
  test('capacityFactor Infinity', () => rejects({ capacityFactor: Infinity }, 'capacityFactor', 'Infinity'));
  test('evalCapacityFactor -1', () => rejects({ evalCapacityFactor: -1 }, 'evalCapacityFactor', '-1'));
  test('unknown router', () => rejects({ router: 'top2' }, 'router', 'top2'));
  test('unknown activation', () => rejects({ activation: 'swish' }, 'activation', 'swish'));
  test('unknown config key', () => rejects({ numExpert: 4 }, 'key', 'numExpert'));
  test('top1 with k = 2', () => rejects({ router: 'top1', k: 2 }, 'top1', '2'));
  test('jitterEps 2', () => rejects({ jitterEps: 2 }, 'jitterEps', '2'));
  test('unknown priority', () => rejects({ router: 'topk', k: 2, priority: 'fifo' }, 'priority', 'fifo'));

  test('capacityFactor null (dropless) is accepted', () => {
    assert.equal(resolveMoeConfig({ ...base, capacityFactor: null }).capacityFactor, null);
  });
});

describe('conformance case parsing', () => {
  const good = () => ({
    config: { router: 'top1', k: 1, capacityFactor: 1.0, activation: 'relu', balanceCoef: 0.01, zCoef: 0.001 },
    x: [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    routerWeight: [
      [1, 0, 0],
      [0, 1, 0],
    ],
    w1: [
      [[1], [2]],
      [[3], [4]],
      [[5], [6]],
    ],
    w2: [[[1, 2]], [[3, 4]], [[5, 6]]],
    cotangent: [
      [1, 1],
      [1, 1],
      [1, 1],
    ],
  });
  /** parseCase throws an error naming the case and every listed part (field, path, value). */
  const rejects = (raw: unknown, ...parts: string[]) => {
    assert.throws(
      () => parseCase(raw, 'case-x'),
      (err: Error) => {
        for (const p of ['case-x', ...parts]) assert.ok(err.message.includes(p), `${JSON.stringify(err.message)} should mention ${p}`);
        return true;
      },
    );
  };

  test('a well-formed case parses with its dims', () => {
    const c = parseCase(good(), 'ok');
    assert.deepEqual(c.dims, { T: 3, D: 2, E: 3, F: 1, S: 0, Fs: 0 });
    assert.equal(c.config.router, 'top1');
  });

  for (const field of ['config', 'x', 'routerWeight', 'w1', 'w2']) {
    test(`missing field '${field}'`, () => {
      const raw: Record<string, unknown> = good();
      delete raw[field];
      rejects(raw, field);
    });
  }

  test('ragged x', () => {
    const raw = good();
    raw.x[1] = [3, 4, 5];
    rejects(raw, 'x[1]', '3');
  });

  test('routerWeight with the wrong inner length (≠ D rows)', () => {
    const raw = good();
    raw.routerWeight.push([0, 0, 1]);
    rejects(raw, 'routerWeight', '3', '2');
  });

  test('w2 with the wrong inner length (≠ D)', () => {
    const raw = good();
    raw.w2[2][0] = [5];
    rejects(raw, 'w2[2][0]', '1', '2');
  });

  test('non-number entry', () => {
    const raw = good() as unknown as { w1: unknown[][][] };
    raw.w1[1][0][0] = 'three';
    rejects(raw, 'w1[1][0][0]', 'three');
  });

  test('non-finite entry (null in JSON)', () => {
    const raw = good() as unknown as { x: unknown[][] };
    raw.x[0][1] = null;
    rejects(raw, 'x[0][1]', 'null');
  });

  test('bad router', () => {
    const raw = good();
    raw.config.router = 'top-1';
    rejects(raw, 'router', 'top-1');
  });

  test('bad capacityFactor', () => {
    const raw = good() as unknown as { config: Record<string, unknown> };
    raw.config.capacityFactor = -2;
    rejects(raw, 'capacityFactor', '-2');
  });

  test('k larger than the number of experts', () => {
    const raw = good();
    raw.config.router = 'topk';
    raw.config.k = 4;
    rejects(raw, 'k', '4', '3');
  });

  test('cotangent of the wrong shape', () => {
    const raw = good();
    raw.cotangent.pop();
    rejects(raw, 'cotangent', '2', '3');
  });

  test('not an object', () => rejects([1, 2], 'object'));

  test('readCase on a missing file names the file', () => {
    const path = join(tmp, 'does-not-exist.json');
    assert.throws(() => readCase(path), (err: Error) => err.message.includes(path));
  });

  test('readCase on invalid JSON names the file', () => {
    const path = join(tmp, 'broken.json');
    writeFileSync(path, '{"config": {"router": "top1"}, "x": [[1, 2],');
    assert.throws(() => readCase(path), (err: Error) => err.message.includes(path) && /JSON/.test(err.message));
  });

  test('readCase on a malformed case names the file and the field', () => {
    const path = join(tmp, 'malformed.json');
    const raw = good() as unknown as Record<string, unknown>;
    delete raw.w2;
    writeFileSync(path, JSON.stringify(raw));
    assert.throws(() => readCase(path), (err: Error) => err.message.includes('malformed.json') && err.message.includes('w2'));
  });
});

// The format's own extension examples (top1-bias.json, top2-shared.json, from its independent
// reference) check the test reference's router bias and shared experts; the ext-*.json cases were
// written by the test reference (test/helpers/extension-cases.ts).
describe('the test reference reproduces the fixtures (self-check of test/helpers/reference-moe.ts)', () => {
  const files = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json'));
  for (const file of files) {
    test(file, () => {
      const c = readCase(join(FIXTURE_DIR, file));
      assert.ok(c.expected);
      const cfg: RefConfig = { ...c.config };
      const inputs: RefInputs = { x: c.x, routerWeight: c.routerWeight, w1: c.w1, w2: c.w2, routerBias: c.routerBias, sharedW1: c.sharedW1, sharedW2: c.sharedW2 };
      const ref = referenceMoe(cfg, inputs);
      const e = c.expected;
      assert.ok(relError(ref.y, e.y) <= 1e-6, `y: ${relError(ref.y, e.y)}`);
      assert.deepEqual(ref.expertIndex, e.expertIndex);
      assert.deepEqual(ref.expertCounts, e.expertCounts);
      for (const f of ['droppedFraction', 'balanceLoss', 'zLoss'] as const) assert.ok(Math.abs(ref[f] - e[f]) <= 1e-6, `${f}: ${ref[f]} vs ${e[f]}`);
      // Finite differences of the reference loss agree with the fixture's gradients (forward-only cases: the ties).
      assert.equal(e.grads !== undefined, c.cotangent !== undefined);
      if (!e.grads || !c.cotangent) return;
      for (const name of paramNamesOf(inputs)) {
        const n = flatten(inputs[name] as Nested).length;
        const entries = Array.from({ length: Math.min(n, 24) }, (_, i) => Math.floor((i * n) / Math.min(n, 24)));
        const { fd } = finiteDifferences(cfg, inputs, c.cotangent, name, 1e-6, entries);
        const want = flatten(e.grads[name as keyof typeof e.grads] as Nested);
        const got = entries.filter((i) => fd[i] !== null);
        assert.ok(got.length >= entries.length / 2, `${name}: too few stable entries`);
        const err = relError(
          got.map((i) => fd[i] as number),
          got.map((i) => want[i]),
        );
        assert.ok(err <= 1e-5, `${name}: finite differences vs fixture gradients, relative error ${err}`);
      }
    });
  }
});
