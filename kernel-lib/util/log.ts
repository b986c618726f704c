/** Logs go to stderr with one prefix: stdout carries only a command's output. */
export function log(msg: string): void {
  process.stderr.write(`[switchyard] ${msg}\n`);
}
