/**
 * Command-line options: `--key=value`, `--key value`, `--flag`, kebab-case mapped to camelCase.
 * Every command declares its options with types; unknown options and bad values are rejected
 * with an error naming them.
 */

export type OptionType = 'string' | 'number' | 'integer' | 'boolean' | 'integer-list' | 'number-or-null';

export interface OptionSpec {
  type: OptionType;
  /** Shown in help. */
  help: string;
  default?: unknown;
  /** Allowed values for strings. */
  choices?: readonly string[];
  /** Smallest allowed number (each entry of a list). */
  min?: number;
  /** Largest allowed number (each entry of a list). */
  max?: number;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface ParsedArgs {
  positional: string[];
  options: Record<string, unknown>;
}

export const kebab = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (k: string): string => k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Converts one raw string to the option's type, or throws naming the option and value. */
export function convertOption(name: string, spec: OptionSpec, raw: string): unknown {
  const value = convertType(name, spec, raw);
  const nums = Array.isArray(value) ? value : typeof value === 'number' ? [value] : [];
  for (const v of nums) {
    if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
      const range = spec.max === undefined ? `≥ ${spec.min}` : spec.min === undefined ? `≤ ${spec.max}` : `in [${spec.min}, ${spec.max}]`;
      throw new Error(`--${kebab(name)}: expected ${Array.isArray(value) ? 'values' : 'a value'} ${range}, got '${raw}'`);
    }
  }
  return value;
}

function convertType(name: string, spec: OptionSpec, raw: string): unknown {
  const bad = (what: string) => new Error(`--${kebab(name)}: ${what}, got '${raw}'`);
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) throw bad(`expected one of ${spec.choices.join(', ')}`);
      return raw;
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw bad('expected a number');
      return v;
    }
    case 'number-or-null': {
      if (raw === 'null' || raw === 'none' || raw === 'dropless') return null;
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw bad("expected a number or 'null' (dropless)");
      return v;
    }
    case 'integer': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isSafeInteger(v)) throw bad(Number.isInteger(v) ? 'expected an integer of at most 2^53 − 1' : 'expected an integer');
      return v;
    }
    case 'integer-list': {
      const parts = raw.split(',').map((s) => s.trim());
      const vals = parts.map(Number);
      if (parts.some((p) => p === '') || vals.some((v) => !Number.isSafeInteger(v))) throw bad('expected comma-separated integers');
      return vals;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw bad('expected true or false');
  }
}

/** Parses argv (without node and script) against the specs; fills defaults. */
export function parseArgs(argv: string[], specs: OptionSpecs, command: string): ParsedArgs {
  const options: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const key = camel(eq >= 0 ? arg.slice(2, eq) : arg.slice(2));
    const spec = specs[key];
    if (!spec) {
      const known = Object.keys(specs).map((k) => `--${kebab(k)}`).join(', ');
      throw new Error(`${command}: unknown option '${eq >= 0 ? arg.slice(0, eq) : arg}' (known: ${known || 'none'})`);
    }
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (spec.type === 'boolean') raw = 'true';
    else if (i + 1 < argv.length) raw = argv[++i];
    else throw new Error(`${command}: option '--${kebab(key)}' needs a value`);
    options[key] = convertOption(key, spec, raw);
  }
  for (const [k, spec] of Object.entries(specs)) if (!(k in options) && spec.default !== undefined) options[k] = spec.default;
  return { positional, options };
}

/** Help text for a command's options. */
export function formatOptions(specs: OptionSpecs): string {
  return Object.entries(specs)
    .map(([k, s]) => `  --${kebab(k)}${s.type === 'boolean' ? '' : ` <${s.choices ? s.choices.join('|') : s.type}>`}  ${s.help}${s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : ''}`)
    .join('\n');
}
