import type { GameRoom, Instance, RoomStatusName } from "../entities/game-room.js";
import type { CallOptions } from "./call-options.js";

export interface RoomStorage {
  /** Throws already_exists. */
  createRoom(room: GameRoom, opts?: CallOptions): Promise<void>;
  /** Undefined when absent. */
  getRoom(schedulerName: string, roomId: string, opts?: CallOptions): Promise<GameRoom | undefined>;
  /** Replaces the stored room; throws not_found (an update never resurrects a deleted room). */
  updateRoom(room: GameRoom, opts?: CallOptions): Promise<void>;
  /** Throws not_found. */
  deleteRoom(schedulerName: string, roomId: string, opts?: CallOptions): Promise<void>;
  listRooms(schedulerName: string, opts?: CallOptions): Promise<GameRoom[]>;
  listRoomIds(schedulerName: string, opts?: CallOptions): Promise<string[]>;
  countByStatus(schedulerName: string, opts?: CallOptions): Promise<Record<RoomStatusName, number>>;
  /**
   * Atomically turns one `ready` room (lowest id first; never a version's validation room) whose metadata has every key/value of `metadataSelector` into
   * `allocated` at `now`, and returns it; undefined when none qualifies. With an `idempotencyKey` seen within `ttlMs`,
   * returns the room that key got before instead of allocating another.
   */
  allocateRoom(schedulerName: string, request: AllocationRequest, opts?: CallOptions): Promise<GameRoom | undefined>;
  /** Status changes of one scheduler's rooms, until the signal aborts. */
  watchRoomStatus(schedulerName: string, opts: Required<CallOptions>): AsyncIterable<RoomStatusEvent>;
}

export interface AllocationRequest {
  now: Date;
  metadataSelector?: Record<string, string> | undefined;
  idempotencyKey?: string | undefined;
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
