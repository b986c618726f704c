/**
 * Graceful stop on SIGINT (Ctrl-C) and SIGTERM (`kill`, Slurm at its time limit or on
 * preemption, `scancel`): the first signal aborts the returned signal, so the trainer finishes
 * the step in flight, writes a checkpoint and records the stop; a second signal exits at once
 * (every file is written atomically, so nothing already written is damaged).
 *
 * Exit status after a graceful stop: 128 + the signal's number (130 for SIGINT, 143 for
 * SIGTERM), as a shell reports a process ended by that signal.
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

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export function stopOnSignals(what: string): SignalStop {
  const ac = new AbortController();
  let code: number | null = null;
  const handlers = SIGNALS.map((sig) => {
    const handler = () => {
      const n = 128 + constants.signals[sig];
      if (code !== null) {
        log(`${sig} again: stopping at once`);
        process.exit(n);
      }
      code = n;
      log(`${sig}: ${what} stops after the current step and writes a checkpoint (send it again to stop at once)`);
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
