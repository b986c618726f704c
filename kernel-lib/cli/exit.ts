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
