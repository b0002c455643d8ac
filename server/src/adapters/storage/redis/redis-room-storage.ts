import type { Redis } from "ioredis";
import {
  type GameRoom,
  pingStatuses,
  RoomStatus,
  type RoomStatusName,
  roomStatusNames,
} from "../../../core/entities/game-room.js";
import { selectorPair } from "../../../core/entities/metadata-selector.js";
import { type PingUpdate, pingTransitionRefused, type StatusContext } from "../../../core/entities/room-ping.js";
import type { RemovalGuard } from "../../../core/entities/room-removal.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import type {
  AllocationRequest,
  RemovalClaim,
  RoomStatusEvent,
  RoomStorage,
} from "../../../core/ports/room-storage.js";
import { defineLuaScript, type LuaScript, scriptText } from "./lua-scripts.js";
import { isClusterClient } from "./redis-client.js";
import { redisCall } from "./redis-errors.js";
import {
  instanceMapKey,
  roomAllocationKey,
  roomFreeKey,
  roomFreeMetadataKey,
  roomHashKey,
  roomOccupancyKey,
  roomPingKey,
  roomStatusChannel,
  roomStatusKey,
} from "./redis-keys.js";
import {
  decodeRoom,
  encodeMetaPairs,
  encodeRoom,
  encodeStatusEvent,
  flatToRecord,
  statusByScoreText,
  statusScore,
} from "./room-hash.js";
import { RoomStatusWatch } from "./room-status-watch.js";
import { scriptChannelOf } from "./script-channel.js";

// Rooms per pipeline when listing, so one listing of a huge scheduler does not build one giant reply.
const batchSize = 500;
// Candidates one allocation reads and hands to allocate-room.lua; concurrent callers of this process read from
// different offsets, so they rarely find their candidates taken (then they read again).
const allocationCandidates = 8;
// Fresh reads before an allocation gives up: only reached when rooms are taken faster than this caller reads them.
const allocationAttempts = 50;
const roomLibs = ["room-lib"];

/**
 * RoomStorage on Redis with Maestro's keys: a hash per room (`scheduler:{s}:rooms:{room}`) and the `status`, `ping`
 * and `occupancy` sorted sets, plus two allocation indexes (`free`, `free:metadata`), changed together by Lua scripts
 * that also publish `{roomId,status}` on `scheduler:{s}:rooms:statuschan` when a room is created or its status changes
 * (a delete publishes nothing). Every script gets every key it touches in KEYS, all under the scheduler's hash tag, so
 * they run on Redis Cluster. Every write bumps the room's `revision`.
 */
export class RedisRoomStorage implements RoomStorage {
  private readonly create: LuaScript;
  private readonly update: LuaScript;
  private readonly remove: LuaScript;
  private readonly candidates: LuaScript;
  private readonly allocate: LuaScript;
  private readonly ping: LuaScript;
  private readonly instance: LuaScript;
  private readonly claim: LuaScript;
  /** Allocations of this process in flight: the n-th tries the candidates from the n-th on, so they rarely collide. */
  private allocating = 0;

  constructor(
    private readonly client: Redis,
    private readonly logger: Logger = silentLogger,
  ) {
    this.create = defineLuaScript(client, "create-room", roomLibs);
    this.update = defineLuaScript(client, "update-room", roomLibs);
    this.remove = defineLuaScript(client, "delete-room", roomLibs);
    this.candidates = defineLuaScript(client, "allocation-candidates");
    this.allocate = defineLuaScript(client, "allocate-room", roomLibs);
    // Pings are most of the traffic: on a single Redis they go over a connection of their own (script-channel.ts).
    this.ping =
      scriptChannelOf(client, "ping", scriptText("apply-ping", roomLibs)) ??
      defineLuaScript(client, "apply-ping", roomLibs);
    this.instance = defineLuaScript(client, "apply-instance", roomLibs);
    this.claim = defineLuaScript(client, "claim-room-removal", roomLibs);
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
    const written = writeArgs(room);
    const expected = room.revision === undefined ? "" : String(room.revision);
    const args = [...written.slice(0, 6), expected, ...written.slice(6)];
    const reply = (await redisCall(opts, () => this.update(roomKeys(room.schedulerName, room.id), args))) as unknown[];
    if (reply[0] === 0) throw MaestroError.notFound(`room ${room.id}`);
    if (reply[0] === -1) {
      throw new MaestroError(
        "conflict",
        `room ${room.id} changed since it was read (revision ${room.revision}, now ${String(reply[1])})`,
      );
    }
  }

  async deleteRoom(schedulerName: string, roomId: string, opts?: CallOptions): Promise<void> {
    const deleted = await redisCall(opts, () => this.remove(roomKeys(schedulerName, roomId), [roomId]));
    if (deleted === 0) throw MaestroError.notFound(`room ${roomId}`);
  }

  async applyPing(schedulerName: string, roomId: string, ping: PingUpdate, opts?: CallOptions): Promise<GameRoom> {
    const reply = await this.runPing(schedulerName, roomId, ping, false, opts);
    return roomOf(schedulerName, roomId, reply.slice(1));
  }

  async recordPing(
    schedulerName: string,
    roomId: string,
    ping: PingUpdate,
    opts?: CallOptions,
  ): Promise<RoomStatusName> {
    const reply = await this.runPing(schedulerName, roomId, ping, true, opts);
    return statusByScoreText(reply[1]);
  }

  private async runPing(
    schedulerName: string,
    roomId: string,
    ping: PingUpdate,
    statusOnly: boolean,
    opts: CallOptions | undefined,
  ): Promise<unknown[]> {
    const args = [
      roomId,
      pingStatuses.indexOf(ping.status),
      ping.runningMatches,
      ping.metadata === undefined ? "" : JSON.stringify(ping.metadata),
      ping.now.getTime(),
      ping.maxMatches,
      Math.ceil(ping.allocationTtlMs),
      roomStatusChannel(schedulerName),
      ping.metadata === undefined ? "" : encodeMetaPairs(ping.metadata),
      statusOnly ? "1" : "",
    ];
    const reply = (await redisCall(opts, () => this.ping(roomKeys(schedulerName, roomId), args))) as unknown[];
    if (reply[0] === "not_found") throw MaestroError.notFound(`room ${roomId} of scheduler ${schedulerName}`);
    if (reply[0] === "refused") {
      throw pingTransitionRefused(roomId, statusByScoreText(reply[1]), statusByScoreText(reply[2]), ping.status);
    }
    return reply;
  }

  async applyInstanceStatus(
    schedulerName: string,
    roomId: string,
    ctx: StatusContext,
    opts?: CallOptions,
  ): Promise<GameRoom | undefined> {
    const args = [
      roomId,
      ctx.now.getTime(),
      ctx.maxMatches,
      Math.ceil(ctx.allocationTtlMs),
      roomStatusChannel(schedulerName),
    ];
    const reply = (await redisCall(opts, () => this.instance(roomKeys(schedulerName, roomId), args))) as unknown[];
    if (reply[0] === "not_found") return undefined;
    return roomOf(schedulerName, roomId, reply.slice(1));
  }

  async claimForRemoval(
    schedulerName: string,
    roomId: string,
    guard: RemovalGuard,
    opts?: CallOptions,
  ): Promise<RemovalClaim> {
    const [moment, ttl] =
      guard.kind === "idle"
        ? [guard.now.getTime(), Math.ceil(guard.allocationTtlMs)]
        : guard.kind === "allocatedBefore"
          ? [guard.since.getTime(), 0]
          : [0, 0];
    const args = [roomId, guard.kind, moment, ttl, roomStatusChannel(schedulerName)];
    const reply = (await redisCall(opts, () => this.claim(roomKeys(schedulerName, roomId), args))) as unknown[];
    if (reply[0] === "not_found") return { outcome: "not_found" };
    if (reply[0] === "refused") {
      return { outcome: "refused", reason: String(reply[1]), room: roomOf(schedulerName, roomId, reply.slice(2)) };
    }
    return { outcome: "claimed", room: roomOf(schedulerName, roomId, reply.slice(1)) };
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

  async countByStatusOf(
    schedulerNames: readonly string[],
    opts?: CallOptions,
  ): Promise<Record<RoomStatusName, number>[]> {
    // A cluster pipeline must stay within one slot, and each scheduler has its own: one pipeline per scheduler there.
    if (isClusterClient(this.client)) return Promise.all(schedulerNames.map((name) => this.countByStatus(name, opts)));
    if (schedulerNames.length === 0) return [];
    const counts = await redisCall(opts, async () => {
      const pipeline = this.client.pipeline();
      for (const name of schedulerNames) {
        const key = roomStatusKey(name);
        for (const status of roomStatusNames) pipeline.zcount(key, RoomStatus[status], RoomStatus[status]);
      }
      return execPipeline(await pipeline.exec());
    });
    const n = roomStatusNames.length;
    return schedulerNames.map(
      (_, s) =>
        Object.fromEntries(roomStatusNames.map((status, i) => [status, Number(counts[s * n + i])])) as Record<
          RoomStatusName,
          number
        >,
    );
  }

  /**
   * Two scripts per attempt: allocation-candidates.lua reads the preferred rooms from the indexes, allocate-room.lua
   * takes the first still free. Neither looks at rooms it does not return, so the cost does not grow with the fleet.
   */
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
    const maxMatches = request.maxMatches ?? 1;
    const keyed = request.idempotencyKey !== undefined && request.idempotencyKey !== "";
    const idempotencyKey = roomAllocationKey(schedulerName, keyed ? (request.idempotencyKey as string) : "");
    const entries = Object.entries(request.metadataSelector ?? {});
    const selector = entries.length === 0 ? "" : JSON.stringify(entries.map(([k, v]) => selectorPair(k, v)));
    const now = request.now.getTime();
    const indexKeys = [roomFreeKey(schedulerName), roomFreeMetadataKey(schedulerName)];
    const turn = this.allocating++;
    try {
      return await this.allocateOnce(schedulerName, {
        turn,
        ttlMs,
        maxMatches,
        keyed,
        idempotencyKey,
        selector,
        now,
        indexKeys,
        opts,
      });
    } finally {
      this.allocating--;
    }
  }

  private async allocateOnce(
    schedulerName: string,
    a: {
      turn: number;
      ttlMs: number;
      maxMatches: number;
      keyed: boolean;
      idempotencyKey: string;
      selector: string;
      now: number;
      indexKeys: string[];
      opts: CallOptions | undefined;
    },
  ): Promise<GameRoom | undefined> {
    const { ttlMs, maxMatches, keyed, idempotencyKey, selector, now, indexKeys, opts } = a;
    for (let attempt = 0; attempt < allocationAttempts; attempt++) {
      const read = (await redisCall(opts, () =>
        this.candidates(keyed ? [...indexKeys, idempotencyKey] : indexKeys, [
          now,
          maxMatches,
          allocationCandidates,
          selector,
          // Alone, a caller gets the preferred rooms; the n-th concurrent one starts n rooms further (first attempt
          // only: a retry reads what is left and takes the best of it).
          attempt === 0 ? a.turn : 0,
        ]),
      )) as string[];
      const [earlier = "", ...ids] = read.map(String);
      if (earlier === "" && ids.length === 0) return undefined;
      const roomIds = earlier === "" ? ids : [earlier, ...ids];
      const keys = [
        roomStatusKey(schedulerName),
        roomOccupancyKey(schedulerName),
        ...indexKeys,
        idempotencyKey,
        ...roomIds.map((id) => roomHashKey(schedulerName, id)),
      ];
      const args = [
        now,
        ttlMs,
        roomStatusChannel(schedulerName),
        maxMatches,
        keyed ? "1" : "0",
        earlier,
        selector,
        ...roomIds,
      ];
      const reply = (await redisCall(opts, () => this.allocate(keys, args))) as unknown[];
      if (reply[0] === "ok") {
        const hash = flatToRecord(reply.slice(1));
        return decodeRoom(roomHashKey(schedulerName, hash["id"] ?? "?"), hash);
      }
    }
    throw new MaestroError(
      "unavailable",
      `allocation in scheduler ${schedulerName} lost ${allocationAttempts} races for free rooms in a row; retry`,
    );
  }

  /** Subscribes asynchronously: changes made before the subscription is live are not reported. */
  watchRoomStatus(schedulerName: string, opts: Required<CallOptions>): AsyncIterable<RoomStatusEvent> {
    return new RoomStatusWatch(this.client, schedulerName, opts.signal, this.logger);
  }
}

/** KEYS of every per-room script (room-lib.lua's layout). */
function roomKeys(schedulerName: string, roomId: string): string[] {
  return [
    roomHashKey(schedulerName, roomId),
    roomStatusKey(schedulerName),
    roomPingKey(schedulerName),
    roomOccupancyKey(schedulerName),
    roomFreeKey(schedulerName),
    roomFreeMetadataKey(schedulerName),
    instanceMapKey(schedulerName),
  ];
}

function roomOf(schedulerName: string, roomId: string, flat: unknown[]): GameRoom {
  const key = roomHashKey(schedulerName, roomId);
  const room = decodeRoom(key, flatToRecord(flat));
  if (room === undefined) throw new MaestroError("internal", `a room script returned no room for ${key}`);
  return room;
}

/** ARGV of create-room.lua and update-room.lua (update-room.lua takes the expected revision after the 6th). */
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
