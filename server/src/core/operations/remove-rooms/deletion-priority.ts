import type { GameRoom, RoomStatusName } from "../../entities/game-room.js";
import type { Scheduler } from "../../entities/scheduler.js";
import { isSameMajor } from "../../entities/semver.js";

/**
 * Maestro's removal order: rooms that are no use first (error, stale ping, other major version, unready…), then
 * pending, ready and finally occupied rooms of the active major version. Rooms already terminating are skipped: their
 * removal is under way.
 */
export function roomsByDeletionPriority(
  rooms: readonly GameRoom[],
  scheduler: Scheduler,
  opts: { now: Date; pingTimeoutMs: number },
): GameRoom[] {
  const rank = (room: GameRoom): number => {
    if (room.status === "error") return 0;
    if (opts.now.getTime() - room.lastPingAt.getTime() > opts.pingTimeoutMs) return 1;
    if (!isSameMajor(room.version, scheduler.spec.version)) return 2;
    const order: Partial<Record<RoomStatusName, number>> = { unready: 3, pending: 4, ready: 5, active: 6, allocated: 7 };
    return order[room.status] ?? 8; // occupied last
  };
  return rooms
    .filter((r) => r.status !== "terminating" && r.status !== "terminated")
    .map((room) => ({ room, rank: rank(room) }))
    .sort((a, b) => a.rank - b.rank || a.room.id.localeCompare(b.room.id))
    .map((x) => x.room);
}
