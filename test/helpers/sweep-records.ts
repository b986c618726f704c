/**
 * What "the same report, metric for metric" means for two sweep folders of one experiment run
 * with the same seeds on the same backend (one locally, one on Slurm):
 *
 * - `report.json` whole (claims with their measured values and verdicts, every section, table,
 *   figure reference and the missing list, the devices and versions), except `generated` (when
 *   it was built);
 * - `summary.csv`, every `figures/*.json` and `tables/*.csv`, byte for byte;
 * - every run's resolved config (`sweep.json`), its training rows (`metrics.jsonl`: losses,
 *   gradient norm, learning rate, per-layer dropped fraction, entropy, balance and z losses,
 *   routing counts before and after capacity), its evaluations, its final evaluation
 *   (`run.json`), its routing snapshots and its last checkpoint, byte for byte, except the three
 *   timing fields of a training row: `stepMs` (wall time), `cpuMs` (CPU time) and `tokensPerSec`.
 *
 * Nothing else is left out. Experiments whose reports hold timing figures (tokens/s, time to a
 * threshold, quality against time: `scaling`, `capacity`) would differ there legitimately; the
 * comparison is used on `specialization`, whose report holds none.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TIMING = ['stepMs', 'cpuMs', 'tokensPerSec'];

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const filesOf = (dir: string, re: RegExp) => (existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).sort() : []);

function runRecords(runDir: string, steps: number) {
  const rows = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = `ckpt-${String(steps).padStart(8, '0')}.bin`;
  return {
    metrics: rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING.includes(k)))),
    finalEval: json(join(runDir, 'run.json')).finalEval,
    status: json(join(runDir, 'run.json')).status,
    routing: Object.fromEntries(filesOf(join(runDir, 'routing'), /./).map((f) => [f, sha(join(runDir, 'routing', f))])),
    lastCheckpoint: sha(join(runDir, 'checkpoints', last)),
  };
}

/** Everything of a finished sweep folder that must be equal across places it ran (see above). */
export function comparableRecords(dir: string) {
  const sweep = json(join(dir, 'sweep.json'));
  const { generated: _generated, ...report } = json(join(dir, 'report.json'));
  return {
    runs: sweep.runs,
    steps: sweep.steps,
    report,
    summary: readFileSync(join(dir, 'summary.csv'), 'utf8'),
    figures: Object.fromEntries(filesOf(join(dir, 'figures'), /\.json$/).map((f) => [f, readFileSync(join(dir, 'figures', f), 'utf8')])),
    tables: Object.fromEntries(filesOf(join(dir, 'tables'), /\.csv$/).map((f) => [f, readFileSync(join(dir, 'tables', f), 'utf8')])),
    records: Object.fromEntries(sweep.runs.map((r: { id: string }) => [r.id, runRecords(join(dir, 'runs', r.id), sweep.steps)])),
  };
}
