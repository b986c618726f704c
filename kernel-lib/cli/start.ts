/**
 * `start` (what `npm start` runs): every experiment at the `quick` preset on the best backend
 * found, then where the reports are and the command for the full preset that fits the device.
 * Opens nothing. Finished quick sweeps are reused, so a second `npm start` only rebuilds reports.
 */
import { EXPERIMENTS, runExperiment } from '../../experiments/index.ts';
import { backendFromEnv, describeDevice, useBackend } from '../backend/index.ts';
import { sweepProgressDisplay } from '../display/sweep.ts';
import { verdictCounts } from '../report/claims.ts';
import { log } from './common.ts';
import { stopOnSignals } from './signals.ts';

export async function startCommand(o: Record<string, unknown>): Promise<number> {
  const device = await useBackend((o.backend as string | undefined) ?? backendFromEnv());
  const say = (s = '') => process.stdout.write(s + '\n');
  say(`Switchyard: the Switch Transformer paper's experiments at the 'quick' preset, on ${describeDevice(device)}.`);
  say('quick is a tiny model trained for seconds: it shows every experiment end to end, not the paper\'s effects. Its paper claims say "not assessed" (with the effect they could have detected); its implementation checks run.\n');
  const stop = stopOnSignals('the experiments');
  const done: { name: string; report: string; verdicts: string }[] = [];
  let failedRuns = 0;
  try {
    for (const exp of Object.values(EXPERIMENTS)) {
      const t0 = Date.now();
      const r = await runExperiment(exp.name, { preset: 'quick', backend: device.backend, onUpdate: sweepProgressDisplay(exp.name).update, signal: stop.signal });
      if (r.outcome.interrupted) return stop.exitCode() ?? 130;
      const verdicts = verdictCounts(r.doc.claims);
      done.push({ name: exp.name, report: r.written.html, verdicts });
      failedRuns += r.outcome.failed.length;
      for (const f of r.outcome.failed) log(`run ${f.id} failed (exit ${f.code}); see ${r.dir}/logs/${f.id}.log`);
      say(`${exp.title}\n  ${verdicts}${r.outcome.failed.length ? `; ${r.outcome.failed.length} run(s) failed` : ''} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n  report: ${r.written.html}`);
    }
  } finally {
    stop.dispose();
  }
  const preset = device.gpu ? 'gpu' : 'cpu';
  say(`\nReports open offline in any browser. For the scale where the paper's trends can show, on this device:`);
  say(`  npm run --silent cli -- exp <${Object.keys(EXPERIMENTS).join('|')}> --preset ${preset}   (add --budget <minutes> to fit a time)`);
  say('Notebooks: npm run lab. The layer demo: npm run --silent cli -- demo.');
  if (failedRuns) say(`\n${failedRuns} run(s) failed: their reports name them, and the logs above say where to look. Exit status 1.`);
  return done.length === Object.keys(EXPERIMENTS).length && failedRuns === 0 ? 0 : 1;
}
