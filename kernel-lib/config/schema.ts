/**
 * The machinery behind the config schema (fields.ts): how a field is declared, checked, parsed
 * from `--key=value`, defaulted at each level, and resolved. It knows no particular field.
 *
 * Levels nest: an MoE layer's settings ⊂ the model's ⊂ a training run's. A field's `level` is the
 * innermost part that reads it; the part's config holds the fields of its level and of the levels
 * inside it. A part built alone (a `TransformerLM` or `MoeLayer` of your own, no run around it)
 * may default a field differently (`alone`), or need it given (`REQUIRED`); a `fixed` field is a
 * setting of the level inside only: the levels around it hold its default and refuse another value.
 *
 * Two voices. A run's config comes from files and the command line: each value is checked as it
 * comes in, naming its source and the key in quotes (`command line: 'lr' must be a number`), and
 * the ranges once all are in (`config: 'batchSize' must be ≥ 1`). A part built alone names its
 * config and says what a value must be in one go (`model config: seqLen must be an integer ≥ 1`).
 *
 * A resolved config is remembered (a WeakMap, nothing is added to the object): a model or layer
 * handed a config resolved at its level, or a view of one, takes it as it is, so every value is
 * checked once. Any other object (a spread copy, a config read from a file) is resolved again.
 */

export type Level = 'layer' | 'model' | 'run';
/** The levels a part's config holds: its own and those inside it. */
export const LEVELS_IN: Record<Level, readonly Level[]> = { layer: ['layer'], model: ['layer', 'model'], run: ['layer', 'model', 'run'] };
/** `alone`: a part built alone must be given this field. */
export const REQUIRED: unique symbol = Symbol('required');

interface Common<T> {
  /** The innermost part that reads it. */
  level: Level;
  /**
   * Its default in a run (and in the model and layer of a run). `undefined` (text fields only):
   * unset unless given, and then absent from a saved config.json and from anything hashed from
   * its JSON (a sweep's key), so configs saved before the field existed read and hash the same.
   */
  default: T;
  /** One line for `train --help`. */
  help: string;
  /** Its default when its part is built alone, where that differs; REQUIRED: no default there. */
  alone?: T | typeof REQUIRED;
  /** A setting of its level only: the levels around hold `default`, fixed. */
  fixed?: true;
  /** Read only by MoE layers: a value given for a dense model is refused (the command line, config files). */
  moeOnly?: true;
  /** Does not change what a run computes (where it lives, how long it runs, what it records when): a run resumes across a change of it. */
  bookkeeping?: true;
}
interface Bounds {
  min?: number;
  max?: number;
  /** min is exclusive (`> min`). */
  above?: true;
  /** max is exclusive (`< max`). */
  below?: true;
  /** null is allowed and means this (e.g. 'dropless'). */
  orNull?: string;
  /** Why the bound, shown when a value passes it. */
  why?: string;
}

export const int = <const O extends Common<number | null> & Bounds>(o: O) => ({ kind: 'int' as const, ...o });
export const num = <const O extends Common<number | null> & Bounds>(o: O) => ({ kind: 'number' as const, ...o });
export const bool = <const O extends Common<boolean>>(o: O) => ({ kind: 'boolean' as const, ...o });
/** `pathComponent`: one folder name (letters, digits, '.', '_', '-'; not '.' or '..'). `default: undefined`: unset unless given. */
export const text = <const O extends Common<string | undefined> & { pathComponent?: true }>(o: O) => ({ kind: 'text' as const, ...o });
export const choice = <const C extends readonly string[], const O extends Common<C[number]>>(choices: C, o: O) => ({ kind: 'choice' as const, choices, ...o });

/** Any field, as the machinery reads it. */
export type Field = Common<unknown> & Bounds & { kind: 'int' | 'number' | 'boolean' | 'text' | 'choice'; choices?: readonly string[]; pathComponent?: true };
export type Fields = Record<string, Field>;

/** The value type a field declares. */
export type ValueOf<F> = F extends { kind: 'choice'; choices: readonly (infer C)[] }
  ? C
  : F extends { kind: 'boolean' }
    ? boolean
    : F extends { kind: 'text' }
      ? string
      : F extends { orNull: string }
        ? number | null
        : number;

/** The keys a part's config holds (fixed fields of the level inside included). */
export function keysAt(fields: Fields, level: Level): string[] {
  return Object.keys(fields).filter((k) => LEVELS_IN[level].includes(fields[k].level) && !(level === 'run' && fields[k].fixed));
}

/** A part's defaults (a run's, or a part built alone); REQUIRED fields are left out. */
export function defaultsAt(fields: Fields, level: Level, alone: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keysAt(fields, level)) {
    const f = fields[k];
    const d = alone && f.level === level && 'alone' in f ? f.alone : f.default;
    if (d !== REQUIRED && d !== undefined) out[k] = d; // a field unset unless given is absent
  }
  return out;
}

const show = (v: unknown): string => (typeof v === 'number' && Math.abs(v) >= 1e4 && Number.isInteger(v) ? v.toLocaleString('en-US') : String(v));

/** Checks a value is one path component (a folder name inside its parent); `what` names it in the error (`--id`). */
export function checkPathComponent(value: string, what: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(value) || value === '.' || value === '..') {
    throw new Error(`${what} must be one path component of letters, digits, '.', '_' or '-' (not '.' or '..'), got '${value}'`);
  }
}

/** The JS type a field's values have (null aside). */
const jsType = (f: Field): string => (f.kind === 'int' || f.kind === 'number' ? 'number' : f.kind === 'boolean' ? 'boolean' : 'string');

/** A run's voice, as a value comes in: its type, whether it is finite, whole, one of the choices. */
export function inputProblem(f: Field, key: string, v: unknown): string | null {
  if (v === null && f.orNull) return null;
  if (v === undefined && f.default === undefined) return null; // a field unset unless given, left unset
  const want = jsType(f);
  if (typeof v !== want) return `'${key}' must be a ${want}${f.orNull ? ' or null' : ''}, got ${JSON.stringify(v)}`;
  if (want === 'number' && !Number.isFinite(v)) return `'${key}' must be finite, got ${v}`;
  if (f.kind === 'int' && !Number.isInteger(v)) return `'${key}' must be an integer, got ${v}`;
  if (f.kind === 'int' && !Number.isSafeInteger(v)) return `'${key}' is too large to count exactly, got ${v}`;
  if (f.choices && !f.choices.includes(v as string)) return `'${key}' must be one of ${f.choices.join(', ')}, got '${v}'`;
  return null;
}

/** A run's voice, once every value is in: the bound a value of the right type passes. */
export function rangeProblem(f: Field, key: string, v: unknown): string | null {
  if (f.pathComponent) {
    try {
      checkPathComponent(v as string, `'${key}'`);
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (typeof v !== 'number') return null;
  const why = f.why ? ` (${f.why})` : '';
  if (f.min !== undefined && (f.above ? !(v > f.min) : v < f.min)) return `'${key}' must be ${f.above ? '>' : '≥'} ${show(f.min)}${why}, got ${v}`;
  if (f.max !== undefined && (f.below ? !(v < f.max) : v > f.max)) return `'${key}' must be ${f.below ? '<' : '≤'} ${show(f.max)}${why}, got ${v}`;
  return null;
}

/** What a value must be, in one phrase: "an integer ≥ 1", "a number in [0, 1)", "a finite number > 0 or null (dropless)". */
function wanted(f: Field): string {
  if (f.kind === 'boolean') return 'true or false';
  if (f.kind !== 'int' && f.kind !== 'number') return 'a string';
  const lo = f.min === undefined ? '' : `${f.above ? '(' : '['}${f.min}`;
  const hi = f.max === undefined ? '' : `${f.max}${f.below ? ')' : ']'}`;
  const range = lo && hi ? ` in ${lo}, ${hi}` : lo ? ` ${f.above ? '>' : '≥'} ${f.min}` : hi ? ` ${f.below ? '<' : '≤'} ${f.max}` : '';
  const what = f.kind === 'int' ? 'an integer' : lo && hi ? 'a number' : 'a finite number';
  return `${what}${range}${f.orNull ? ` or null (${f.orNull})` : ''}`;
}

/** A part built alone, in one go: `seqLen must be an integer ≥ 1, got 0`, `unknown router 'top3' (choose …)`. */
export function aloneProblem(f: Field, key: string, v: unknown): string | null {
  if (v === null && f.orNull) return null;
  if (f.choices) return f.choices.includes(v as string) ? null : `unknown ${key} '${String(v)}' (choose ${f.choices.join(', ')})`;
  const ok = typeof v === jsType(f) && !(typeof v === 'number' && !Number.isFinite(v)) && !(f.kind === 'int' && !Number.isSafeInteger(v)) && rangeProblem(f, key, v) === null;
  return ok ? null : `${key} must be ${wanted(f)}, got ${String(v)}`;
}

/** Parses a `--key=value` string into the field's type. */
export function parseValue(f: Field, key: string, raw: string): unknown {
  if (raw === 'null' && f.orNull) return null;
  switch (jsType(f)) {
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || Number.isNaN(v)) throw new Error(`--${key}: expected a number${f.orNull ? " or 'null'" : ''}, got '${raw}'`);
      return v;
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new Error(`--${key}: expected true or false, got '${raw}'`);
    default:
      return raw;
  }
}

/** A check across fields: the problem, or null. `given` holds the keys set explicitly (a part built alone). */
export type Rule<C> = (c: C, given: ReadonlySet<string>) => string | null;

const resolvedAt = new WeakMap<object, Level>();

/** Marks `c` as resolved at `level` (by the resolver, or as a view of a resolved config). */
export function markResolved<C extends object>(c: C, level: Level): C {
  resolvedAt.set(c, level);
  return c;
}

/** The level `c` was resolved at, or undefined for any other object. */
export function resolvedLevel(c: unknown): Level | undefined {
  return typeof c === 'object' && c !== null ? resolvedAt.get(c) : undefined;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Resolves a part built alone: unknown keys refused, undefined values and missing keys take the
 * part's defaults, then every field and rule is checked. Errors start with `title:`.
 */
export function resolveAlone(fields: Fields, level: Level, partial: unknown, rules: Rule<Record<string, unknown>>[], title: string): Record<string, unknown> {
  if (!isPlainObject(partial)) throw new Error(`${title}: expected an object, got ${String(partial)}`);
  const keys = keysAt(fields, level);
  const given = new Set(Object.keys(partial).filter((k) => partial[k] !== undefined));
  for (const key of Object.keys(partial)) {
    // Own keys only: `in` would accept '__proto__', 'constructor', 'toString', …
    if (!keys.includes(key)) throw new Error(`${title}: unknown key '${key}' (known: ${keys.join(', ')})`);
  }
  const c: Record<string, unknown> = defaultsAt(fields, level, true);
  for (const k of given) c[k] = partial[k];
  for (const key of keys) {
    const f = fields[key];
    if (f.fixed && f.level !== level && c[key] !== f.default) throw new Error(`${title}: ${key} is always '${String(f.default)}' here, got '${String(c[key])}'`);
    const problem = aloneProblem(f, key, c[key]);
    if (problem) throw new Error(`${title}: ${problem}`);
  }
  for (const rule of rules) {
    const problem = rule(c, given);
    if (problem) throw new Error(`${title}: ${problem}`);
  }
  return c;
}

/**
 * Resolves a run's config: the defaults, then each layer of values over them in order (a preset,
 * a config file, the command line), each value checked as it comes in and named by its layer's
 * source; then every bound and rule. Returns a new object in the fields' order.
 */
export function resolveRun(fields: Fields, layers: { source: string; values: unknown }[], rules: Rule<Record<string, unknown>>[]): Record<string, unknown> {
  const keys = keysAt(fields, 'run');
  const c = defaultsAt(fields, 'run', false);
  for (const { source, values } of layers) {
    if (!isPlainObject(values)) throw new Error(`${source}: config must be an object`);
    for (const [key, v] of Object.entries(values)) {
      checkKnown(keys, key, source);
      const problem = inputProblem(fields[key], key, v);
      if (problem) throw new Error(`${source}: ${problem}`);
      c[key] = v;
    }
  }
  for (const key of keys) {
    const problem = rangeProblem(fields[key], key, c[key]);
    if (problem) throw new Error(`config: ${problem}`);
  }
  for (const rule of rules) {
    const problem = rule(c, new Set());
    if (problem) throw new Error(`config: ${problem}`);
  }
  // A field unset unless given (`default: undefined`) and not given is absent, as in the JSON it is written to.
  for (const key of keys) if (c[key] === undefined) delete c[key];
  return markResolved(c, 'run');
}

/** Throws naming the source when `key` is not one of a run's keys. */
export function checkKnown(keys: readonly string[], key: string, source: string): void {
  if (!keys.includes(key)) throw new Error(`${source}: unknown config key '${key}' (known: ${keys.join(', ')})`);
}
