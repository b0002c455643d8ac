import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createRedisClient,
  RedisInstanceStorage,
  RedisRoomStorage,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import type { GameRoom, RoomStatusName } from "../../src/core/entities/game-room.js";
import type { RoomStatusEvent } from "../../src/core/ports/room-storage.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";
import { waitFor } from "../support/core-harness.js";
import { freePort } from "../support/free-port.js";
import { startRedis, type TestRedis } from "../support/redis.js";

let redis: TestRedis;
/** Raw connection for looking at keys the way an operator's redis-cli would. */
let raw: Redis;
const clients: Redis[] = [];
const controllers: AbortController[] = [];

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});

afterEach(() => {
  for (const controller of controllers.splice(0)) controller.abort();
  for (const client of clients.splice(0)) client.disconnect();
});

afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
});

async function client(name: string): Promise<Redis> {
  const created = createRedisClient(redis.url, { name });
  clients.push(created);
  await waitUntilReady(created, { timeoutMs: 10_000 });
  return created;
}

function signal(): AbortSignal {
  const controller = new AbortController();
  controllers.push(controller);
  return controller.signal;
}

const base = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function room(schedulerName: string, id: string, status: RoomStatusName = "pending"): GameRoom {
  return {
    id,
    schedulerName,
    version: "v1.2.0",
    status,
    pingStatus: "unknown",
    metadata: {},
    isValidationRoom: false,
    runningMatches: 0,
    createdAt: new Date(base),
    lastPingAt: new Date(base + 1),
  };
}

/** Every key of a scheduler, whatever its type. */
async function keysOf(schedulerName: string): Promise<string[]> {
  return (await raw.keys(`scheduler:{${schedulerName}}:*`)).sort();
}

describe("RedisRoomStorage keys", () => {
  it("stores Maestro's room hash and status, ping and occupancy sets, and keeps them in step", async () => {
    const storage = new RedisRoomStorage(await client("keys"));
    const s = uniqueScheduler();
    const created: GameRoom = {
      ...room(s, "r1", "ready"),
      pingStatus: "ready",
      metadata: { region: "sa", level: 3 },
      isValidationRoom: true,
      runningMatches: 2,
      allocatedAt: new Date(base + 7),
    };
    await storage.createRoom(created);

    expect(await raw.hgetall(`scheduler:{${s}}:rooms:r1`)).toEqual({
      id: "r1",
      scheduler_name: s,
      version: "v1.2.0",
      status: "2",
      ping_status: "1",
      metadata: '{"region":"sa","level":3}',
      is_validation_room: "1",
      running_matches: "2",
      created_at: String(base),
      last_ping_at: String(base + 1),
      allocated_at: String(base + 7),
      // Allocation index entries (metadataPairs) and the compare-and-set revision: ours, not Maestro's.
      meta_pairs: '["6:region2:sa","5:level1:3"]',
      revision: "1",
    });
    // A validation room is never in the allocation indexes.
    expect(await raw.exists(`scheduler:{${s}}:free`, `scheduler:{${s}}:free:metadata`)).toBe(0);
    expect(await raw.zscore(`scheduler:{${s}}:status`, "r1")).toBe("2");
    expect(await raw.zscore(`scheduler:{${s}}:ping`, "r1")).toBe(String(base + 1));
    expect(await raw.zscore(`scheduler:{${s}}:occupancy`, "r1")).toBe("2");

    await storage.updateRoom({
      ...created,
      status: "occupied",
      pingStatus: "occupied",
      runningMatches: 5,
      lastPingAt: new Date(base + 60_000),
      allocatedAt: undefined,
      occupiedAt: new Date(base + 60_000),
    });
    const hash = await raw.hgetall(`scheduler:{${s}}:rooms:r1`);
    expect(hash).toMatchObject({ status: "3", ping_status: "2", occupied_at: String(base + 60_000) });
    expect(hash["allocated_at"]).toBeUndefined();
    expect(await raw.zscore(`scheduler:{${s}}:status`, "r1")).toBe("3");
    expect(await raw.zscore(`scheduler:{${s}}:ping`, "r1")).toBe(String(base + 60_000));
    expect(await raw.zscore(`scheduler:{${s}}:occupancy`, "r1")).toBe("5");

    await storage.deleteRoom(s, "r1");
    expect(await keysOf(s)).toEqual([]);
  });

  it("indexes allocatable rooms by matches held and by metadata pair, under the scheduler's hash tag", async () => {
    const storage = new RedisRoomStorage(await client("index"));
    const s = uniqueScheduler();
    await storage.createRoom({ ...room(s, "r1", "ready"), metadata: { map: "moon" } });
    await storage.createRoom({ ...room(s, "r2", "active"), runningMatches: 2, metadata: { map: "moon" } });
    await storage.createRoom({ ...room(s, "r3", "occupied"), runningMatches: 3, metadata: { map: "moon" } });
    expect(await raw.zrange(`scheduler:{${s}}:free`, 0, "-1", "WITHSCORES")).toEqual(["r2", "-2", "r1", "0"]);
    expect(await raw.zrange(`scheduler:{${s}}:free:metadata`, 0, "-1")).toEqual([
      "3:map4:moon\u00000999999998\u0000r2",
      "3:map4:moon\u00001000000000\u0000r1",
    ]);
    for (const id of ["r1", "r2", "r3"]) await storage.deleteRoom(s, id);
    expect(await keysOf(s)).toEqual([]);
  });

  it("counts by ZCOUNT on the status set, so a room listed there without a hash still counts", async () => {
    const storage = new RedisRoomStorage(await client("counts"));
    const s = uniqueScheduler();
    await storage.createRoom(room(s, "a", "ready"));
    await raw.zadd(`scheduler:{${s}}:status`, 5, "stray");
    expect(await storage.countByStatus(s)).toMatchObject({ ready: 1, error: 1 });
    expect((await storage.listRoomIds(s)).sort()).toEqual(["a", "stray"]);
    // Listing reads hashes: the stray id has none and is left out rather than failing the listing.
    expect((await storage.listRooms(s)).map((r) => r.id)).toEqual(["a"]);
    // Deleting cleans the stray id up.
    await storage.deleteRoom(s, "stray");
    expect(await raw.zscore(`scheduler:{${s}}:status`, "stray")).toBeNull();
  });

  it("never recreates keys when an update comes after a delete", async () => {
    const storage = new RedisRoomStorage(await client("resurrect"));
    const s = uniqueScheduler();
    await storage.createRoom({ ...room(s, "r1", "occupied"), runningMatches: 4 });
    await storage.deleteRoom(s, "r1");
    await expectCode(storage.updateRoom({ ...room(s, "r1", "ready"), runningMatches: 4 }), "not_found");
    await expectCode(storage.updateRoom(room(s, "never", "ready")), "not_found");
    expect(await keysOf(s)).toEqual([]);
  });

  it("writes only the room hash and the ping set for a ping that repeats the last one; relists a room that changes", async () => {
    const conn = await client("steady-ping");
    const storage = new RedisRoomStorage(conn);
    const s = uniqueScheduler();
    await storage.createRoom({ ...room(s, "r1", "ready"), pingStatus: "ready", metadata: { map: "moon" } });
    await new RedisInstanceStorage(conn).upsertInstance({
      id: "r1",
      schedulerName: s,
      status: { type: "ready", description: "" },
      address: { host: "10.0.0.1", ports: [{ name: "game", port: 7000, protocol: "udp" }] },
    });
    // Every write to one of the scheduler's keys, as keyspace notifications name them (command, key).
    await raw.config("SET", "notify-keyspace-events", "Khz");
    const subscriber = new Redis(redis.url);
    clients.push(subscriber);
    const writes: string[] = [];
    const prefix = `__keyspace@0__:scheduler:{${s}}:`;
    subscriber.on("pmessage", (_p: string, channel: string, event: string) =>
      writes.push(`${event} ${channel.slice(prefix.length)}`),
    );
    await subscriber.psubscribe(`${prefix}*`);
    const writesOf = async (step: () => Promise<unknown>) => {
      writes.length = 0;
      await step();
      // Notifications arrive in order on the one subscriber: the marker's means all of the step's have.
      await raw.hset(`scheduler:{${s}}:marker`, "at", "1");
      await waitFor(() => writes.includes("hset marker"), "the marker's notification");
      return writes.filter((w) => w !== "hset marker");
    };
    const ping = (status: "ready" | "occupied", at: number, metadata?: Record<string, unknown>) =>
      storage.recordPing(s, "r1", {
        status,
        runningMatches: status === "occupied" ? 1 : 0,
        metadata,
        now: new Date(base + at),
        maxMatches: 1,
        allocationTtlMs: 1_000,
      });
    try {
      expect(await writesOf(() => ping("ready", 10_000))).toEqual(["hset rooms:r1", "hincrby rooms:r1", "zadd ping"]);
      // Occupied: out of both allocation indexes, new status and occupancy scores.
      expect(await writesOf(() => ping("occupied", 20_000))).toEqual([
        "zrem free",
        "zrem free:metadata",
        "hset rooms:r1",
        "hset rooms:r1",
        "hincrby rooms:r1",
        "zadd status",
        "zadd ping",
        "zadd occupancy",
      ]);
      // Ready again with new metadata: back in the indexes under the new pair.
      expect(await writesOf(() => ping("ready", 30_000, { map: "sun" }))).toEqual([
        "hset rooms:r1",
        "hset rooms:r1",
        "hdel rooms:r1",
        "hincrby rooms:r1",
        "zadd status",
        "zadd ping",
        "zadd occupancy",
        "zadd free",
        "zadd free:metadata",
      ]);
      expect(await raw.zrange(`scheduler:{${s}}:free:metadata`, 0, "-1")).toEqual([
        "3:map3:sun\u00001000000000\u0000r1",
      ]);
      // The same metadata again changes nothing in the indexes.
      expect(await writesOf(() => ping("ready", 40_000, { map: "sun" }))).toEqual([
        "hset rooms:r1",
        "hset rooms:r1",
        "hincrby rooms:r1",
        "zadd ping",
      ]);
    } finally {
      await raw.config("SET", "notify-keyspace-events", "");
    }
  });

  it("keeps instances as JSON in the podMap hash", async () => {
    const storage = new RedisInstanceStorage(await client("instances"));
    const s = uniqueScheduler();
    const instance = {
      id: "r1",
      schedulerName: s,
      status: { type: "ready" as const, description: "" },
      address: { host: "10.0.0.1", ports: [{ name: "game", port: 7000, protocol: "udp" }] },
    };
    await storage.upsertInstance(instance);
    expect(JSON.parse((await raw.hget(`scheduler:{${s}}:podMap`, "r1")) ?? "null")).toEqual(instance);
    await storage.deleteInstance(s, "r1");
    expect(await raw.exists(`scheduler:{${s}}:podMap`)).toBe(0);
  });
});

describe("RedisRoomStorage allocation", () => {
  const now = new Date(base + 100_000);

  it("hands 10 ready rooms to 20 concurrent callers on 4 connections exactly once each", async () => {
    const storages = await Promise.all(
      [0, 1, 2, 3].map(async (i) => new RedisRoomStorage(await client(`allocator-${i}`))),
    );
    const s = uniqueScheduler();
    const setup = storages[0]!;
    for (let i = 0; i < 10; i++) await setup.createRoom(room(s, `room-${String(i).padStart(2, "0")}`, "ready"));
    await setup.createRoom({ ...room(s, "aaa-validation", "ready"), isValidationRoom: true });
    await setup.createRoom(room(s, "aaa-occupied", "occupied"));

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => storages[i % 4]!.allocateRoom(s, { now, ttlMs: 30_000 })),
    );
    const ids = results.filter((r) => r !== undefined).map((r) => r.id);
    expect(new Set(ids).size).toBe(10);
    expect(ids.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `room-${String(i).padStart(2, "0")}`));
    expect(results.filter((r) => r === undefined)).toHaveLength(10);
    for (const r of results) if (r !== undefined) expect(r).toMatchObject({ status: "allocated", allocatedAt: now });

    expect(await raw.zcount(`scheduler:{${s}}:status`, 8, 8)).toBe(10);
    expect(await raw.zscore(`scheduler:{${s}}:status`, "aaa-validation")).toBe("2");
    for (const id of ids) {
      expect(await raw.hmget(`scheduler:{${s}}:rooms:${id}`, "status", "allocated_at")).toEqual([
        "8",
        String(now.getTime()),
      ]);
    }
  });

  it("remembers an idempotency key under scheduler:{s}:allocation:{key} with the TTL as PX", async () => {
    const storage = new RedisRoomStorage(await client("idempotency"));
    const s = uniqueScheduler();
    for (const id of ["a", "b"]) await storage.createRoom(room(s, id, "ready"));
    const first = await storage.allocateRoom(s, { now, ttlMs: 30_000, idempotencyKey: "match-7" });
    expect(first?.id).toBe("a");
    const key = `scheduler:{${s}}:allocation:match-7`;
    expect(await raw.get(key)).toBe(`${now.getTime() + 30_000}:a`);
    const pttl = await raw.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(30_000);
    expect((await storage.allocateRoom(s, { now, ttlMs: 30_000, idempotencyKey: "match-7" }))?.id).toBe("a");

    // The earlier room is gone: the key gets a new room instead of nothing.
    await storage.deleteRoom(s, "a");
    expect((await storage.allocateRoom(s, { now, ttlMs: 30_000, idempotencyKey: "match-7" }))?.id).toBe("b");
    expect(await raw.get(key)).toBe(`${now.getTime() + 30_000}:b`);
  });

  it("matches selectors against metadata values as JavaScript's String() prints them", async () => {
    const storage = new RedisRoomStorage(await client("selector"));
    const s = uniqueScheduler();
    await storage.createRoom({
      ...room(s, "r1", "ready"),
      metadata: { level: 3, ranked: true, ratio: 1.5, tag: null, region: "sa" },
    });
    const request = { now, ttlMs: 30_000 };
    const misses: Record<string, string>[] = [
      { level: "3.0" },
      { ranked: "1" },
      { region: "SA" },
      { missing: "x" },
      { ratio: "2" },
    ];
    for (const selector of misses) {
      expect(await storage.allocateRoom(s, { ...request, metadataSelector: selector }), JSON.stringify(selector)).toBe(
        undefined,
      );
    }
    const got = await storage.allocateRoom(s, {
      ...request,
      metadataSelector: { level: "3", ranked: "true", ratio: "1.5", tag: "null", region: "sa" },
    });
    expect(got?.id).toBe("r1");
  });
});

describe("RedisRoomStorage status events", () => {
  it("publishes {roomId,status} on scheduler:{s}:rooms:statuschan for creations and status changes only", async () => {
    const storage = new RedisRoomStorage(await client("publisher"));
    const s = uniqueScheduler();
    const subscriber = new Redis(redis.url);
    clients.push(subscriber);
    const messages: unknown[] = [];
    subscriber.on("message", (_channel: string, message: string) => messages.push(JSON.parse(message)));
    await subscriber.subscribe(`scheduler:{${s}}:rooms:statuschan`);

    await storage.createRoom(room(s, "r1", "pending"));
    await storage.updateRoom({ ...room(s, "r1", "pending"), metadata: { x: "y" } });
    await storage.updateRoom(room(s, "r1", "ready"));
    await storage.allocateRoom(s, { now: new Date(base), ttlMs: 1_000 });
    await storage.deleteRoom(s, "r1");
    await storage.createRoom(room(s, "end", "ready"));
    await waitFor(() => messages.some((m) => (m as { roomId?: string }).roomId === "end"), "the last message");
    expect(messages).toEqual([
      { roomId: "r1", status: "pending" },
      { roomId: "r1", status: "ready" },
      { roomId: "r1", status: "allocated" },
      { roomId: "end", status: "ready" },
    ]);
  });

  it("closes its subscriber connection when the watch is aborted", async () => {
    const conn = await client("watch-owner");
    const storage = new RedisRoomStorage(conn);
    const s = uniqueScheduler();
    const controller = new AbortController();
    const events: RoomStatusEvent[] = [];
    const ended = (async () => {
      for await (const event of storage.watchRoomStatus(s, { signal: controller.signal })) events.push(event);
    })();
    const channel = `scheduler:{${s}}:rooms:statuschan`;
    await waitFor(async () => Number((await raw.pubsub("NUMSUB", channel))[1]) === 1, "the subscription");
    await storage.createRoom(room(s, "r1", "ready"));
    await waitFor(() => events.length === 1, "the event");
    expect(events).toEqual([{ schedulerName: s, roomId: "r1", status: "ready" }]);

    controller.abort();
    await ended;
    await waitFor(async () => Number((await raw.pubsub("NUMSUB", channel))[1]) === 0, "the unsubscription");
    expect(String(await raw.client("LIST"))).not.toContain("watch-owner-room-status");
  });
});

describe("RedisRoomStorage without Redis", () => {
  it("fails calls as unavailable and ends a watch with unavailable", async () => {
    const port = await freePort();
    const down = createRedisClient(`redis://127.0.0.1:${port}`, { name: "down" });
    clients.push(down);
    const storage = new RedisRoomStorage(down);
    const instances = new RedisInstanceStorage(down);
    const s = uniqueScheduler();
    await expectCode(storage.createRoom(room(s, "r1")), "unavailable");
    await expectCode(storage.getRoom(s, "r1"), "unavailable");
    await expectCode(storage.listRooms(s), "unavailable");
    await expectCode(storage.countByStatus(s), "unavailable");
    await expectCode(storage.allocateRoom(s, { now: new Date(), ttlMs: 1_000 }), "unavailable");
    await expectCode(instances.listInstances(s), "unavailable");

    const watching = (async () => {
      for await (const _ of storage.watchRoomStatus(s, { signal: signal() })) {
        // no events can arrive
      }
    })();
    await expectCode(watching, "unavailable");
  });
});
