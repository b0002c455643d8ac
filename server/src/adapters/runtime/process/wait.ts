import { setTimeout as sleep } from "node:timers/promises";

/** Polls `done` until it holds or `ms` pass; returns whether it held. */
export async function pollUntil(done: () => boolean, ms: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
  return true;
}
