import type { Redis } from "ioredis";
import {
  type GameRoom,
  pingStatuses,
  RoomStatus,
  type RoomStatusName,
  roomStatusNames,
} from "../../../core/entities/game-room.js";
import { type PingUpdate, pingTransitionRefused } from "../../../core/entities/room-ping.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import type { AllocationRequest, RoomStatusEvent, RoomStorage } from "../../../core/ports/room-storage.js";
import { defineLuaScript, type LuaScript } from "./lua-scripts.js";
import { redisCall } from "./redis-errors.js";
import {
  instanceMapKey,
  roomAllocationKey,
  roomHashKey,
  roomHashPrefix,
  roomOccupancyKey,
  roomPingKey,
  roomStatusChannel,
  roomStatusKey,
} from "./redis-keys.js";
import {
  decodeRoom,
  encodeRoom,
  encodeStatusEvent,
  flatToRecord,
  statusByScoreText,
  statusScore,
} from "./room-hash.js";
import { RoomStatusWatch } from "./room-status-watch.js";

// Rooms per pipeline when listing, so one listing of a huge scheduler does not build one giant reply.
const batchSize = 500;

/**
 * RoomStorage on Redis with Maestro's keys: a hash per room (`scheduler:{s}:rooms:{room}`) and the `status`, `ping`
 * and `occupancy` sorted sets, changed together by Lua scripts that also publish `{roomId,status}` on
 * `scheduler:{s}:rooms:statuschan` when a room is created or its status changes (a delete publishes nothing).
 */
export class RedisRoomStorage implements RoomStorage {
  private readonly create: LuaScript;
  private readonly update: LuaScript;
  private readonly remove: LuaScript;
  private readonly allocate: LuaScript;
  private readonly ping: LuaScript;

  constructor(
    private readonly client: Redis,
    private readonly logger: Logger = silentLogger,
  ) {
    this.create = defineLuaScript(client, "create-room");
    this.update = defineLuaScript(client, "update-room");
    this.remove = defineLuaScript(client, "delete-room");
    this.allocate = defineLuaScript(client, "allocate-room");
    this.ping = defineLuaScript(client, "apply-ping");
  }

  async createRoom(room: GameRoom, opts?: CallOptions): Promise<void> {
    const created = await redisCall(opts, () => this.create(roomKeys(room.schedulerName, room.id), writeArgs(room)));
    if (created === 0) throw new MaestroError("already_exists", `room ${room.id} already exists`);
  }

  async getRoom(schedulerName: string, roomId: string, opts?: CallOptions): Promise<GameRoom | undefined> {
    const key = roomHashKey(schedulerName, roomId);
    const hash = await redisCall(opts, () => this.client.hgetall(key));
    return decodeRoom(key, hash);
  }

  async updateRoom(room: GameRoom, opts?: CallOptions): Promise<void> {
    const updated = await redisCall(opts, () => this.update(roomKeys(room.schedulerName, room.id), writeArgs(room)));
    if (updated === 0) throw MaestroError.notFound(`room ${room.id}`);
  }

  async deleteRoom(schedulerName: string, roomId: string, opts?: CallOptions): Promise<void> {
    const deleted = await redisCall(opts, () => this.remove(roomKeys(schedulerName, roomId), [roomId]));
    if (deleted === 0) throw MaestroError.notFound(`room ${roomId}`);
  }

  async applyPing(schedulerName: string, roomId: string, ping: PingUpdate, opts?: CallOptions): Promise<GameRoom> {
    const keys = [...roomKeys(schedulerName, roomId), instanceMapKey(schedulerName)];
    const args = [
      roomId,
      pingStatuses.indexOf(ping.status),
      ping.runningMatches,
      ping.metadata === undefined ? "" : JSON.stringify(ping.metadata),
      ping.now.getTime(),
      ping.maxMatches,
      Math.ceil(ping.allocationTtlMs),
      roomStatusChannel(schedulerName),
    ];
    const reply = (await redisCall(opts, () => this.ping(keys, args))) as unknown[];
    if (reply[0] === "not_found") throw MaestroError.notFound(`room ${roomId} of scheduler ${schedulerName}`);
    if (reply[0] === "refused") {
      throw pingTransitionRefused(roomId, statusByScoreText(reply[1]), statusByScoreText(reply[2]), ping.status);
    }
    const key = roomHashKey(schedulerName, roomId);
    const room = decodeRoom(key, flatToRecord(reply.slice(1)));
    if (room === undefined) throw new MaestroError("internal", `apply-ping returned no room for ${key}`);
    return room;
  }

  async listRooms(schedulerName: string, opts?: CallOptions): Promise<GameRoom[]> {
    const ids = await this.listRoomIds(schedulerName, opts);
    const rooms: GameRoom[] = [];
    for (let start = 0; start < ids.length; start += batchSize) {
      const keys = ids.slice(start, start + batchSize).map((id) => roomHashKey(schedulerName, id));
      const hashes = await redisCall(opts, async () => {
        const pipeline = this.client.pipeline();
        for (const key of keys) pipeline.hgetall(key);
        return execPipeline(await pipeline.exec()) as Record<string, string>[];
      });
      keys.forEach((key, i) => {
        // Deleted between the two reads: no longer a room of this scheduler.
        const room = decodeRoom(key, hashes[i] ?? {});
        if (room !== undefined) rooms.push(room);
      });
    }
    return rooms;
  }

  async listRoomIds(schedulerName: string, opts?: CallOptions): Promise<string[]> {
    return redisCall(opts, () => this.client.zrange(roomStatusKey(schedulerName), 0, "-1"));
  }

  async countByStatus(schedulerName: string, opts?: CallOptions): Promise<Record<RoomStatusName, number>> {
    const key = roomStatusKey(schedulerName);
    const counts = await redisCall(opts, async () => {
      const pipeline = this.client.pipeline();
      for (const status of roomStatusNames) pipeline.zcount(key, RoomStatus[status], RoomStatus[status]);
      return execPipeline(await pipeline.exec());
    });
    return Object.fromEntries(roomStatusNames.map((status, i) => [status, Number(counts[i])])) as Record<
      RoomStatusName,
      number
    >;
  }

  async allocateRoom(
    schedulerName: string,
    request: AllocationRequest,
    opts?: CallOptions,
  ): Promise<GameRoom | undefined> {
    const ttlMs = Math.ceil(request.ttlMs);
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw MaestroError.invalid([
        { field: "ttlMs", message: `must be a positive number of milliseconds, got ${request.ttlMs}` },
      ]);
    }
    const keys = [roomStatusKey(schedulerName), roomOccupancyKey(schedulerName)];
    if (request.idempotencyKey) keys.push(roomAllocationKey(schedulerName, request.idempotencyKey));
    const selector = request.metadataSelector ?? {};
    const args = [
      roomHashPrefix(schedulerName),
      request.now.getTime(),
      ttlMs,
      roomStatusChannel(schedulerName),
      Object.keys(selector).length === 0 ? "" : JSON.stringify(selector),
      statusScore("ready"),
      statusScore("allocated"),
      request.maxMatches ?? 1,
      statusScore("active"),
      statusScore("occupied"),
    ];
    const reply = await redisCall(opts, () => this.allocate(keys, args));
    if (reply === null || reply === undefined) return undefined;
    const hash = flatToRecord(reply);
    const id = hash["id"];
    return decodeRoom(roomHashKey(schedulerName, id ?? "?"), hash);
  }

  /** Subscribes asynchronously: changes made before the subscription is live are not reported. */
  watchRoomStatus(schedulerName: string, opts: Required<CallOptions>): AsyncIterable<RoomStatusEvent> {
    return new RoomStatusWatch(this.client, schedulerName, opts.signal, this.logger);
  }
}

function roomKeys(schedulerName: string, roomId: string): string[] {
  return [
    roomHashKey(schedulerName, roomId),
    roomStatusKey(schedulerName),
    roomPingKey(schedulerName),
    roomOccupancyKey(schedulerName),
  ];
}

/** ARGV of create-room.lua and update-room.lua. */
function writeArgs(room: GameRoom): string[] {
  return [
    room.id,
    String(statusScore(room.status)),
    String(room.lastPingAt.getTime()),
    String(room.runningMatches),
    roomStatusChannel(room.schedulerName),
    encodeStatusEvent(room.id, room.status),
    ...encodeRoom(room),
  ];
}

/** The results of a pipeline, or the first error in it (ioredis reports errors per command). */
function execPipeline(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error("Connection is closed.");
  return results.map(([error, value]) => {
    if (error !== null) throw error;
    return value;
  });
}
