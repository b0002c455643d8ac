import type { GameRoom, Instance } from "../../entities/game-room.js";
import type { RoomTimeouts } from "../../services/timeouts.js";

export interface RoomClassification {
  /** Rooms that count towards the desired number. */
  available: GameRoom[];
  /** Rooms to replace. */
  expired: GameRoom[];
  /** Ids known to only one of room storage and instance storage. */
  orphanRoomIds: string[];
  orphanInstanceIds: string[];
}

/**
 * Maestro's health-controller classification, plus one change: a room whose runtime instance is in `error` (its
 * process crashed, its pod failed) is replaced at once instead of lingering until a scale-down picks it.
 */
export function classifyRooms(
  rooms: readonly GameRoom[],
  instances: readonly Instance[],
  opts: {
    now: Date;
    timeouts: RoomTimeouts;
    /** Maestro v9's occupiedTimeout: a room occupied longer than this is replaced (a stuck match); unset = never. */
    occupiedTimeoutMs?: number | undefined;
  },
): RoomClassification {
  const byId = new Map(instances.map((i) => [i.id, i]));
  const roomIds = new Set(rooms.map((r) => r.id));
  const result: RoomClassification = {
    available: [],
    expired: [],
    orphanRoomIds: [],
    orphanInstanceIds: instances.filter((i) => !roomIds.has(i.id)).map((i) => i.id),
  };
  const now = opts.now.getTime();
  const t = opts.timeouts;
  for (const room of rooms) {
    const instance = byId.get(room.id);
    if (!instance) {
      result.orphanRoomIds.push(room.id);
      continue;
    }
    if (instance.status.type === "unknown") continue;
    // A pod still being scheduled counts as coming: replacing it would not make capacity appear any sooner.
    if (instance.status.type === "pending") {
      result.available.push(room);
      continue;
    }
    const sincePing = now - room.lastPingAt.getTime();
    const expired =
      room.status === "terminated" ||
      room.status === "error" ||
      ((room.status === "pending" || room.status === "unready") &&
        now - room.createdAt.getTime() > t.initializationMs) ||
      (room.status === "terminating" && sincePing > t.deletionMs) ||
      (room.status !== "pending" && sincePing > t.pingMs) ||
      (room.status === "occupied" &&
        opts.occupiedTimeoutMs !== undefined &&
        room.occupiedAt !== undefined &&
        now - room.occupiedAt.getTime() > opts.occupiedTimeoutMs);
    if (expired) result.expired.push(room);
    else if (room.status !== "terminating") result.available.push(room);
  }
  return result;
}
