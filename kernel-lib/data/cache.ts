/**
 * A small checksummed binary container for typed arrays plus JSON metadata, used to cache the
 * preprocessed corpus. Layout: 8-byte magic, uint32 (LE) header length, UTF-8 JSON header
 * (key, metadata, array table, payload length and SHA-256), then the arrays' bytes. A reader gets
 * either everything, verified, or a reason why not (wrong key, truncated, checksum mismatch, ...).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { writeFileAtomic } from '../util/atomic.ts';

const MAGIC = Buffer.from('SWYDARR\n', 'latin1');

/** The typed-array kinds the container stores. */
export type StoredArray = Int32Array | Uint16Array | Uint8Array;

const CTORS = { Int32Array, Uint16Array, Uint8Array } as const;
type ArrayKind = keyof typeof CTORS;

interface Header {
  key: string;
  endianness: string;
  payloadBytes: number;
  sha256: string;
  arrays: { name: string; kind: ArrayKind; offset: number; length: number }[];
  meta: unknown;
}

function kindOf(a: StoredArray): ArrayKind {
  if (a instanceof Int32Array) return 'Int32Array';
  if (a instanceof Uint16Array) return 'Uint16Array';
  return 'Uint8Array';
}

/**
 * Writes arrays and metadata to `path` atomically.
 * @param key identifies what was cached; {@link readArrayBundle} rejects a file with another key.
 * @param meta any JSON-serialisable value.
 */
export function writeArrayBundle(path: string, key: string, meta: unknown, arrays: Record<string, StoredArray>): void {
  const table: Header['arrays'] = [];
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    table.push({ name, kind: kindOf(a), offset, length: a.length });
    chunks.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    offset += a.byteLength;
    const pad = (8 - (offset % 8)) % 8;
    if (pad) chunks.push(Buffer.alloc(pad));
    offset += pad;
  }
  const payload = Buffer.concat(chunks, offset);
  const header: Header = {
    key,
    endianness: endianness(),
    payloadBytes: payload.length,
    sha256: createHash('sha256').update(payload).digest('hex'),
    arrays: table,
    meta,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBytes.length);
  writeFileAtomic(path, Buffer.concat([MAGIC, len, headerBytes, payload]));
}

/** What {@link readArrayBundle} returns: the contents, or why they could not be used. */
export type BundleRead =
  | { ok: true; meta: unknown; arrays: Record<string, StoredArray> }
  | { ok: false; reason: string };

/**
 * Reads and verifies a bundle written by {@link writeArrayBundle}. Never throws for a bad file:
 * a missing, truncated, corrupt or differently keyed file gives `{ ok: false, reason }`.
 */
export function readArrayBundle(path: string, key: string): BundleRead {
  if (!existsSync(path)) return { ok: false, reason: 'missing' };
  try {
    const buf = readFileSync(path);
    if (buf.length < 12 || !buf.subarray(0, 8).equals(MAGIC)) return { ok: false, reason: 'bad magic' };
    const hlen = buf.readUInt32LE(8);
    if (12 + hlen > buf.length) return { ok: false, reason: 'truncated header' };
    const header = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8')) as Header;
    if (header.key !== key) return { ok: false, reason: `key mismatch (${String(header.key)})` };
    if (header.endianness !== endianness()) return { ok: false, reason: `written on a ${header.endianness} machine` };
    const payload = buf.subarray(12 + hlen);
    if (payload.length !== header.payloadBytes) {
      return { ok: false, reason: `payload is ${payload.length} bytes, expected ${header.payloadBytes}` };
    }
    if (createHash('sha256').update(payload).digest('hex') !== header.sha256) return { ok: false, reason: 'checksum mismatch' };
    const arrays: Record<string, StoredArray> = {};
    for (const { name, kind, offset, length } of header.arrays) {
      const Ctor = CTORS[kind];
      if (!Ctor) return { ok: false, reason: `unknown array kind ${String(kind)}` };
      const start = payload.byteOffset + offset;
      const bytes = length * Ctor.BYTES_PER_ELEMENT;
      if (offset + bytes > payload.length) return { ok: false, reason: `array ${name} out of bounds` };
      arrays[name] = new Ctor(payload.buffer.slice(start, start + bytes));
    }
    return { ok: true, meta: header.meta, arrays };
  } catch (err) {
    return { ok: false, reason: `unreadable: ${(err as Error).message}` };
  }
}
