/**
 * scripts/check-imports.ts (run by `npm run lint`) on synthetic trees in a temporary folder: a
 * circle of imports (static, type-only, re-export, `import()` and `import('…')` types), imports
 * that run back up the floors or sideways, a folder on no floor, and files around the line limit.
 * Each must fail naming the chain; a clean tree passes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkHouse, MAX_LINES } from '../scripts/check-imports.ts';

const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const made: string[] = [];
after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A tree of the given files (path → text) in a new temporary folder. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'check-imports-'));
  made.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const headlines = (dir: string) => checkHouse(dir).problems.map((p) => p[0]);

describe('scripts/check-imports.ts', () => {
  test('a circle fails the command, which prints the chain with its lines', () => {
    const dir = tree({
      'kernel-lib/moe/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'kernel-lib/moe/b.ts': "\nimport type { A } from './a.ts';\nexport const b = 1;\nexport type B = A;\n",
    });
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/check-imports.ts'), '--root', dir], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /CIRCLE of 2 files: kernel-lib\/moe\/a\.ts → kernel-lib\/moe\/b\.ts → kernel-lib\/moe\/a\.ts\n/);
    assert.match(r.stdout, / {2}kernel-lib\/moe\/a\.ts:1 imports kernel-lib\/moe\/b\.ts\n/);
    assert.match(r.stdout, / {2}kernel-lib\/moe\/b\.ts:2 imports kernel-lib\/moe\/a\.ts \(types only\)\n/);
    assert.match(r.stdout, /1 offence, 0 pending/);
  });

  test('a clean tree passes', () => {
    const dir = tree({
      'kernel-lib/moe/a.ts': "import { b } from './b.ts';\nimport { u } from '../util/u.ts';\nexport const a = b + u;\n",
      'kernel-lib/moe/b.ts': 'export const b = 1;\n',
      'kernel-lib/util/u.ts': 'export const u = 2;\n',
      'kernel-lib/backend/k.ts': "import { u } from '../util/u.ts';\nexport const k = u;\n",
      'experiments/x/sweep.ts': "import { a } from '../../kernel-lib/moe/a.ts';\nexport const x = a;\n",
    });
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/check-imports.ts'), '--root', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /check-imports: 5 files of kernel-lib\/, experiments\/ on \d+ floors; 0 offences/);
  });

  test('a longer circle through re-exports, import() and import types, across folders', () => {
    const dir = tree({
      'kernel-lib/train/t.ts': "export * from '../model/m.ts';\n",
      'kernel-lib/model/m.ts': "export const m = () => import('../moe/e.ts');\n",
      'kernel-lib/moe/e.ts': "export type T = typeof import('../train/t.ts');\n",
    });
    const [circle, ...rest] = checkHouse(dir).problems;
    assert.deepEqual(circle, [
      'CIRCLE of 3 files: kernel-lib/model/m.ts → kernel-lib/moe/e.ts → kernel-lib/train/t.ts → kernel-lib/model/m.ts',
      '  kernel-lib/model/m.ts:1 imports kernel-lib/moe/e.ts',
      '  kernel-lib/moe/e.ts:1 imports kernel-lib/train/t.ts (types only)',
      '  kernel-lib/train/t.ts:1 imports kernel-lib/model/m.ts',
    ]);
    // the circle's upward import is also an import that runs back up
    assert.deepEqual(rest.map((p) => p[0]), [
      'BACK UP: kernel-lib/moe/e.ts → kernel-lib/train/t.ts: kernel-lib/moe/ (floor 5) imports kernel-lib/train/ (floor 7); the import runs back up',
    ]);
  });

  test('imports that run back up or sideways fail, naming both floors and the line', () => {
    const dir = tree({
      'kernel-lib/backend/w.ts': "import { EXPERT } from '../moe/names.ts';\nexport const w = EXPERT;\n",
      'kernel-lib/moe/names.ts': "export const EXPERT = 'x';\n",
      'kernel-lib/report/html.ts': "\n\nimport { show } from '../display/show.ts';\nexport const h = show;\n",
      'kernel-lib/display/show.ts': 'export const show = 1;\n',
      'kernel-lib/data/d.ts': "import { EXPERT } from '../moe/names.ts';\nexport const d = EXPERT;\n",
    });
    const found = checkHouse(dir).problems;
    assert.deepEqual(found, [
      [
        'BACK UP: kernel-lib/backend/w.ts → kernel-lib/moe/names.ts: kernel-lib/backend/ (floor 3) imports kernel-lib/moe/ (floor 5); the import runs back up',
        '  kernel-lib/backend/w.ts:1 imports kernel-lib/moe/names.ts',
      ],
      [
        'BACK UP: kernel-lib/data/d.ts → kernel-lib/moe/names.ts: kernel-lib/data/ (floor 5) imports kernel-lib/moe/ (floor 5); the import runs sideways',
        '  kernel-lib/data/d.ts:1 imports kernel-lib/moe/names.ts',
      ],
      [
        'BACK UP: kernel-lib/report/html.ts → kernel-lib/display/show.ts: kernel-lib/report/ (floor 8) imports kernel-lib/display/ (floor 10); the import runs back up',
        '  kernel-lib/report/html.ts:3 imports kernel-lib/display/show.ts',
      ],
    ]);
  });

  test('a folder on no floor fails until it is given one', () => {
    assert.deepEqual(headlines(tree({ 'kernel-lib/attic/old.ts': 'export const old = 1;\n' })), [
      'NO FLOOR: kernel-lib/attic/old.ts stands on no floor of scripts/check-imports.ts FLOORS: give its folder one',
    ]);
  });

  test(`a source file over ${MAX_LINES} lines fails; ${MAX_LINES} lines, tests and package imports pass`, () => {
    const lines = (n: number) => 'export const x = 1;\n'.repeat(n);
    const dir = tree({
      'kernel-lib/util/long.ts': lines(MAX_LINES + 1),
      'kernel-lib/util/full.ts': `import * as tf from '@tensorflow/tfjs';\n${lines(MAX_LINES - 2)}export const t = tf;\n`,
      'scripts/tool.sh': 'echo\n'.repeat(MAX_LINES + 5),
      'test/long.test.ts': lines(MAX_LINES * 2),
    });
    assert.deepEqual(headlines(dir), [
      `TOO LONG: kernel-lib/util/long.ts has ${MAX_LINES + 1} lines (at most ${MAX_LINES})`,
      `TOO LONG: scripts/tool.sh has ${MAX_LINES + 5} lines (at most ${MAX_LINES})`,
    ]);
  });

  test('pending offences (work under way) are reported apart and do not fail; the project itself passes', () => {
    const dir = tree({
      'kernel-lib/train/a.ts': "import { b } from './b.ts';\nexport const a = b;\n",
      'kernel-lib/train/b.ts': "import type { a } from './a.ts';\nexport const b = 1;\nexport type A = typeof a;\n",
    });
    const waiting = [{ circleWithin: 'kernel-lib/train/', why: 'issue 17' }, { tooLong: 'kernel-lib/util/gone.ts', why: 'split' }];
    const found = checkHouse(dir, waiting);
    assert.deepEqual(found.problems, []);
    assert.deepEqual(found.stale, ['kernel-lib/util/gone.ts is no longer too long']);
    assert.equal(checkHouse(dir, []).problems.length, 1, 'without its entry the circle fails');
    assert.equal(found.pending.length, 1);
    assert.match(found.pending[0][0], /^CIRCLE of 2 files: kernel-lib\/train\/a\.ts → kernel-lib\/train\/b\.ts → kernel-lib\/train\/a\.ts$/);
    assert.match(found.pending[0].at(-1)!, /pending: issue 17/);
    assert.deepEqual(checkHouse(ROOT).problems, []);
  });
});
