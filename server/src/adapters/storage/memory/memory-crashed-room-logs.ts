import type { CallOptions } from "../../../core/ports/call-options.js";
import type { CrashedRoomLogs } from "../../../core/ports/crashed-room-logs.js";
import { throwIfAborted } from "./abort.js";

/** CrashedRoomLogs in process memory (the embedded default, where API and worker share one process). */
export class MemoryCrashedRoomLogs implements CrashedRoomLogs {
  /** scheduler → room id → its tail and when it was kept. */
  private readonly kept = new Map<string, Map<string, { log: string; at: number }>>();

  async keep(
    schedulerName: string,
    roomId: string,
    log: string,
    at: Date,
    keepLast: number,
    opts?: CallOptions,
  ): Promise<void> {
    throwIfAborted(opts);
    const rooms = this.kept.get(schedulerName) ?? new Map<string, { log: string; at: number }>();
    rooms.set(roomId, { log, at: at.getTime() });
    // Oldest first, ties by room id: the order the Redis adapter's sorted set gives.
    const byAge = [...rooms].sort(([a, x], [b, y]) => x.at - y.at || (a < b ? -1 : a > b ? 1 : 0));
    for (const [id] of byAge.slice(0, Math.max(byAge.length - Math.max(keepLast, 1), 0))) rooms.delete(id);
    this.kept.set(schedulerName, rooms);
  }

  async get(schedulerName: string, roomId: string, opts?: CallOptions): Promise<string | undefined> {
    throwIfAborted(opts);
    return this.kept.get(schedulerName)?.get(roomId)?.log;
  }

  async deleteScheduler(schedulerName: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    this.kept.delete(schedulerName);
  }
}
