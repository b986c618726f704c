/**
 * Loads a training config: a `Partial<TrainConfig>` file (.ts/.js module with a default export,
 * or .json), then `--key=value` overrides, each checked against the defaults' types.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { withFsError } from '../util/fs-error.ts';
import { CONFIG_FIELDS } from '../config/fields.ts';
import { kIgnoredBecause } from '../moe/config.ts';
import { parseOverride, resolveTrainConfig, type TrainConfig } from './config.ts';

/**
 * Reads a config file's overrides; errors name the file, and say whether it could not be read,
 * does not parse (with line and column) or failed when run.
 *
 * A .ts/.js file is loaded with tsx's own loader scoped to this call (`tsImport`), from the
 * file's folder, the same way whichever way the process was started (`npm run cli`, the
 * `switchyard` bin, a notebook) and whether or not the folder is `"type": "module"`: the file
 * named is the file loaded (`x.js` is never swapped for an `x.ts` beside it).
 */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  const full = resolve(path);
  if (!existsSync(full)) throw new Error(`config file ${path} does not exist`);
  const isJson = full.endsWith('.json');
  if (!isJson && !/\.(ts|mts|cts|js|mjs|cjs)$/.test(full)) throw new Error(`config file ${path}: expected .ts, .js or .json`);
  // Read it first: a file that cannot be read is named as such, not as one that does not parse.
  const text = withFsError('read config file', path, () => {
    if (statSync(full).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return readFileSync(full, 'utf8');
  });
  if (isJson) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`config file ${path}: not valid JSON (${(err as Error).message})`);
    }
  }
  let mod: { default?: unknown; config?: unknown };
  try {
    // The parent is a .mjs URL in the file's folder: tsx then resolves the file itself, as JavaScript resolves it.
    mod = (await tsImport(pathToFileURL(full).href, pathToFileURL(join(dirname(full), '__switchyard_config_loader.mjs')).href)) as typeof mod;
  } catch (err) {
    throw new Error(`config file ${path} ${describeLoadError(err as Error, full)}`, { cause: err });
  }
  // A file outside a "type": "module" folder loads as CommonJS: its default export is module.exports.default.
  const exported = mod.default ?? mod.config;
  const values = isObject(exported) && ('__esModule' in exported || isObject(exported.default)) ? (exported.default ?? exported.config) : exported;
  if (typeof values !== 'object' || values === null) throw new Error(`config file ${path}: export a Partial<TrainConfig> as default`);
  return values as Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** What went wrong loading a config module: a syntax error with line and column (esbuild's message), else the first line of the error. */
function describeLoadError(err: Error, full: string): string {
  const lines = err.message.split('\n');
  const syntax = lines.map((l) => /^(.*?):(\d+):(\d+): ERROR: (.*)$/.exec(l)).find((m) => m !== null);
  if (syntax) {
    const where = syntax[1] === full ? '' : ` (in ${syntax[1]})`;
    return `does not parse: line ${syntax[2]}, column ${Number(syntax[3]) + 1}${where}: ${syntax[4]}`;
  }
  const first = lines.find((l) => l.trim() && !/^Transform failed/.test(l)) ?? lines[0];
  return `failed to load: ${first}`;
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
  const cfg = resolveTrainConfig(...layers);
  checkMeaningful(cfg, layers);
  return cfg;
}

/** Keys that only an MoE layer reads (the schema's `moeOnly`). */
const MOE_KEYS = Object.keys(CONFIG_FIELDS).filter((k) => 'moeOnly' in CONFIG_FIELDS[k as keyof typeof CONFIG_FIELDS]);

/**
 * Refuses values the user gave that the resolved config would silently ignore: `k` with a
 * router that does not read it (top1 routes to 1 expert; Expert Choice has experts pick), and
 * MoE settings for a dense model. Checked on what the config file and command line set.
 */
function checkMeaningful(cfg: TrainConfig, layers: { source: string; values: Record<string, unknown> }[]): void {
  const given = (key: string) => layers.filter((l) => Object.hasOwn(l.values, key)).at(-1)?.source;
  const kFrom = given('k');
  const why = kFrom ? kIgnoredBecause(cfg) : null;
  if (why) throw new Error(`${kFrom}: 'k' = ${cfg.k} means nothing with router '${cfg.router}' (${why}); use router 'topk' for k experts per token`);
  if (cfg.ffn === 'dense' || cfg.sparseEvery === 0) {
    const moe = MOE_KEYS.filter((k) => given(k));
    if (moe.length) throw new Error(`${given(moe[0])}: ${moe.map((k) => `'${k}'`).join(', ')} set for a dense model (${cfg.ffn === 'dense' ? "ffn 'dense'" : 'sparseEvery 0'}), which has no MoE layer to use ${moe.length > 1 ? 'them' : 'it'}; leave ${moe.length > 1 ? 'them' : 'it'} out or use ffn 'moe'`);
  }
}
