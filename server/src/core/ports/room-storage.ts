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
  /** Status changes of one scheduler's rooms, until the signal aborts. */
  watchRoomStatus(schedulerName: string, opts: Required<CallOptions>): AsyncIterable<RoomStatusEvent>;
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
