/** Exit status of a command that could not write (disk full, quota, I/O error): not bad input, and something may have been written before. */
export const EXIT_IO = 4;

/** Error codes of a failed write that no input could have avoided. */
const IO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG']);

/** The exit status for an error that ended a command: {@link EXIT_IO} for a failed write (the error or its causes), else 2 (bad input or a refused run). */
export function exitCodeFor(err: unknown): number {
  for (let e = err as (Error & { code?: string; cause?: unknown }) | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (e.code && IO_CODES.has(e.code)) return EXIT_IO;
  }
  return 2;
}

/**
 * Ending a command without losing output. `process.exit()` right after a write drops whatever a
 * piped stdout has not yet handed to a slow reader (the rest of a JSON-lines stream, with exit
 * code 0). Here the exit code is set first and the process exits only once stdout and stderr
 * have flushed everything written before (a live WebGPU device would otherwise keep it running).
 */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  // A write's callback runs once it and every write queued before it are flushed (or failed, e.g. EPIPE).
  process.stdout.write('', done);
  process.stderr.write('', done);
}
