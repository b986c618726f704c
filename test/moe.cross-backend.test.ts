// The same random MoE layer and input, forward and gradients, on cpu, wasm and webgpu in one
// process: results are read back to plain arrays before each backend switch and must agree
// within 1e-4 relative (routing decisions exactly).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../kernel-lib/backend/index.ts';
import { runLibrary, type LibOutput } from './helpers/lib-moe.ts';
import { PARAM_NAMES, randomCase, relError, type RefConfig, type Shape } from './helpers/reference-moe.ts';

const BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
type Backend = (typeof BACKENDS)[number];
const TOL = 1e-4;

const cfg = (router: RefConfig['router'], k: number, capacityFactor: number | null, activation: RefConfig['activation'] = 'relu'): RefConfig => ({
  router,
  k,
  capacityFactor,
  activation,
  balanceCoef: 0.1,
  zCoef: 0.01,
});

const SHAPE: Shape = { T: 16, D: 8, E: 4, F: 6 };
const CASES: { label: string; cfg: RefConfig; seed: number }[] = [
  { label: 'top1 cf 1.0', cfg: cfg('top1', 1, 1.0), seed: 201 },
  { label: 'top1 cf 0.5 (dropping)', cfg: cfg('top1', 1, 0.5), seed: 202 },
  { label: 'top2 cf 1.0', cfg: cfg('topk', 2, 1.0), seed: 203 },
  { label: 'top3 cf 0.5 (dropping)', cfg: cfg('topk', 3, 0.5), seed: 204 },
  { label: 'expert-choice cf 1.0', cfg: cfg('expert-choice', 1, 1.0), seed: 205 },
  { label: 'expert-choice cf 0.5', cfg: cfg('expert-choice', 1, 0.5), seed: 206 },
  { label: 'top2 gelu', cfg: cfg('topk', 2, 1.25, 'gelu'), seed: 207 },
  { label: 'top1 dropless', cfg: cfg('top1', 1, null), seed: 208 },
];

function compare(a: LibOutput, b: LibOutput, droplessCase: boolean, T: number): string[] {
  const f: string[] = [];
  const rel = (field: string, x: unknown, y: unknown) => {
    const err = relError(x as number[], y as number[]);
    if (!(err <= TOL)) f.push(`${field}: relative error ${err.toExponential(2)}`);
  };
  const exact = (field: 'expertIndex' | 'expertCounts' | 'countsBefore') => {
    if (a[field].join(',') !== b[field].join(',')) f.push(`${field}: [${a[field].join(',')}] vs [${b[field].join(',')}]`);
  };
  const scalar = (field: 'droppedFraction' | 'balanceLoss' | 'zLoss' | 'entropy') => {
    const d = Math.abs(a[field] - b[field]);
    if (!(d <= TOL * Math.max(1, Math.abs(b[field])))) f.push(`${field}: ${a[field]} vs ${b[field]}`);
  };
  rel('y', a.y, b.y);
  exact('expertIndex');
  exact('expertCounts');
  exact('countsBefore');
  for (const s of ['droppedFraction', 'balanceLoss', 'zLoss', 'entropy'] as const) scalar(s);
  // Dropless capacity is the largest load where the backend can read it synchronously, and T on
  // webgpu (no synchronous read in Node); the outputs must agree either way.
  const dropless = a.capacity !== b.capacity && (a.capacity === T || b.capacity === T) && droplessCase;
  if (a.capacity !== b.capacity && !dropless) f.push(`capacity: ${a.capacity} vs ${b.capacity}`);
  if (!a.grads || !b.grads) f.push('gradients missing');
  else for (const p of PARAM_NAMES) rel(`grads.${p}`, a.grads[p], b.grads[p]);
  return f;
}

describe('cpu, wasm and webgpu agree (forward and gradients, one process)', () => {
  before(async () => {
    // Every backend must start: a missing one is a failure, not a skip.
    for (const b of BACKENDS) {
      try {
        await useBackend(b, { log: false });
      } catch (err) {
        throw new Error(`backend '${b}' is unavailable: ${(err as Error).message}`);
      }
    }
  });

  for (const c of CASES) {
    test(c.label, async () => {
      const { inputs, cotangent } = randomCase(c.cfg, SHAPE, c.seed);
      const results = {} as Record<Backend, LibOutput>;
      const errors: string[] = [];
      for (const b of BACKENDS) {
        await useBackend(b, { log: false });
        assert.equal(tf.getBackend(), b);
        try {
          results[b] = await runLibrary(c.cfg, inputs, { cotangent });
        } catch (err) {
          errors.push(`${b}: ${(err as Error).message}`);
        }
      }
      assert.deepEqual(errors, [], `the layer failed on: ${errors.join('; ')}`);
      const failures: string[] = [];
      for (const b of ['wasm', 'webgpu'] as const) for (const line of compare(results[b], results.cpu, c.cfg.capacityFactor === null, results.cpu.y.length)) failures.push(`${b} vs cpu: ${line}`);
      assert.deepEqual(failures, [], failures.join('\n'));
    });
  }
});
