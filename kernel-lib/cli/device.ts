/** `device`: which backend and device a run would use, as JSON. */
import { startBackend } from './common.ts';

export async function deviceCommand(options: Record<string, unknown>): Promise<number> {
  const info = await startBackend(options);
  process.stdout.write(JSON.stringify(info) + '\n');
  return 0;
}
