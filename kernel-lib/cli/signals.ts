/**
 * Graceful stop on SIGINT (Ctrl-C), SIGTERM (`kill`, Slurm at its time limit or on
 * preemption, `scancel`) and SIGHUP (the terminal closed): the first signal aborts the returned signal, so the trainer finishes
 * the step in flight, writes a checkpoint and records the stop; a second signal exits at once
 * (every file is written atomically, so nothing already written is damaged).
 *
 * A repeat within `REPEAT_MS` of the first is the same stop delivered twice, not a second
 * request: Ctrl-C signals the terminal's whole process group, so a trainer under `npm run` or
 * under a sweep gets SIGINT from the terminal and again from its parent, which forwards it
 * (as `srun` and `scancel` reach every process of a step). Only a later signal stops at once.
 *
 * Exit status after a graceful stop: 128 + the signal's number (130 for SIGINT, 143 for
 * SIGTERM, 129 for SIGHUP), as a shell reports a process ended by that signal.
 */
import { constants } from 'node:os';
import { log } from '../util/log.ts';

export interface SignalStop {
  signal: AbortSignal;
  /** 128 + the signal number once a signal arrived, else null. */
  exitCode(): number | null;
  /** Removes the handlers. */
  dispose(): void;
}

/** SIGHUP: the terminal closed (an ended ssh session); by default it would kill the run without a checkpoint. */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Signals closer than this to the first are duplicates of it (see above). */
export const REPEAT_MS = 1000;

export function stopOnSignals(what: string): SignalStop {
  const ac = new AbortController();
  let code: number | null = null;
  let firstAt = 0;
  const handlers = SIGNALS.map((sig) => {
    const handler = () => {
      const n = 128 + constants.signals[sig];
      if (code !== null) {
        if (Date.now() - firstAt < REPEAT_MS) return; // the same stop, delivered twice
        log(`${sig} again: stopping at once`);
        process.exit(n);
      }
      code = n;
      firstAt = Date.now();
      log(`${sig}: ${what} stops after the current step and writes a checkpoint (send it again after a second to stop at once)`);
      ac.abort(sig);
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return {
    signal: ac.signal,
    exitCode: () => code,
    dispose: () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    },
  };
}
