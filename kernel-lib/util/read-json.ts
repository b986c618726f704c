/** Reading a JSON record that may be missing or torn (being written, or cut off by a crash). */
import { readFileSync } from 'node:fs';

/** The parsed file, or null when it is missing or not valid JSON. */
export function readJsonOrNull<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
