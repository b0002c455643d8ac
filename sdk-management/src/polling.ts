import type { GameRoom } from "@maestro/proto";

const finalStatuses = new Set(["finished", "error", "canceled", "evicted"]);

export function isFinalStatus(status: string): boolean {
  return finalStatuses.has(status);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RoomChange {
  type: "added" | "updated" | "removed";
  room: GameRoom;
}

// lastPingAt moves on every ping; comparing it would report every room as updated on every poll.
function fingerprint(r: GameRoom): string {
  return JSON.stringify([
    r.status,
    r.pingStatus,
    r.runningMatches,
    r.instanceStatus,
    r.version,
    r.host,
    r.ports.map((p) => p.port),
    r.allocatedAt?.seconds.toString(),
  ]);
}

/** Diffs successive listings into changes; ends quietly when the signal aborts. */
export async function* roomChanges(
  list: (signal?: AbortSignal) => Promise<GameRoom[]>,
  intervalMs: number,
  signal?: AbortSignal,
): AsyncGenerator<RoomChange> {
  const known = new Map<string, { room: GameRoom; print: string }>();
  while (!signal?.aborted) {
    let rooms: GameRoom[];
    try {
      rooms = await list(signal);
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    const current = new Set<string>();
    for (const room of rooms) {
      current.add(room.id);
      const print = fingerprint(room);
      const before = known.get(room.id);
      known.set(room.id, { room, print });
      if (!before) yield { type: "added", room };
      else if (before.print !== print) yield { type: "updated", room };
    }
    for (const [id, { room }] of known) {
      if (!current.has(id)) {
        known.delete(id);
        yield { type: "removed", room };
      }
    }
    try {
      await abortableSleep(intervalMs, signal);
    } catch {
      return;
    }
  }
}
