/**
 * test/helpers/failures-reporter.mjs: a failing hook's run ends saying what failed (node's own
 * summary reads `# fail 0`, the hook's tests "cancelled").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const reporter = join(import.meta.dirname, 'helpers', 'failures-reporter.mjs');
// Without the test runner's own marker: the child is a run of its own, not one of our subtests.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));

function runTests(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-reporter-'));
  for (const [name, src] of Object.entries(files)) writeFileSync(join(dir, name), src);
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', '--test-reporter-destination=stdout', `--test-reporter=${reporter}`, '--test-reporter-destination=stderr', ...Object.keys(files)], { cwd: dir, encoding: 'utf8', env: childEnv });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a failing before hook: node says "# fail 0"; the reporter names the suite, the hook and its error, and counts the cancelled tests', () => {
  const r = runTests({
    'hook.test.mjs': `import { before, describe, test } from 'node:test';
describe('webgpu suite', () => {
  before(() => { throw new Error('no WebGPU adapter: install lavapipe'); });
  test('t1', () => {});
  test('t2', () => {});
});
`,
  });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^# fail 0$/m, 'node\'s own summary (the reason for this reporter)');
  assert.match(r.stdout, /^# cancelled 2$/m);
  assert.equal(r.stderr.trim(), '# failed: 1, and 2 test(s) cancelled because a hook or parent failed\n#   ✖ hook.test.mjs: webgpu suite (hook): no WebGPU adapter: install lavapipe');
});

test('a failing test and a top-level hook are each named; a passing run prints nothing', () => {
  const r = runTests({
    'a.test.mjs': `import { test } from 'node:test';
import assert from 'node:assert/strict';
test('passes', () => {});
test('adds', () => assert.equal(1 + 1, 3));
`,
    'b.test.mjs': `import { before, test } from 'node:test';
before(() => { throw new Error('top-level hook broke'); });
test('t3', () => {});
`,
  });
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines[0], '# failed: 2');
  assert.match(lines[1], /^# {3}✖ a\.test\.mjs: adds: Expected values to be strictly equal:/);
  assert.equal(lines[2], '#   ✖ b.test.mjs: t3 (hook): top-level hook broke');
  const ok = runTests({ 'ok.test.mjs': `import { test } from 'node:test';\ntest('fine', () => {});\n` });
  assert.equal(ok.status, 0);
  assert.equal(ok.stderr, '');
});
