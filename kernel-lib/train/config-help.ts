/** Help for the training config keys: what each does, its type and default (`train --help`), from the schema. */
import { CONFIG_FIELDS } from '../config/fields.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './config.ts';

/** One line per key: the fields' help (config/fields.ts holds the full story). */
export const TRAIN_CONFIG_HELP = Object.fromEntries(Object.keys(DEFAULT_TRAIN_CONFIG).map((k) => [k, CONFIG_FIELDS[k as keyof TrainConfig].help])) as Record<keyof TrainConfig, string>;

export function formatConfigHelp(): string {
  // A key unset unless given (initFrom) shows `(unset)`.
  const rows = Object.entries(DEFAULT_TRAIN_CONFIG).map(([k, v]) => [`--${k}=${v === undefined ? '(unset)' : JSON.stringify(v)}`, TRAIN_CONFIG_HELP[k as keyof TrainConfig]] as const);
  const width = Math.max(...rows.map(([a]) => a.length));
  return 'config keys (--key=value; defaults shown):\n' + rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`).join('\n');
}
