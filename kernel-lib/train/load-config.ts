/**
 * Loads a training config: a `Partial<TrainConfig>` file (.ts/.js module with a default export,
 * or .json), then `--key=value` overrides, each checked against the defaults' types.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseOverride, resolveTrainConfig, type TrainConfig } from './config.ts';

/** Reads a config file's overrides; errors name the file. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  const full = resolve(path);
  if (!existsSync(full)) throw new Error(`config file ${path} does not exist`);
  if (full.endsWith('.json')) {
    try {
      return JSON.parse(readFileSync(full, 'utf8'));
    } catch (err) {
      throw new Error(`config file ${path}: not valid JSON (${(err as Error).message})`);
    }
  }
  if (!/\.(ts|mts|js|mjs)$/.test(full)) throw new Error(`config file ${path}: expected .ts, .js or .json`);
  let mod: { default?: unknown; config?: unknown };
  try {
    mod = (await import(pathToFileURL(full).href)) as typeof mod;
  } catch (err) {
    throw new Error(`config file ${path} failed to load: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const values = mod.default ?? mod.config;
  if (typeof values !== 'object' || values === null) throw new Error(`config file ${path}: export a Partial<TrainConfig> as default`);
  return values as Record<string, unknown>;
}

/** `--key=value` / `--key value` pairs → typed overrides. */
export function parseOverrides(args: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}' (overrides look like --key=value)`);
    const eq = a.indexOf('=');
    const key = (eq >= 0 ? a.slice(2, eq) : a.slice(2)).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    let raw: string;
    if (eq >= 0) raw = a.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith('--')) raw = args[++i];
    else raw = 'true';
    out[key] = parseOverride(key, raw);
  }
  return out;
}

/** Defaults ← SWITCHYARD_BACKEND ← config file ← overrides, all checked. */
export async function loadTrainConfig(file: string | undefined, overrideArgs: string[], env: NodeJS.ProcessEnv = process.env): Promise<TrainConfig> {
  const layers: { source: string; values: Record<string, unknown> }[] = [];
  // The environment sets the backend as it does for every other command; a config file or flag still wins.
  if (env.SWITCHYARD_BACKEND?.trim()) layers.push({ source: 'SWITCHYARD_BACKEND', values: { backend: env.SWITCHYARD_BACKEND.trim() } });
  if (file) layers.push({ source: `config file ${file}`, values: await readConfigFile(file) });
  layers.push({ source: 'command line', values: parseOverrides(overrideArgs) });
  return resolveTrainConfig(...layers);
}
