/** Room lifecycle timeouts (Maestro's services.roomManager.* settings), in milliseconds. */
export interface RoomTimeouts {
  /** A room that has not become ready this long after creation is replaced. */
  initializationMs: number;
  /** A room that has not pinged for this long is replaced. */
  pingMs: number;
  /** A terminating room that has not finished this long after its last ping is removed. */
  deletionMs: number;
  /** How long an allocation holds a ready room. */
  allocationTtlMs: number;
}

export const defaultRoomTimeouts: RoomTimeouts = {
  initializationMs: 120_000,
  pingMs: 240_000,
  deletionMs: 120_000,
  allocationTtlMs: 300_000,
};
