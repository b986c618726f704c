/**
 * Checkpoints: all named variables (model and optimizer) in one binary file plus a JSON manifest
 * with the training state (step, data-stream position). Each file is written atomically and
 * `latest.json` is switched last, so an interruption at any point leaves the previous checkpoint
 * intact. The two newest checkpoints are kept.
 */
import * as tf from '@tensorflow/tfjs';
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
  const manifest: CheckpointManifest<S> = { format: 'switchyard-checkpoint-1', step, tensors, state, bin: `${base}.bin` };
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

/** The latest checkpoint's manifest in `dir`, or null when there is none. */
export function latestCheckpoint<S>(dir: string): CheckpointManifest<S> | null {
  const latest = join(dir, 'latest.json');
  if (!existsSync(latest)) return null;
  let pointer: { manifest: string };
  let manifest: CheckpointManifest<S>;
  try {
    pointer = JSON.parse(readFileSync(latest, 'utf8'));
    manifest = JSON.parse(readFileSync(join(dir, pointer.manifest), 'utf8'));
  } catch (err) {
    throw new Error(`checkpoint in ${dir} is unreadable (${(err as Error).message}); move the directory away to start afresh`);
  }
  if (manifest.format !== 'switchyard-checkpoint-1') throw new Error(`checkpoint ${join(dir, pointer.manifest)}: unknown format '${manifest.format}'`);
  return manifest;
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
    const bytes = bin.subarray(t.offset, t.offset + t.length * 4);
    if (bytes.length !== t.length * 4) throw new Error(`checkpoint ${manifest.bin} is truncated at '${name}'`);
    const copy = new Uint8Array(bytes); // aligned copy
    const values = t.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
    tf.tidy(() => v.assign(tf.tensor(values, t.shape, t.dtype)));
  }
}
