/**
 * Bounded concurrency for the chat provider: at most `n` tasks in flight, and the first error stops
 * the rest (abort signal to those in flight, nothing new started) and is the one thrown.
 */
import { setTimeout as sleep } from "node:timers/promises";

export async function runPool<T>(items: readonly T[], n: number, work: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const ctl = new AbortController();
  let next = 0;
  let first: { error: unknown } | null = null;
  const worker = async () => {
    while (!ctl.signal.aborted && next < items.length) {
      const item = items[next++];
      try {
        await work(item, ctl.signal);
      } catch (e) {
        first ??= { error: e };
        ctl.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (first) throw (first as { error: unknown }).error;
}

/**
 * A shared hold-off: a 429's Retry-After pauses every worker until it has passed, so a rate-limited
 * server is not hit by the other n-1 workers in the meantime.
 */
export class Gate {
  private until = 0;
  hold(ms: number): void {
    this.until = Math.max(this.until, Date.now() + ms);
  }
  async pass(signal?: AbortSignal): Promise<void> {
    for (let wait = this.until - Date.now(); wait > 0; wait = this.until - Date.now()) await sleep(wait, undefined, { signal });
  }
}
