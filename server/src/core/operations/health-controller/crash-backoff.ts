/**
 * Slows down replacing rooms that keep crashing (a wrong command, a missing file), the way Kubernetes backs off a
 * crash-looping container: the first crash is replaced at once, then each further one doubles the wait up to `maxMs`.
 * A room created after the last crash that becomes ready proves the fix and clears the record.
 */
export class CrashBackoff {
  private readonly bySchedulers = new Map<
    string,
    {
      crashes: number;
      lastCrashAt: number;
      lastError: string;
      lastRoomId: string;
      lastVersion: string;
      counted: Set<string>;
    }
  >();

  constructor(
    private readonly baseMs = 1_000,
    private readonly maxMs = 60_000,
  ) {}

  /** Records crashed rooms; a room seen again (its removal still pending) is not counted twice. */
  crashed(
    scheduler: string,
    roomIds: readonly string[],
    lastError: string,
    now: number,
    lastRoom: { id: string; version: string } = { id: roomIds[roomIds.length - 1] ?? "", version: "" },
  ): void {
    const s = this.bySchedulers.get(scheduler) ?? {
      crashes: 0,
      lastCrashAt: 0,
      lastError: "",
      lastRoomId: "",
      lastVersion: "",
      counted: new Set<string>(),
    };
    const fresh = roomIds.filter((id) => !s.counted.has(id));
    if (fresh.length === 0) return;
    for (const id of fresh) s.counted.add(id);
    this.bySchedulers.set(scheduler, {
      ...s,
      crashes: s.crashes + fresh.length,
      lastCrashAt: now,
      lastError,
      lastRoomId: lastRoom.id,
      lastVersion: lastRoom.version,
    });
  }

  /** The crashes on record (none once a room came up after the last one). */
  record(
    scheduler: string,
  ): { crashes: number; lastCrashAt: number; lastError: string; lastRoomId: string; lastVersion: string } | undefined {
    const s = this.bySchedulers.get(scheduler);
    if (!s) return undefined;
    const { counted: _, ...record } = s;
    return record;
  }

  /** Clears the record when a room created after the last crash is up. */
  observeHealthy(scheduler: string, roomCreatedAt: number): void {
    const s = this.bySchedulers.get(scheduler);
    if (s && roomCreatedAt > s.lastCrashAt) this.bySchedulers.delete(scheduler);
  }

  /** How long adding rooms must still wait, with the last crash's reason; undefined when it need not wait. */
  waiting(scheduler: string, now: number): { remainingMs: number; crashes: number; lastError: string } | undefined {
    const s = this.bySchedulers.get(scheduler);
    if (!s || s.crashes < 2) return undefined;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(s.crashes - 2, 30));
    const remainingMs = s.lastCrashAt + delay - now;
    return remainingMs > 0 ? { remainingMs, crashes: s.crashes, lastError: s.lastError } : undefined;
  }
}
