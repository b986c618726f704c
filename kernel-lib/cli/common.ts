/** Options every command takes, and the backend start-up they share. */
import { BACKEND_NAMES, backendFromEnv, useBackend, type DeviceInfo } from '../backend/index.ts';
import type { OptionSpecs } from './args.ts';

export const COMMON_OPTIONS: OptionSpecs = {
  backend: { type: 'string', choices: BACKEND_NAMES, help: 'tfjs backend (env SWITCHYARD_BACKEND); auto = hardware GPU, else tensorflow, wasm, cpu' },
  help: { type: 'boolean', help: 'show this help' },
};

/** Starts the backend from --backend, else SWITCHYARD_BACKEND, else auto. Logs the device to stderr. */
export function startBackend(options: Record<string, unknown>): Promise<DeviceInfo> {
  return useBackend((options.backend as string | undefined) ?? backendFromEnv());
}

export { log } from '../util/log.ts';
