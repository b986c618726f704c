/**
 * Logs go to stderr with one prefix: stdout carries only a command's output.
 *
 * A closed stderr or stdout (`… 2>&1 | head -1`, a `tee` that died, a closed terminal) must never
 * lose work: {@link guardStdio} (installed by every command) turns the write errors Node would
 * throw as uncaught `EPIPE`/`EIO` into a note, and the command goes on. From then on, log lines
 * go to the file set with {@link logToFileWhenStderrCloses} (a run's `stderr.log`), if any.
 */
import { appendFileSync } from 'node:fs';

let stderrClosed: string | null = null; // the error code once stderr failed
let stdoutClosed: string | null = null;
const fallbacks: string[] = [];

/** Whether stderr has failed (its reader went away); the code of the error, else null. */
export const stderrClosedBy = (): string | null => stderrClosed;
/** Whether stdout has failed; the code of the error, else null. */
export const stdoutClosedBy = (): string | null => stdoutClosed;

/** Writes `text` to stderr, or once stderr is closed, appends it to the current fallback file (if any). */
export function writeStderr(text: string): void {
  if (stderrClosed === null) {
    process.stderr.write(text);
    return;
  }
  const file = fallbacks.at(-1);
  if (!file) return;
  try {
    appendFileSync(file, text);
  } catch {
    // A log line must never stop a run: the run's own records are written (and checked) elsewhere.
  }
}

export function log(msg: string): void {
  writeStderr(`[switchyard] ${msg}\n`);
}

/**
 * While the returned function is not called, log lines written after stderr closed go to `file`
 * (the innermost such file wins). @returns a function that stops it.
 */
export function logToFileWhenStderrCloses(file: string): () => void {
  fallbacks.push(file);
  return () => {
    const i = fallbacks.lastIndexOf(file);
    if (i >= 0) fallbacks.splice(i, 1);
  };
}

let guarded = false;

/**
 * Installs error handlers on stdout and stderr so that a reader going away (EPIPE, or EIO from a
 * closed terminal) is recorded instead of crashing the process with an uncaught error. Idempotent.
 */
export function guardStdio(): void {
  if (guarded) return;
  guarded = true;
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    stderrClosed ??= err.code ?? 'error';
    log(`stderr closed (${stderrClosed}); going on, log lines follow here`);
  });
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    stdoutClosed ??= err.code ?? 'error';
    log(`stdout closed (${stdoutClosed}); going on without it`);
  });
}

