/**
 * The bridge to the tslab kernel: sends one display message with several MIME types (tslab's
 * public `display` sends one type per message). tslab is never loaded from here: its module is
 * looked up among those already loaded, which it is exactly when this process is a tslab kernel.
 * Outside a kernel (plain Node, tsx) displays fall back to their `text/plain` on stdout.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { sep } from 'node:path';

/** MIME type → content (strings, or JSON for JSON MIME types). */
export type MimeBundle = Record<string, unknown>;

type WriteDisplayData = (msg: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean) => void;

const JUPYTER_MODULE = `${sep}tslab${sep}dist${sep}jupyter.js`;

/** tslab's display writer for the cell now running, or null outside a tslab kernel. */
function kernelWriter(): WriteDisplayData | null {
  const cache = createRequire(import.meta.url).cache;
  for (const [path, mod] of Object.entries(cache)) {
    if (!path.endsWith(JUPYTER_MODULE)) continue;
    const write = (mod?.exports as { lastWriteDisplayData?: WriteDisplayData | null } | undefined)?.lastWriteDisplayData;
    if (typeof write === 'function') return write;
  }
  return null;
}

/** True when this process is a tslab kernel running a cell. */
export function inKernel(): boolean {
  return kernelWriter() !== null;
}

/** A fresh id for an output that will be updated in place. */
export function newDisplayId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Shows `data` as one output. With `displayId`, `update: true` replaces the output first shown
 * with that id (progress). Outside a kernel, writes `data['text/plain']` to stdout.
 * @returns whether a kernel received it.
 */
export function sendDisplay(data: MimeBundle, opts: { displayId?: string; update?: boolean } = {}): boolean {
  const write = kernelWriter();
  if (!write) {
    const text = data['text/plain'];
    if (typeof text === 'string' && !opts.update) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return false;
  }
  write({ data, metadata: {}, transient: opts.displayId ? { display_id: opts.displayId } : {} }, opts.update ?? false);
  return true;
}
