/**
 * Stopping at a step boundary when asked: the CLI aborts the run's signal on SIGINT and SIGTERM
 * (cli/signals.ts); after every step the loop gives the event loop its turn, then asks whether to
 * stop (it then reads its metrics back, writes a checkpoint and records why: loop.ts).
 */

/** Lets waiting callbacks run: a wasm or cpu step never yields on its own, and a signal handler and the run lock's heartbeat timer wait for the event loop. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Why `signal` asks the run to stop (its abort reason), or null while it does not. */
export function stopReason(signal: AbortSignal | undefined): string | null {
  if (!signal?.aborted) return null;
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
}
