/**
 * The command line as a user runs it: stdout carries only the command's output (JSON lines where
 * asked), logs go to stderr, bad input exits non-zero with a message naming the bad value.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'kernel-lib/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SWITCHYARD_BACKEND: '' } });
  const lines = r.stdout.split('\n').filter((l) => l.trim());
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines };
}

function jsonLines(out: { lines: string[]; stdout: string }) {
  return out.lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new Error(`stdout line is not JSON: ${l}\n--- stdout ---\n${out.stdout}`);
    }
  });
}

const fixtures = readdirSync(join(ROOT, 'test/fixtures/conformance')).map((f) => join('test/fixtures/conformance', f)).sort();

describe('cli', () => {
  test('conformance: one JSON object per case on stdout, every output field, all passing', () => {
    const out = cli('conformance', '--backend', 'cpu', ...fixtures);
    assert.equal(out.code, 0, out.stderr);
    const rows = jsonLines(out);
    assert.equal(rows.length, fixtures.length);
    for (const r of rows) {
      // Gradients where the case asks for them (a cotangent): the tie cases are forward only.
      const withGrads = 'cotangent' in JSON.parse(readFileSync(join(ROOT, 'test/fixtures/conformance', String(r.case)), 'utf8'));
      for (const f of ['y', 'expertIndex', 'expertCounts', 'droppedFraction', 'balanceLoss', 'zLoss', 'backend', 'device']) assert.ok(f in r, `field ${f} missing in ${String(r.case)}`);
      assert.equal('grads' in r, withGrads, `${String(r.case)}: grads ${withGrads ? 'missing' : 'without a cotangent'}`);
      assert.equal(r.backend, 'cpu');
      assert.equal((r.check as { pass: boolean }).pass, true, JSON.stringify(r.check));
    }
    assert.match(out.stderr, /backend cpu on/);
  });

  test('conformance: a malformed case file exits non-zero and names the file and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
    const bad = join(dir, 'ragged.json');
    writeFileSync(bad, JSON.stringify({ config: { router: 'top1', k: 1, capacityFactor: 1, activation: 'relu', balanceCoef: 0, zCoef: 0 }, x: [[1, 2], [3]], routerWeight: [[1], [1]], w1: [[[1], [1]]], w2: [[[1, 1]]] }));
    const out = cli('conformance', '--backend', 'cpu', bad);
    assert.equal(out.code, 2);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, /ragged\.json: x\[1\] has 1 entries, expected 2/);
    const missing = cli('conformance', '--backend', 'cpu', join(dir, 'nope.json'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.json: cannot read/);
  });

  test('bench moe-layer --json: a dense line and one line per expert count, with the documented fields', () => {
    const out = cli('bench', 'moe-layer', '--backend', 'cpu', '--tokens', '64', '--d-model', '16', '--d-ff', '32', '--experts', '1,4', '--repeats', '1', '--warmup', '0', '--json');
    assert.equal(out.code, 0, out.stderr);
    const rows = jsonLines(out);
    assert.deepEqual(rows.map((r) => [r.kind, r.experts]), [['dense', 1], ['moe', 1], ['moe', 4]]);
    for (const r of rows) {
      for (const f of ['router', 'experts', 'tokens', 'dModel', 'dFf', 'backend', 'device', 'medianMs', 'gflops']) assert.ok(f in r, `field ${f} missing`);
      assert.ok((r.medianMs as number) > 0 && (r.gflops as number) > 0, 'positive time and rate');
    }
    assert.equal(rows[2].capacity, 20, 'C = ceil(1.25 · 64 / 4)');
    for (const r of rows.slice(1)) {
      const [filled, computed, E, C] = [r.filledSlots, r.rowsComputed, r.experts, r.capacity] as number[];
      assert.ok(filled > 0 && filled <= Math.min(64, E * C), `filled slots ${filled} within (0, min(T, E·C)]`);
      assert.equal(computed, E * C, 'cpu has no slot-skipping kernel: every slot is computed');
    }
  });

  test('bench moe-layer on wasm counts only the filled slots as computed', () => {
    const out = cli('bench', 'moe-layer', '--backend', 'wasm', '--tokens', '64', '--d-model', '16', '--d-ff', '32', '--experts', '8', '--repeats', '1', '--warmup', '0', '--json');
    assert.equal(out.code, 0, out.stderr);
    const [, moe] = jsonLines(out);
    assert.equal(moe.rowsComputed, moe.filledSlots);
    assert.ok((moe.filledSlots as number) <= 64, `${moe.filledSlots} slots filled by 64 tokens (top-1)`);
  });

  test('bench train-step --json: dense, top1 and top2 at equal active FLOPs', () => {
    const out = cli('bench', 'train-step', '--backend', 'wasm', '--d-model', '16', '--d-ff', '32', '--num-layers', '2', '--num-heads', '2', '--experts', '4', '--seq-len', '8', '--batch-size', '2', '--vocab-size', '50', '--repeats', '1', '--warmup', '0', '--json');
    assert.equal(out.code, 0, out.stderr);
    const rows = jsonLines(out);
    assert.deepEqual(rows.map((r) => r.model), ['dense', 'top1', 'top2']);
    const flops = rows.map((r) => r.trainingFlopsPerToken as number);
    assert.equal(flops[1], flops[2], 'top-1 and top-2 (experts of width F/2) have equal active FLOPs');
    assert.ok(Math.abs(flops[1] - flops[0]) / flops[0] < 0.02, `MoE and dense FLOPs differ only by the router: ${flops}`);
    assert.equal(rows[0].vsDense, 1);
  });

  test('device prints the device record as JSON', () => {
    const out = cli('device', '--backend', 'cpu');
    assert.equal(out.code, 0, out.stderr);
    const [info] = jsonLines(out);
    assert.equal(info.backend, 'cpu');
    assert.equal(info.gpu, false);
  });

  test('bad options and values exit 2 with the bad value named', () => {
    const cases: [string[], RegExp][] = [
      [['bench', 'moe-layer', '--bogus', '1'], /unknown option '--bogus'/],
      [['bench', 'moe-layer', '--experts', '1,x'], /--experts: expected comma-separated integers, got '1,x'/],
      [['bench', 'moe-layer', '--capacity-factor', 'big'], /--capacity-factor: expected a number or 'null'/],
      [['bench', 'nope'], /unknown benchmark 'nope'/],
      [['device', '--backend', 'gpu'], /--backend: expected one of auto, webgpu, tensorflow, wasm, cpu, got 'gpu'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['train', '--steps=abc'], /--steps: expected a number, got 'abc'/],
      [['train', '--routr=top1'], /unknown config key 'routr'/],
      [['train', '--config', 'missing.ts'], /config file missing\.ts does not exist/],
    ];
    for (const [args, re] of cases) {
      const out = cli(...args);
      assert.equal(out.code, 2, `${args.join(' ')}: exit ${out.code}`);
      assert.equal(out.stdout, '', `${args.join(' ')}: stdout must stay empty`);
      assert.match(out.stderr, re, `${args.join(' ')}`);
    }
  });
});
