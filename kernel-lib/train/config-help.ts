/** Help text for the training config keys: name, type and default. */
import { DEFAULT_TRAIN_CONFIG } from './config.ts';

export function formatConfigHelp(): string {
  return (
    'config keys (--key=value; defaults shown; see kernel-lib/train/config.ts for what each means):\n' +
    Object.entries(DEFAULT_TRAIN_CONFIG)
      .map(([k, v]) => `  --${k}=${JSON.stringify(v)}`)
      .join('\n')
  );
}
