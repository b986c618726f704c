/**
 * The public entry `'switchyard'` as users load it: plain Node (CommonJS `require`, ESM
 * `import`), tsx, and TypeScript 5.0 with node10 resolution (tslab's compiler, as a notebook
 * cell sees it). One tfjs instance is shared with the user's own `@tensorflow/tfjs`; neither
 * tslab nor danfojs-node is loaded by the import; the declarations have no `.ts` specifiers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { staleInputs, tsFiles } from '../kernel-lib/util/build-freshness.ts';

const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

/** The script body shared by the CJS and ESM probes: prints one JSON line. */
const PROBE = `
const names = ['MoeLayer', 'useBackend', 'train', 'readMetrics', 'resolveTrainConfig', 'loadCorpus', 'TransformerLM', 'runCase',
  'showFigure', 'showTable', 'showDevice', 'progressDisplay', 'toDataFrame', 'renderReportHtml', 'writeReport', 'projectRoot'];
const device = await sy.useBackend('cpu', { log: false });
// A tensor made with the user's tfjs goes through the library, and the library's backend choice is the user's.
const loss = tf.tidy(() => sy.balanceLoss(tf.fill([8, 4], 0.25), tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32')).dataSync()[0]);
const loaded = Object.keys(require.cache);
console.log(JSON.stringify({
  missing: names.filter((n) => typeof sy[n] !== 'function'),
  backend: tf.getBackend(), device: device.backend, loss, tensors: tf.memory().numTensors,
  tslab: loaded.some((p) => p.includes('/node_modules/tslab/')), danfo: loaded.some((p) => p.includes('/node_modules/danfojs-node/')),
  entry: require.resolve('switchyard'), cacheDir: sy.DEFAULT_CACHE_DIR,
}));
`;

function run(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, SWITCHYARD_BACKEND: '' } });
  assert.equal(r.status, 0, `node ${args.join(' ')} failed:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /older than/, 'the build is stale: npm test rebuilds it first');
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

function assertProbe(out: Record<string, unknown>) {
  assert.deepEqual(out.missing, []);
  assert.equal(out.backend, 'cpu', "the user's tfjs does not see the library's backend: two tfjs instances");
  assert.equal(out.device, 'cpu');
  assert.ok(Math.abs((out.loss as number) - 1) < 1e-6, `balance loss of uniform routing ${out.loss}`);
  assert.equal(out.tensors, 0);
  assert.equal(out.tslab, false, 'importing switchyard loaded tslab');
  assert.equal(out.danfo, false, 'importing switchyard loaded danfojs-node');
  assert.equal(out.entry, join(ROOT, 'dist', 'switchyard.cjs'));
  assert.equal(out.cacheDir, join(ROOT, '.cache', 'brown'), 'paths from the bundle must resolve from the project root');
}

describe("the 'switchyard' entry", () => {
  let dir: string;
  before(() => {
    const b = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts', '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    // Inside the project (where 'switchyard' resolves to the project itself); notebooks/ also has the link tslab needs.
    dir = mkdtempSync(join(ROOT, 'notebooks', '.entry-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('CommonJS require', () => {
    writeFileSync(join(dir, 'probe.cjs'), `const sy = require('switchyard');\nconst tf = require('@tensorflow/tfjs');\n(async () => {${PROBE}})();\n`);
    assertProbe(run(['probe.cjs'], dir));
  });

  test('ESM import (named exports)', () => {
    const names = 'useBackend, balanceLoss, DEFAULT_CACHE_DIR, MoeLayer';
    writeFileSync(
      join(dir, 'probe.mjs'),
      `import * as sy from 'switchyard';\nimport { ${names} } from 'switchyard';\nimport * as tf from '@tensorflow/tfjs';\nimport { createRequire } from 'node:module';\n` +
        `const require = createRequire(import.meta.url);\nif (typeof MoeLayer !== 'function' || useBackend !== sy.useBackend) throw new Error('named exports');\n${PROBE}`,
    );
    assertProbe(run(['probe.mjs'], dir));
  });

  test('tsx, with types', () => {
    writeFileSync(
      join(dir, 'probe.ts'),
      `import * as sy from 'switchyard';\nimport type { MoeConfig, Figure } from 'switchyard';\nimport * as tf from '@tensorflow/tfjs';\nimport { createRequire } from 'node:module';\n` +
        `const require = createRequire(import.meta.url);\nconst cfg: MoeConfig = sy.resolveMoeConfig({ dModel: 8, dFf: 16 });\nconst fig: Figure = { id: 'a', title: 'a', data: [], layout: {} };\nvoid cfg; void fig;\n` +
        PROBE.replace('typeof sy[n]', 'typeof (sy as Record<string, unknown>)[n]'),
    );
    assertProbe(run(['--import', 'tsx', 'probe.ts'], dir));
  });

  test("TypeScript 5.0 with node10 resolution (tslab's compiler) reads the declarations, and catches a type error", () => {
    const ts = createRequire(join(ROOT, 'node_modules', 'tslab', 'package.json'))('@tslab/typescript-for-tslab') as typeof import('typescript');
    assert.match(ts.version, /^5\.0\./);
    const file = join(dir, 'cell.ts');
    writeFileSync(
      file,
      `import * as tf from '@tensorflow/tfjs';\nimport { MoeLayer, showFigure, train, type TrainConfig } from 'switchyard';\n` +
        `const layer = new MoeLayer({ dModel: 8, dFf: 16, numExperts: 2 });\nconst y: tf.Tensor = layer.apply(tf.zeros([4, 8]), { training: false }).y;\n` +
        `showFigure({ id: 'f', title: 't', data: [], layout: {} });\nconst steps: TrainConfig['steps'] = 3;\nvoid train; void y; void steps;\n` +
        `const wrong: string = layer.config.numExperts;\n`,
    );
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts'],
      esModuleInterop: true,
      skipLibCheck: true,
      strict: true,
      noEmit: true,
    });
    const messages = ts.getPreEmitDiagnostics(program).map((d) => `${d.start !== undefined ? d.file?.getLineAndCharacterOfPosition(d.start).line : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    assert.equal(messages.length, 1, `expected only the planted error:\n${messages.join('\n')}`);
    assert.match(messages[0], /^7: Type 'number' is not assignable to type 'string'/);
  });

  test('declarations use .js specifiers only (node10 cannot read .ts ones)', () => {
    const offenders = [...tsFiles(join(ROOT, 'dist', 'types'))].filter((f) => /(['"])\.\.?\/[^'"]*\.ts\1/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  test('a build older than its sources is reported, naming the sources', () => {
    const root = mkdtempSync(join(dir, 'root-'));
    for (const p of ['kernel-lib/a.ts', 'dist/switchyard.cjs', 'dist/types/index.d.ts']) {
      spawnSync('mkdir', ['-p', join(root, p, '..')]);
      writeFileSync(join(root, p), '');
    }
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'kernel-lib/a.ts'), old, old);
    assert.deepEqual(staleInputs(root), []);
    utimesSync(join(root, 'dist/switchyard.cjs'), new Date(old.getTime() - 1000), new Date(old.getTime() - 1000));
    assert.deepEqual(staleInputs(root), ['kernel-lib/a.ts']);
    rmSync(join(root, 'dist/types/index.d.ts'));
    assert.deepEqual(staleInputs(root), ['dist/types/index.d.ts (missing)']);
  });
});
