/**
 * A requeued Slurm task and the lock of its earlier incarnation.
 *
 * A run's lock (train/run-lock.ts) is taken over when its process is gone (same host) or its
 * heartbeat is 10 minutes old (another host). A task killed hard (SIGKILL after KillWait, a node
 * that failed) leaves its lock behind; Slurm may requeue it onto another node within seconds,
 * where the lock would refuse it for 10 minutes and the task would fail. Slurm runs one
 * incarnation of a job at a time, and a job keeps its id across requeues (`SLURM_JOB_ID`, with
 * `SLURM_RESTART_COUNT` counting the restarts). A lock taken under Slurm records that job and
 * restart count; so a lock of this same Slurm job with a lower restart count belongs to an
 * earlier incarnation of this very task, which Slurm has ended: it is removed, with a message,
 * and the trainer takes the lock as usual. (The lock is taken before the run's start record is
 * written, so the lock itself must say it: a task killed in between is recognised too.) A lock
 * without Slurm facts falls back to the run's `environment.json`, whose newest start record
 * names the process and the Slurm job that ran it.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../util/log.ts';
import { readJsonOrNull } from '../util/read-json.ts';

interface SlurmFacts {
  jobId?: string;
  restartCount?: string;
}

interface StartRecord {
  pid?: number;
  slurm?: SlurmFacts;
}

/**
 * Removes the lock of `runDir` when an earlier incarnation of the Slurm job in `env` holds it.
 * @returns whether it did (false: no Slurm job, no lock, or not this job's).
 */
export function releaseEarlierIncarnationLock(runDir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const jobId = env.SLURM_JOB_ID;
  const lockPath = join(runDir, 'lock');
  if (!jobId || !existsSync(lockPath)) return false;
  const owner = readJsonOrNull<StartRecord & { host?: string }>(lockPath);
  if (!owner) return false;
  let earlier: SlurmFacts | undefined = owner.slurm;
  if (!earlier) {
    const record = readJsonOrNull<StartRecord & { resumed?: StartRecord[] }>(join(runDir, 'environment.json'));
    const newest = record ? [record, ...(record.resumed ?? [])].at(-1)! : null;
    if (newest && newest.pid === owner.pid) earlier = newest.slurm;
  }
  const restarts = (s?: string) => (s && /^\d+$/.test(s) ? Number(s) : 0);
  if (earlier?.jobId !== jobId || restarts(earlier.restartCount) >= restarts(env.SLURM_RESTART_COUNT)) return false;
  // Moved aside first, so that a lock another process took in between is never removed.
  const aside = `${lockPath}.requeued-${process.pid}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return false; // gone already, or another process moved it: the lock's own rules decide
  }
  const moved = readJsonOrNull<{ pid?: number }>(aside);
  if (moved?.pid !== owner.pid) {
    renameSync(aside, lockPath);
    return false;
  }
  rmSync(aside, { force: true });
  log(`took over the lock of ${runDir} from process ${owner.pid} on ${owner.host ?? '?'}: an earlier run of Slurm job ${jobId} (restart ${restarts(earlier.restartCount)}; this is restart ${restarts(env.SLURM_RESTART_COUNT)}), which Slurm has ended`);
  return true;
}
