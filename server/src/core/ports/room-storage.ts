import type { GameRoom, Instance, RoomStatusName } from "../entities/game-room.js";
import type { PingUpdate, StatusContext } from "../entities/room-ping.js";
import type { RemovalGuard } from "../entities/room-removal.js";
import type { CallOptions } from "./call-options.js";

export interface RoomStorage {
  /** Throws already_exists. */
  createRoom(room: GameRoom, opts?: CallOptions): Promise<void>;
  /** Undefined when absent. */
  getRoom(schedulerName: string, roomId: string, opts?: CallOptions): Promise<GameRoom | undefined>;
  /**
   * Replaces the stored room; throws not_found (an update never resurrects a deleted room). With `room.revision` set,
   * replaces it only if the stored room still has that revision, else throws conflict: a write computed from a read
   * never overwrites a write it did not see. The stored revision grows on every write.
   */
  updateRoom(room: GameRoom, opts?: CallOptions): Promise<void>;
  /**
   * Recomputes a room's status from its stored instance (`applyInstanceToRoom`) in one atomic step and returns the
   * stored room afterwards; undefined for an unknown room. A transition the room may not make writes nothing.
   */
  applyInstanceStatus(
    schedulerName: string,
    roomId: string,
    ctx: StatusContext,
    opts?: CallOptions,
  ): Promise<GameRoom | undefined>;
  /**
   * Claims a room for removal in one atomic step with the guard's check (`removalRefusal`): a claimed room is
   * `terminating`, out of allocation for good, and stays terminating whatever it pings. Allocation and a guarded claim
   * exclude each other: a room allocated before the claim is refused, a claimed room is never allocated.
   */
  claimForRemoval(
    schedulerName: string,
    roomId: string,
    guard: RemovalGuard,
    opts?: CallOptions,
  ): Promise<RemovalClaim>;
  /** Throws not_found. */
  deleteRoom(schedulerName: string, roomId: string, opts?: CallOptions): Promise<void>;
  /**
   * Applies a room's ping in one atomic step against the stored room and its instance (`applyPingToRoom`): writes the
   * ping status, running matches, metadata, lastPingAt and the composed status, publishes a status change, and returns
   * the room. Throws not_found for an unknown room and failed_precondition for a refused transition, writing nothing.
   */
  applyPing(schedulerName: string, roomId: string, ping: PingUpdate, opts?: CallOptions): Promise<GameRoom>;
  /**
   * applyPing answering only the room's status after the ping, for callers that need no more (a ping no forwarder
   * sees): storage skips reading the room back, most of a ping's reply. Same writes, same errors.
   */
  recordPing(schedulerName: string, roomId: string, ping: PingUpdate, opts?: CallOptions): Promise<RoomStatusName>;
  listRooms(schedulerName: string, opts?: CallOptions): Promise<GameRoom[]>;
  listRoomIds(schedulerName: string, opts?: CallOptions): Promise<string[]>;
  countByStatus(schedulerName: string, opts?: CallOptions): Promise<Record<RoomStatusName, number>>;
  /**
   * countByStatus of each named scheduler, in the order given, in one round trip where the store allows: the
   * dashboard's sampler and scheduler info ask for every scheduler at once.
   */
  countByStatusOf(schedulerNames: readonly string[], opts?: CallOptions): Promise<Record<RoomStatusName, number>[]>;
  /**
   * Atomically hands out one match slot and returns its room; undefined when none qualifies. Candidates are never a
   * version's validation room nor claimed for removal, and their metadata has every key/value of `metadataSelector`
   * (scalar values, compared as String(value)). With `maxMatches` > 1, rooms already holding matches (`active` or
   * `allocated`, 1 <= runningMatches < maxMatches) are packed first — the
   * fullest, then the lowest id — taking one slot (runningMatches + 1; `occupied` once full); otherwise the lowest-id
   * `ready` room becomes `allocated` at `now` (with runningMatches 1 when multi-match). A multi-match slot outlives
   * pings reporting fewer matches until `ttlMs` passes (see applyPingToRoom). With an `idempotencyKey` seen
   * within `ttlMs`, returns the room that key got before instead of allocating another.
   */
  allocateRoom(schedulerName: string, request: AllocationRequest, opts?: CallOptions): Promise<GameRoom | undefined>;
  /** Status changes of one scheduler's rooms, until the signal aborts. */
  watchRoomStatus(schedulerName: string, opts: Required<CallOptions>): AsyncIterable<RoomStatusEvent>;
}

export type RemovalClaim =
  | { outcome: "claimed"; room: GameRoom }
  | { outcome: "refused"; reason: string; room: GameRoom }
  | { outcome: "not_found" };

export interface AllocationRequest {
  now: Date;
  metadataSelector?: Record<string, string> | undefined;
  idempotencyKey?: string | undefined;
  /** The scheduler's matchAllocation.maxMatches; 1 when absent. */
  maxMatches?: number | undefined;
  /** How long an idempotency key is remembered (the allocation TTL). */
  ttlMs: number;
}

export interface RoomStatusEvent {
  schedulerName: string;
  roomId: string;
  status: RoomStatusName;
}

export interface InstanceStorage {
  upsertInstance(instance: Instance, opts?: CallOptions): Promise<void>;
  getInstance(schedulerName: string, roomId: string, opts?: CallOptions): Promise<Instance | undefined>;
  /** No error when absent: deleting twice is normal (watcher and worker race). */
  deleteInstance(schedulerName: string, roomId: string, opts?: CallOptions): Promise<void>;
  listInstances(schedulerName: string, opts?: CallOptions): Promise<Instance[]>;
}
