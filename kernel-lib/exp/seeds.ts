/**
 * `exp … --seeds 0-9`: the seeds of every configuration of a sweep, instead of the preset's.
 *
 * Seeds are not part of a sweep's definition key (sweep-file.ts): the folder of `--seeds 0-9` is
 * the folder of the preset's seeds, so adding seeds keeps every finished run and the report is
 * rebuilt over all of them. A sweep's runs only grow: seeds it already holds stay.
 */
import type { SweepRun } from './types.ts';

/** The most seeds one `--seeds` may name (a typo like `0-100000` would start that many runs). */
export const MAX_SEEDS = 1000;
/** The largest seed (seeds are 32-bit in the data and initialisation streams). */
export const MAX_SEED = 2 ** 31 - 1;

/**
 * Parses `--seeds`: seeds and ranges separated by commas (`0-9`, `0,1,2,5`, `0-2,7`).
 * @throws naming the bad part: not a non-negative integer, a range that goes down, a seed named
 *   twice, or more than {@link MAX_SEEDS} seeds.
 */
export function parseSeeds(text: string): number[] {
  const bad = (why: string): never => {
    throw new Error(`--seeds ${JSON.stringify(text)}: ${why} (seeds are integers 0…${MAX_SEED}: --seeds 0-9 or --seeds 0,1,2,5)`);
  };
  const seed = (s: string, part: string): number => {
    if (!/^\d+$/.test(s)) bad(`'${part}' is not a seed or a range of seeds`);
    const n = Number(s);
    if (n > MAX_SEED) bad(`${s} is above the largest seed`);
    return n;
  };
  if (text.trim() === '') bad('no seeds given');
  const out: number[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\S+?)\s*-\s*(\S+)$/.exec(part);
    if (m) {
      const [a, b] = [seed(m[1], part), seed(m[2], part)];
      if (b < a) bad(`the range '${part}' goes down (write ${b}-${a})`);
      if (b - a + 1 + out.length > MAX_SEEDS) bad(`more than ${MAX_SEEDS} seeds`);
      for (let s = a; s <= b; s++) out.push(s);
    } else out.push(seed(part, part));
  }
  if (out.length > MAX_SEEDS) bad(`more than ${MAX_SEEDS} seeds`);
  const dup = out.find((s, i) => out.indexOf(s) !== i);
  if (dup !== undefined) bad(`seed ${dup} is named twice`);
  return out;
}

/**
 * The runs of a sweep definition with every configuration (group) at `seeds`. The definition's
 * runs must be one run per seed of each group, named `<group>-s<seed>`, with the same config and
 * labels across a group's seeds (what `seeded()` in experiments/common.ts makes); otherwise the
 * seeds cannot be changed and this throws, naming the run.
 */
export function withSeeds(experiment: string, runs: readonly SweepRun[], seeds: readonly number[]): SweepRun[] {
  const groups = new Map<string, SweepRun>();
  for (const r of runs) {
    if (r.id !== `${r.group}-s${r.seed}`) throw new Error(`experiment '${experiment}': run '${r.id}' is not named <group>-s<seed>, so --seeds cannot set its seeds`);
    const first = groups.get(r.group);
    if (!first) groups.set(r.group, r);
    else if (JSON.stringify([first.config, first.labels]) !== JSON.stringify([r.config, r.labels])) {
      throw new Error(`experiment '${experiment}': runs '${first.id}' and '${r.id}' of group '${r.group}' differ in more than their seed, so --seeds cannot set its seeds`);
    }
  }
  return [...groups.values()].flatMap((g) => seeds.map((seed) => ({ id: `${g.group}-s${seed}`, group: g.group, seed, config: g.config, labels: g.labels })));
}

/**
 * A sweep's runs after adding `wanted` to the runs it holds: those it holds keep their place (and
 * index: Slurm array tasks name runs by index), the new ones follow. @returns the runs added.
 */
export function addedRuns<R extends { id: string }>(held: readonly R[], wanted: readonly R[]): R[] {
  const have = new Set(held.map((r) => r.id));
  return wanted.filter((r) => !have.has(r.id));
}
