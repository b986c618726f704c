/**
 * File-system errors that name the file and say what happened in words: Node's own messages
 * name the syscall and sometimes the wrong path (a temporary file, a parent directory), and a
 * read-only file system surfaces as ENOENT from a failed mkdir.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const MEANING: Record<string, string> = {
  ENOSPC: 'no space left on the device (disk full)',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/** An Error saying `cannot <verb> <path>: <meaning> (<CODE>)`, keeping the original as `cause`. */
export function fsError(verb: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  const what = code ? `${MEANING[code] ?? (err as Error).message} (${code})` : (err as Error)?.message ?? String(err);
  const e = new Error(`cannot ${verb} ${path}: ${what}`, { cause: err });
  (e as NodeJS.ErrnoException).code = code;
  return e;
}

/** Runs `fn`, rethrowing a file-system error as {@link fsError}. */
export function withFsError<T>(verb: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code && !(err as Error).message.startsWith('cannot ')) throw fsError(verb, path, err);
    throw err;
  }
}

/**
 * `mkdir -p` with an error that says why: Node reports a read-only file system or a missing
 * permission on an ancestor as ENOENT, so the nearest existing ancestor is checked for writing.
 */
export function ensureDir(dir: string, what = 'create directory'): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    let ancestor = dirname(dir);
    while (!existsSync(ancestor) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
    try {
      accessSync(ancestor, constants.W_OK);
    } catch (denied) {
      throw fsError(what, dir, Object.assign(new Error((denied as Error).message), { code: (denied as NodeJS.ErrnoException).code ?? 'EACCES' }));
    }
    throw fsError(what, dir, err);
  }
}
