import type { GameRoom, RoomStatusName } from "./game-room.js";

/**
 * What a removal may take. Scaling (scale-down, remove_rooms by amount, rolling updates) must never take a room in a
 * match, and the check must be atomic with the claim: storage evaluates the guard against the stored room in the
 * same step that claims it (claim-room-removal.lua mirrors `removalRefusal`).
 *
 * - `any`: removing a room by its id, deleting the scheduler.
 * - `idle`: never a room that is allocated, active or occupied, nor one allocated within the allocation TTL.
 * - `allocatedBefore`: a room judged expired at `since` (ping or occupied timeout, error) goes unless it was allocated
 *   at or after `since`: a matchmaker got it after the judgement, so the next health check decides again.
 */
export type RemovalGuard =
  | { kind: "any" }
  | { kind: "idle"; now: Date; allocationTtlMs: number }
  | { kind: "allocatedBefore"; since: Date };

export const busyStatuses: readonly RoomStatusName[] = ["allocated", "active", "occupied"];

/** Why the guard refuses to remove the room, or undefined when it may go. */
export function removalRefusal(room: GameRoom, guard: RemovalGuard): string | undefined {
  switch (guard.kind) {
    case "any":
      return undefined;
    case "idle":
      if (busyStatuses.includes(room.status)) return `room ${room.id} is ${room.status}`;
      if (room.allocatedAt !== undefined && guard.now.getTime() - room.allocatedAt.getTime() <= guard.allocationTtlMs) {
        return `room ${room.id} was allocated within the allocation TTL`;
      }
      return undefined;
    case "allocatedBefore":
      if (room.allocatedAt !== undefined && room.allocatedAt.getTime() >= guard.since.getTime()) {
        return `room ${room.id} was allocated after it was found expired`;
      }
      return undefined;
  }
}

/**
 * The room once claimed for removal: terminating (when that transition is allowed; a terminated or failed room keeps
 * its status) and marked so that nothing makes it allocatable again.
 */
export function claimedRoom(room: GameRoom): GameRoom {
  const status = claimedStatus(room.status);
  return { ...room, status, removing: true, occupiedAt: undefined };
}

export function claimedStatus(status: RoomStatusName): RoomStatusName {
  return status === "terminated" || status === "error" ? status : "terminating";
}

/** A room claimed for removal stays terminating whatever it reports, unless it reports it is gone or failed. */
export function keepClaimed(room: Pick<GameRoom, "removing">, status: RoomStatusName): RoomStatusName {
  if (room.removing !== true) return status;
  return status === "terminated" || status === "error" ? status : "terminating";
}
