/** `conformance [--backend B] case.json …`: one JSON line per case with the output fields. */
import { readCase } from '../conformance/case.ts';
import { checkCase, runCase } from '../conformance/run.ts';
import type { OptionSpecs } from './args.ts';
import { log, startBackend } from './common.ts';

export const conformanceOptions: OptionSpecs = {
  check: { type: 'boolean', default: true, help: "compare with each case's `expected` (a case without one is refused); exit 1 on a mismatch; --check=false only prints the outputs" },
};

export async function conformanceCommand(files: string[], options: Record<string, unknown>): Promise<number> {
  if (files.length === 0) throw new Error('conformance: give one or more case files, e.g. test/fixtures/conformance/*.json');
  const cases = files.map(readCase); // validate every file before starting a backend
  const unchecked = cases.filter((c) => !c.expected).map((c) => c.name);
  if (options.check && unchecked.length) {
    throw new Error(`conformance: ${unchecked.join(', ')} ha${unchecked.length > 1 ? 've' : 's'} no 'expected' answer, so nothing would be checked; add it, or pass --check=false to only print the outputs`);
  }
  const device = await startBackend(options);
  let failed = 0;
  for (const c of cases) {
    const out = await runCase(c);
    const line: Record<string, unknown> = { case: c.name, backend: device.backend, device: device.device, ...out };
    if (options.check && c.expected) {
      const chk = checkCase(out, c.expected);
      line.check = chk;
      if (!chk.pass) {
        failed++;
        log(`${c.name}: FAIL ${chk.failures.join('; ')}`);
      } else log(`${c.name}: pass`);
    }
    process.stdout.write(JSON.stringify(line) + '\n');
  }
  return failed ? 1 : 0;
}
