import type { GameRoom, RoomStatusName } from "../../entities/game-room.js";
import type { Scheduler } from "../../entities/scheduler.js";
import { isSameMajor } from "../../entities/semver.js";

/** Within a group, the rooms whose loss costs least go first; occupied rooms (players in a match) last. */
const statusOrder: Partial<Record<RoomStatusName, number>> = {
  unready: 0,
  pending: 1,
  ready: 2,
  active: 3,
  allocated: 4,
};
const OCCUPIED_ORDER = 5;

/**
 * Maestro's removal order: rooms in error, then rooms whose last ping is older than the ping timeout (oldest first),
 * then rooms of another major version, then rooms of the active major version; inside the last two groups unready,
 * pending, ready, active, allocated and finally occupied. Rooms already terminating are skipped: their removal is
 * under way.
 */
export function roomsByDeletionPriority(
  rooms: readonly GameRoom[],
  scheduler: Scheduler,
  opts: { now: Date; pingTimeoutMs: number },
): GameRoom[] {
  const rank = (room: GameRoom): number => {
    if (room.status === "error") return 0;
    if (opts.now.getTime() - room.lastPingAt.getTime() > opts.pingTimeoutMs) return 1;
    const byStatus = statusOrder[room.status] ?? OCCUPIED_ORDER;
    return (isSameMajor(room.version, scheduler.spec.version) ? 20 : 10) + byStatus;
  };
  return rooms
    .filter((r) => r.status !== "terminating" && r.status !== "terminated")
    .map((room) => ({ room, rank: rank(room) }))
    .sort(
      (a, b) =>
        a.rank - b.rank ||
        (a.rank === 1 ? a.room.lastPingAt.getTime() - b.room.lastPingAt.getTime() : 0) ||
        byCodeUnits(a.room.id, b.room.id),
    )
    .map((x) => x.room);
}

/** Redis ZSET member order (bytes), not the locale's, which ignores '-'. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
