import { MaestroError } from "../errors.js";
import {
  calculateRoomStatus,
  type GameRoom,
  type InstanceStatusType,
  isValidTransition,
  type PingStatus,
  type RoomStatusName,
} from "./game-room.js";
import { keepClaimed } from "./room-removal.js";

/**
 * One ping as storage applies it. Everything the status composition needs besides the stored room and instance is
 * here, so storage can apply it in one atomic step (the Redis adapter mirrors `applyPingToRoom` in apply-ping.lua).
 */
export interface PingUpdate {
  status: Exclude<PingStatus, "unknown">;
  runningMatches: number;
  /** Replaces the room's metadata; undefined keeps it. */
  metadata?: Record<string, unknown> | undefined;
  now: Date;
  /** The scheduler's matchAllocation.maxMatches. */
  maxMatches: number;
  /** How long an allocation holds a room that keeps pinging `ready`. */
  allocationTtlMs: number;
}

export type PingOutcome = { ok: true; room: GameRoom } | { ok: false; from: RoomStatusName; to: RoomStatusName };

/** The room after a ping, or the refused transition (then nothing may be written). */
export function applyPingToRoom(room: GameRoom, instance: InstanceStatusType, ping: PingUpdate): PingOutcome {
  // A multi-match allocation takes a slot (runningMatches + 1) before the room knows of the match; until the
  // allocation TTL passes, a ping reporting fewer matches must not free that slot for another caller.
  const held =
    ping.maxMatches > 1 &&
    room.allocatedAt !== undefined &&
    ping.now.getTime() - room.allocatedAt.getTime() <= ping.allocationTtlMs;
  const pinged: GameRoom = {
    ...room,
    pingStatus: ping.status,
    runningMatches: held ? Math.max(ping.runningMatches, room.runningMatches) : ping.runningMatches,
    metadata: ping.metadata ?? room.metadata,
    lastPingAt: ping.now,
  };
  const status = keepClaimed(
    room,
    calculateRoomStatus(pinged, instance, {
      maxMatches: ping.maxMatches,
      now: ping.now,
      allocationTtlMs: ping.allocationTtlMs,
    }),
  );
  if (!isValidTransition(room.status, status)) return { ok: false, from: room.status, to: status };
  const occupiedAt = status !== "occupied" ? undefined : room.status === "occupied" ? room.occupiedAt : ping.now;
  return { ok: true, room: { ...pinged, status, occupiedAt } };
}

/** What composing a room's status needs besides the room and its instance. */
export interface StatusContext {
  now: Date;
  /** The scheduler's matchAllocation.maxMatches. */
  maxMatches: number;
  /** How long an allocation holds a room that keeps pinging `ready`. */
  allocationTtlMs: number;
}

/**
 * The room after its runtime instance changed (RoomManager.updateInstance), or undefined when its status stays or
 * may not change (then nothing is written). Storage applies it atomically against the stored room, like a ping
 * (apply-instance.lua mirrors it), so an instance event never overwrites a ping or an allocation it did not see.
 */
export function applyInstanceToRoom(
  room: GameRoom,
  instance: InstanceStatusType,
  ctx: StatusContext,
): GameRoom | undefined {
  const status = keepClaimed(room, calculateRoomStatus(room, instance, ctx));
  if (status === room.status || !isValidTransition(room.status, status)) return undefined;
  const occupiedAt = status !== "occupied" ? undefined : room.status === "occupied" ? room.occupiedAt : ctx.now;
  return { ...room, status, occupiedAt };
}

/** The error every adapter throws for a refused ping, so the API answer does not depend on the storage. */
export function pingTransitionRefused(
  roomId: string,
  from: RoomStatusName,
  to: RoomStatusName,
  ping: PingUpdate["status"],
): MaestroError {
  return new MaestroError(
    "failed_precondition",
    `room ${roomId} cannot move from ${from} to ${to} (ping status ${ping})`,
  );
}
