// A node:test reporter that ends the run with what failed, hooks included. Node's own summary
// counts tests only: a failing before/after hook shows as its tests "cancelled" and `# fail 0`
// (exit code 1 still). Run beside the usual reporter:
//   node --test --test-reporter=tap --test-reporter-destination=stdout \
//        --test-reporter=./test/helpers/failures-reporter.mjs --test-reporter-destination=stderr …
// Prints nothing when everything passed.

/** The first line of a failure's cause: the hook's or the assertion's error, not node's wrapper. */
function reason(error) {
  let e = error;
  while (e && e.code === 'ERR_TEST_FAILURE' && e.cause) e = e.cause;
  const msg = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e);
  return String(msg ?? 'unknown error').split('\n')[0];
}

export default async function* failuresReporter(source) {
  const failures = [];
  let cancelled = 0;
  const path = []; // names by nesting, for "suite › test"
  for await (const event of source) {
    if (event.type !== 'test:fail' && event.type !== 'test:pass' && event.type !== 'test:start') continue;
    const { name, nesting = 0 } = event.data;
    path[nesting] = name;
    path.length = nesting + 1;
    if (event.type !== 'test:fail') continue;
    const error = event.data.details?.error;
    const kind = error?.failureType;
    if (kind === 'cancelledByParent') {
      cancelled++;
      continue;
    }
    // A suite or file that fails by itself (not by failing subtests) failed in a hook or at load.
    if (kind === 'subtestsFailed') continue;
    const where = event.data.file ? `${event.data.file.replace(process.cwd() + '/', '')}: ` : '';
    const hookish = kind === 'hookFailed' || (event.data.details?.type === 'suite' && kind !== 'testCodeFailure') ? ' (hook)' : '';
    failures.push(`${where}${path.slice(0, nesting + 1).join(' › ')}${hookish}: ${reason(error)}`);
  }
  if (failures.length === 0 && cancelled === 0) return;
  yield `\n# failed: ${failures.length}${cancelled ? `, and ${cancelled} test(s) cancelled because a hook or parent failed` : ''}\n`;
  for (const f of failures) yield `#   ✖ ${f}\n`;
}
