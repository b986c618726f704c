/**
 * Checkpoints: all named variables (model and optimizer) in one binary file plus a JSON manifest
 * with the training state (step, data-stream position) and the binary's SHA-256. Each file is
 * written atomically and `latest.json` is switched last, so an interruption at any point leaves
 * the previous checkpoint intact. The two newest checkpoints are kept.
 *
 * `latest.json` is only a pointer: when it is missing or unreadable, or what it points to is
 * damaged, the newest intact checkpoint is used instead (and the caller says so).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  length: number;
}

export interface CheckpointManifest<S> {
  format: 'switchyard-checkpoint-1';
  step: number;
  tensors: TensorEntry[];
  state: S;
  bin: string;
  /** Hex SHA-256 of the binary file. */
  sha256: string;
}

const KEEP = 2;

/** Reads every variable (one scheduled read per variable) and writes checkpoint `step` into `dir`. */
export async function saveCheckpoint<S>(dir: string, step: number, vars: Record<string, tf.Variable>, state: S): Promise<void> {
  const names = Object.keys(vars).sort();
  const datas = await Promise.all(names.map((n) => vars[n].data()));
  const tensors: TensorEntry[] = [];
  let offset = 0;
  names.forEach((name, i) => {
    const v = vars[name];
    if (v.dtype !== 'float32' && v.dtype !== 'int32') throw new Error(`checkpoint: variable '${name}' has unsupported dtype ${v.dtype}`);
    tensors.push({ name, shape: v.shape, dtype: v.dtype, offset, length: datas[i].length });
    offset += datas[i].length * 4;
  });
  const buf = new Uint8Array(offset);
  names.forEach((_, i) => {
    const d = datas[i] as Float32Array | Int32Array;
    buf.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), tensors[i].offset);
  });
  const base = `ckpt-${String(step).padStart(8, '0')}`;
  writeFileAtomic(join(dir, `${base}.bin`), buf);
  const sha256 = createHash('sha256').update(buf).digest('hex');
  const manifest: CheckpointManifest<S> = { format: 'switchyard-checkpoint-1', step, tensors, state, bin: `${base}.bin`, sha256 };
  writeJsonAtomic(join(dir, `${base}.json`), manifest);
  writeJsonAtomic(join(dir, 'latest.json'), { step, manifest: `${base}.json` });
  const old = readdirSync(dir)
    .filter((f) => /^ckpt-\d+\.json$/.test(f))
    .sort()
    .slice(0, -KEEP);
  for (const f of old) {
    rmSync(join(dir, f), { force: true });
    rmSync(join(dir, f.replace(/\.json$/, '.bin')), { force: true });
  }
}

/** Checkpoint manifests in `dir`, newest first (by step in the file name). */
export function checkpointFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^ckpt-\d+\.json$/.test(f))
    .sort()
    .reverse();
}

/** Reads and verifies one manifest and its binary; throws saying what is wrong. */
export function readCheckpoint<S>(dir: string, manifestFile: string): CheckpointManifest<S> {
  const path = join(dir, manifestFile);
  let manifest: CheckpointManifest<S>;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`checkpoint ${path} is unreadable (${(err as Error).message})`);
  }
  if (manifest?.format !== 'switchyard-checkpoint-1') throw new Error(`checkpoint ${path}: unknown format '${String(manifest?.format)}'`);
  if (!Number.isInteger(manifest.step) || !Array.isArray(manifest.tensors) || typeof manifest.bin !== 'string') throw new Error(`checkpoint ${path}: malformed manifest`);
  const binPath = join(dir, manifest.bin);
  let bin: Buffer;
  try {
    bin = readFileSync(binPath);
  } catch (err) {
    throw new Error(`checkpoint ${binPath} is unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const want = manifest.tensors.reduce((n, t) => n + t.length * 4, 0);
  if (bin.length !== want) throw new Error(`checkpoint ${binPath} has ${bin.length} bytes, its manifest says ${want}`);
  if (manifest.sha256 && createHash('sha256').update(bin).digest('hex') !== manifest.sha256) throw new Error(`checkpoint ${binPath} is damaged (SHA-256 differs from its manifest)`);
  return manifest;
}

/** The checkpoint to resume from, and what was passed over on the way. */
export interface ResumePoint<S> {
  manifest: CheckpointManifest<S>;
  /** Why `latest.json` was not followed, or which damaged checkpoints were skipped; empty when it was. */
  notes: string[];
}

/**
 * The newest intact checkpoint in `dir`: the one `latest.json` names when that is intact, else
 * the newest manifest whose binary verifies. Null when `dir` has no checkpoint files at all.
 * Throws when checkpoint files exist but none is intact (nothing may then start afresh silently).
 */
export function findResumePoint<S>(dir: string): ResumePoint<S> | null {
  const notes: string[] = [];
  const latest = join(dir, 'latest.json');
  if (existsSync(latest)) {
    try {
      const pointer = JSON.parse(readFileSync(latest, 'utf8')) as { manifest: string };
      return { manifest: readCheckpoint<S>(dir, pointer.manifest), notes };
    } catch (err) {
      notes.push(`${latest} was not usable (${(err as Error).message})`);
    }
  } else if (checkpointFiles(dir).length) {
    notes.push(`${latest} is missing`);
  }
  const files = checkpointFiles(dir);
  for (const f of files) {
    try {
      const manifest = readCheckpoint<S>(dir, f);
      notes.push(`resuming from the newest intact checkpoint, ${f} (step ${manifest.step})`);
      return { manifest, notes };
    } catch (err) {
      notes.push((err as Error).message);
    }
  }
  if (files.length || existsSync(latest)) {
    throw new Error(`no intact checkpoint in ${dir}: ${notes.join('; ')}. Nothing was changed; move the run away or restart it explicitly (train --restart) to start afresh.`);
  }
  return null;
}

/** One saved tensor's values, from the checkpoint's binary. */
function valuesOf(bin: Uint8Array, t: TensorEntry, file: string): Float32Array | Int32Array {
  const bytes = bin.subarray(t.offset, t.offset + t.length * 4);
  if (bytes.length !== t.length * 4) throw new Error(`checkpoint ${file} is truncated at '${t.name}'`);
  const copy = new Uint8Array(bytes); // aligned copy
  return t.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
}

/** Assigns a checkpoint's tensors to `vars`; the names and shapes must match exactly. */
export function restoreCheckpoint<S>(dir: string, manifest: CheckpointManifest<S>, vars: Record<string, tf.Variable>): void {
  const bin = readFileSync(join(dir, manifest.bin));
  const saved = new Map(manifest.tensors.map((t) => [t.name, t]));
  const missing = Object.keys(vars).filter((n) => !saved.has(n));
  const extra = [...saved.keys()].filter((n) => !(n in vars));
  if (missing.length || extra.length) {
    throw new Error(`checkpoint ${manifest.bin} does not fit this model: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
  }
  for (const [name, v] of Object.entries(vars)) {
    const t = saved.get(name)!;
    if (t.shape.join(',') !== v.shape.join(',')) throw new Error(`checkpoint ${manifest.bin}: '${name}' has shape [${t.shape}], the model has [${v.shape}]`);
    const values = valuesOf(bin, t, manifest.bin);
    tf.tidy(() => v.assign(tf.tensor(values, t.shape, t.dtype)));
  }
}

/**
 * A checkpoint's tensors whose names `keep` accepts, as new tensors (the caller disposes them):
 * what another run starts from (train/upcycle.ts).
 */
export function readCheckpointTensors<S>(dir: string, manifest: CheckpointManifest<S>, keep: (name: string) => boolean): Record<string, tf.Tensor> {
  const bin = readFileSync(join(dir, manifest.bin));
  const out: Record<string, tf.Tensor> = {};
  try {
    for (const t of manifest.tensors) if (keep(t.name)) out[t.name] = tf.tensor(valuesOf(bin, t, manifest.bin), t.shape, t.dtype);
  } catch (err) {
    tf.dispose(Object.values(out));
    throw err;
  }
  return out;
}
