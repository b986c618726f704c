/**
 * One writer per run directory. Two processes training the same run would interleave metric
 * rows and overwrite each other's checkpoints; sweeps start many processes over one results
 * folder, so each run takes `<runDir>/lock` before it reads or writes anything there.
 *
 * The lock file is created exclusively and holds the owner's pid, host and start time; its
 * modification time is a heartbeat refreshed while the run lives. A lock is stale, and is taken
 * over with a message, when its process is gone (same host) or its heartbeat is older than
 * `staleAfterMs` (another host, e.g. a cluster node that died: its pid can't be checked from here).
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { log } from '../util/log.ts';
import { fsError } from '../util/fs-error.ts';

export interface LockOwner {
  pid: number;
  host: string;
  started: string;
  /** What holds it, e.g. `train` and the argv. */
  command: string;
  /** The Slurm job that holds it, when it runs under Slurm: a requeued task recognises its earlier incarnation by this (exp/slurm-lock.ts). */
  slurm?: { jobId: string; restartCount?: string };
}

export interface RunLock {
  readonly path: string;
  /** Removes the lock (idempotent). */
  release(): void;
}

export class RunLocked extends Error {}

export interface LockOptions {
  /** A lock whose heartbeat is older than this is stale even when its pid can't be checked (default 10 min). */
  staleAfterMs?: number;
  /** Heartbeat period (default 30 s). */
  heartbeatMs?: number;
}

const LOCK_FILE = 'lock';

/** Lock files this process holds: a lock naming this pid but not held here is a previous process that had the same pid (containers reuse small pids). */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return null; // being written, or torn: treated by age alone
  }
}

/** Why the lock at `path` is stale, or null when its owner may still be running. */
function staleness(path: string, owner: LockOwner | null, staleAfterMs: number): string | null {
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    return 'it vanished';
  }
  if (owner && owner.host === hostname() && Number.isInteger(owner.pid)) {
    if (owner.pid === process.pid) return heldHere.has(path) ? null : `it names this process's pid ${owner.pid}, from an earlier process`;
    return alive(owner.pid) ? null : `its process ${owner.pid} on ${owner.host} is gone`;
  }
  if (ageMs > staleAfterMs) return `its heartbeat is ${Math.round(ageMs / 1000)} s old (owner ${owner ? `${owner.pid} on ${owner.host}` : 'unknown'})`;
  return null;
}

/**
 * Takes the run directory's lock or throws {@link RunLocked} naming the owner.
 * @param runDir an existing directory.
 */
export function acquireRunLock(runDir: string, command: string, opts: LockOptions = {}): RunLock {
  const path = join(runDir, LOCK_FILE);
  const staleAfterMs = opts.staleAfterMs ?? 10 * 60_000;
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
  if (process.env.SLURM_JOB_ID) me.slurm = { jobId: process.env.SLURM_JOB_ID, restartCount: process.env.SLURM_RESTART_COUNT };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError('create lock', path, err);
      const owner = readOwner(path);
      const why = staleness(path, owner, staleAfterMs);
      if (!why) {
        throw new RunLocked(
          `${runDir} is in use by process ${owner?.pid ?? '?'} on ${owner?.host ?? '?'} (since ${owner?.started ?? '?'}: ${owner?.command ?? '?'}); ` +
            `one process per run directory. If that process is really gone, remove ${path}.`,
        );
      }
      // Move the stale lock aside atomically; if what we moved is not the lock we judged stale
      // (another process took over in between), put it back and refuse.
      const aside = `${path}.stale-${process.pid}-${Date.now()}`;
      try {
        renameSync(path, aside);
      } catch {
        continue; // someone else moved it first: try again
      }
      const moved = readOwner(aside);
      if (owner && moved && (moved.pid !== owner.pid || moved.started !== owner.started)) {
        try {
          renameSync(aside, path);
        } catch {
          /* best effort */
        }
        continue;
      }
      rmSync(aside, { force: true });
      log(`took over the lock of ${runDir}: ${why}`);
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me) + '\n');
    } finally {
      closeSync(fd);
    }
    const beat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(path, now, now);
      } catch {
        /* the directory was moved or removed: nothing to keep alive */
      }
    }, opts.heartbeatMs ?? 30_000);
    beat.unref();
    heldHere.add(path);
    let released = false;
    return {
      path,
      release: () => {
        if (released) return;
        released = true;
        clearInterval(beat);
        heldHere.delete(path);
        const owner = readOwner(path);
        if (owner && owner.pid === process.pid && owner.started === me.started) rmSync(path, { force: true });
      },
    };
  }
  throw new RunLocked(`${runDir}: could not take the lock at ${path} (other processes keep taking it)`);
}
