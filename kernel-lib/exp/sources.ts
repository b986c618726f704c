/**
 * Runs of a sweep that start from other runs of the same sweep (`initFrom`, train/upcycle.ts):
 * in a sweep definition a relative `initFrom` is `runs/<id>`, relative to the sweep folder (as
 * the runs' own `outDir` is), so the folder can move and still resolve. The source must come
 * earlier in the sweep's run list, so that running the runs in order never waits on a later one
 * and no two runs wait on each other. In a definition, `{seed}` in it stands for the run's seed
 * (`runs/dense-s{seed}`), replaced when the sweep is resolved (sweep-file.ts). The runner starts such a run only once its source has
 * finished; a source that failed or diverged fails it without starting (runner.ts).
 */
import { isAbsolute, join } from 'node:path';
import type { SweepFile } from './types.ts';

/** The sweep folder's subfolder holding the runs (a run's `outDir` in the sweep). */
const RUNS = 'runs';

/**
 * Index of the sweep run that run `index` starts from, or null when it starts afresh or from
 * a run outside the sweep (an absolute `initFrom`). Throws, naming the run and the value, for a
 * relative `initFrom` that is not `runs/<id>` of an earlier run of the sweep.
 */
export function sourceIndex(sweep: Pick<SweepFile, 'runs' | 'experiment'>, index: number): number | null {
  const run = sweep.runs[index];
  const from = run.config.initFrom;
  if (from === undefined || from === null || isAbsolute(from)) return null;
  const parts = from.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  const source = parts.length === 2 && parts[0] === RUNS ? sweep.runs.findIndex((r) => r.id === parts[1]) : -1;
  if (source < 0 || source >= index) {
    throw new Error(`${sweep.experiment}, run ${run.id}: initFrom '${from}' must name an earlier run of the sweep as `
      + `'${RUNS}/<id>' (relative to the sweep folder), or be an absolute path`);
  }
  return source;
}

/** Every run's source ({@link sourceIndex}), checking them all. */
export const sourceIndices = (sweep: Pick<SweepFile, 'runs' | 'experiment'>): (number | null)[] =>
  sweep.runs.map((_, i) => sourceIndex(sweep, i));

/** `initFrom` as the run sees it: a relative one resolved against the sweep folder `dir`. */
export function resolvedInitFrom(dir: string, initFrom: string | undefined): string | undefined {
  return initFrom === undefined || isAbsolute(initFrom) ? initFrom : join(dir, initFrom);
}
