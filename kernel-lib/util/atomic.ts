/**
 * Atomic file writes: write to a temporary file in the same directory, fsync, then rename over
 * the target. A reader (or a crash) sees either the old file or the new one, never half of one,
 * so nothing already written is lost when a run is interrupted. A write that fails (disk full,
 * read-only file system) removes its temporary file and names the target in its error.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { ensureDir, withFsError } from './fs-error.ts';

/** Temporary files of {@link writeFileAtomic} end with this. */
const TMP_SUFFIX = '.tmp';

/** Writes `data` to `path` atomically, creating parent directories as needed. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  ensureDir(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}${TMP_SUFFIX}`);
  withFsError('write', path, () => {
    const fd = openSync(tmp, 'w');
    let open = true;
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
      open = false; // a failing close has released the descriptor too: never close it twice
      closeSync(fd);
    } catch (err) {
      if (open) {
        try {
          closeSync(fd);
        } catch {
          /* the original error is the one to report */
        }
      }
      rmSync(tmp, { force: true });
      throw err;
    }
    try {
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  });
}

/** Writes `value` as pretty JSON (with a trailing newline) atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Removes temporary files that an interrupted {@link writeFileAtomic} left in `dir` (a process
 * killed between write and rename). Call only while holding the directory (e.g. its run lock).
 * @returns the names removed.
 */
export function removeStaleTemporaries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => n.startsWith('.') && n.endsWith(TMP_SUFFIX));
  for (const n of stale) rmSync(join(dir, n), { force: true });
  return stale;
}
