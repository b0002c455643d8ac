import { once } from "node:events";
import { type AddressInfo, createConnection, createServer } from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createRedisClient,
  RedisInstanceStorage,
  RedisRoomStorage,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import type { GameRoom, RoomStatusName } from "../../src/core/entities/game-room.js";
import type { PingUpdate } from "../../src/core/entities/room-ping.js";
import { isMaestroError } from "../../src/core/errors.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { waitFor } from "../support/wait-for.js";

// Pings on a single Redis go over a RESP connection of their own (adapters/storage/redis/script-channel.ts, issue 17).
// These are its faults: replies matched to the right caller under load, a script the server lost, credentials and db
// from the URL, a Redis killed and restarted under it, a frozen Redis, and closing with the client.

let redis: TestRedis;
/** Raw connection for looking at the server the way an operator's redis-cli would. */
let raw: Redis;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});

afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
});

interface Rooms extends RedisRoomStorage {
  /** Creates a ready room whose instance is ready, so pings compose to what they say. */
  add(schedulerName: string, id: string): Promise<void>;
}

async function storage(url: string, opts?: { commandTimeoutMs?: number }): Promise<Rooms> {
  const client = createRedisClient(url, { name: "ping-channel-test", commandTimeoutMs: opts?.commandTimeoutMs });
  clients.push(client);
  await waitUntilReady(client, { timeoutMs: 10_000 });
  const instances = new RedisInstanceStorage(client);
  const rooms = new RedisRoomStorage(client);
  return Object.assign(rooms, {
    add: async (schedulerName: string, id: string) => {
      await instances.upsertInstance({ id, schedulerName, status: { type: "ready", description: "" } });
      await rooms.createRoom(room(schedulerName, id));
    },
  });
}

const base = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function room(schedulerName: string, id: string, status: RoomStatusName = "ready"): GameRoom {
  return {
    id,
    schedulerName,
    version: "v1.2.0",
    status,
    pingStatus: "ready",
    metadata: {},
    isValidationRoom: false,
    runningMatches: 0,
    createdAt: new Date(base),
    lastPingAt: new Date(base + 1),
  };
}

function ping(status: PingUpdate["status"], metadata?: Record<string, unknown>): PingUpdate {
  return {
    status,
    runningMatches: status === "occupied" ? 1 : 0,
    metadata,
    now: new Date(base + 1_000),
    maxMatches: 1,
    allocationTtlMs: 60_000,
  };
}

/** The connections named like the channel's (`<client name>-ping`) on the server `on`. */
async function channelConnections(on: Redis): Promise<number> {
  const list = (await on.client("LIST")) as string;
  return list.split("\n").filter((line) => / name=ping-channel-test-ping /.test(`${line} `)).length;
}

describe("the ping channel", () => {
  it("answers many concurrent pings each with its own room's outcome", async () => {
    const rooms = await storage(redis.url);
    const s = uniqueScheduler();
    const existing = 200;
    for (let i = 0; i < existing; i++) await rooms.add(s, `r${i}`);
    // Half the rooms exist, pings alternate between two outcomes, every third one asks for the whole room back
    // (a longer reply, with multi-byte metadata): a reply handed to the wrong caller shows.
    const outcomes = await Promise.all(
      Array.from({ length: 2 * existing }, async (_, i) => {
        const id = `r${i}`;
        const status = i % 2 === 0 ? "ready" : "occupied";
        try {
          if (i % 3 === 0) {
            const got = await rooms.applyPing(s, id, ping(status, { who: `ü€-${id}` }));
            return `${got.id} ${got.status} ${String(got.metadata["who"])}`;
          }
          return `${id} ${await rooms.recordPing(s, id, ping(status))}`;
        } catch (e) {
          return `${id} ${isMaestroError(e) ? e.code : String(e)}`;
        }
      }),
    );
    const expected = Array.from({ length: 2 * existing }, (_, i) => {
      const id = `r${i}`;
      if (i >= existing) return `${id} not_found`;
      const status = i % 2 === 0 ? "ready" : "occupied";
      return i % 3 === 0 ? `${id} ${status} ü€-${id}` : `${id} ${status}`;
    });
    expect(outcomes).toEqual(expected);
    // They went over the channel, not the shared client.
    expect(await channelConnections(raw)).toBe(1);
  });

  it("reads replies that arrive a few bytes at a time", async () => {
    // Between the channel and Redis, a relay that hands Redis' replies on in 1–3 byte pieces, one per turn.
    const relay = createServer((inbound) => {
      const outbound = createConnection({ host: "127.0.0.1", port: redis.port });
      inbound.pipe(outbound);
      let queue = Promise.resolve();
      outbound.on("data", (chunk: Buffer) => {
        queue = queue.then(async () => {
          for (let at = 0; at < chunk.length; at += 1 + (at % 3)) {
            if (inbound.destroyed) return;
            inbound.write(chunk.subarray(at, at + 1 + (at % 3)));
            await new Promise((resolve) => setImmediate(resolve));
          }
        });
      });
      inbound.on("close", () => outbound.destroy());
      outbound.on("close", () => inbound.destroy());
      inbound.on("error", () => outbound.destroy());
      outbound.on("error", () => inbound.destroy());
    });
    relay.listen(0, "127.0.0.1");
    await once(relay, "listening");
    try {
      const rooms = await storage(`redis://127.0.0.1:${(relay.address() as AddressInfo).port}`);
      const s = uniqueScheduler();
      await rooms.add(s, "r1");
      await rooms.add(s, "r2");
      const [first, second, missing] = await Promise.all([
        rooms.applyPing(s, "r1", ping("occupied", { who: "ü€ 漢字", n: 1 })),
        rooms.recordPing(s, "r2", ping("occupied")),
        rooms.recordPing(s, "r3", ping("ready")).catch((e: unknown) => (isMaestroError(e) ? e.code : e)),
      ]);
      expect(first).toMatchObject({ id: "r1", status: "occupied", metadata: { who: "ü€ 漢字", n: 1 } });
      expect(second).toBe("occupied");
      expect(missing).toBe("not_found");
    } finally {
      for (const client of clients.splice(0)) client.disconnect();
      relay.close();
    }
  });

  it("runs the script again after SCRIPT FLUSH", async () => {
    const rooms = await storage(redis.url);
    const s = uniqueScheduler();
    await rooms.add(s, "r1");
    expect(await rooms.recordPing(s, "r1", ping("occupied"))).toBe("occupied");
    await raw.script("FLUSH");
    expect(await rooms.recordPing(s, "r1", ping("ready"))).toBe("ready");
    expect(await raw.hget(`scheduler:{${s}}:rooms:r1`, "status")).toBe("2");
  });

  it("authenticates and selects the database named by the URL", async () => {
    const secured = await startRedis();
    const admin = new Redis(secured.url);
    try {
      // A restricted user: no CLIENT (SETNAME) nor SCRIPT (LOAD), which the channel does without.
      await admin.acl("SETUSER", "pinger", "on", ">p1ng-pass", "~*", "&*", "+@all", "-client", "-script");
      // Anyone else must authenticate from now on (this connection stays authenticated).
      await admin.config("SET", "requirepass", "def4ult-pass");
      for (const url of [
        `redis://pinger:p1ng-pass@127.0.0.1:${secured.port}/5`,
        `redis://:def4ult-pass@127.0.0.1:${secured.port}/7`,
      ]) {
        const db = Number(url.slice(url.lastIndexOf("/") + 1));
        const rooms = await storage(url);
        const s = uniqueScheduler();
        await rooms.add(s, "r1");
        expect(await rooms.recordPing(s, "r1", ping("occupied"))).toBe("occupied");
        await admin.select(db);
        expect(await admin.hget(`scheduler:{${s}}:rooms:r1`, "status")).toBe("3");
        await admin.select(0);
        expect(await admin.exists(`scheduler:{${s}}:rooms:r1`)).toBe(0);
        // The restricted user could not name its connection.
        expect(await channelConnections(admin)).toBe(db === 5 ? 0 : 1);
        for (const client of clients.splice(0)) client.disconnect();
      }
    } finally {
      admin.disconnect();
      await secured.stop();
    }
  });

  it("fails a ping in flight as unavailable when Redis dies, and pings again once it is back", async () => {
    const crashing = await startRedis();
    try {
      // A command timeout far beyond the test's: only the lost connection can fail the ping in time.
      const rooms = await storage(crashing.url, { commandTimeoutMs: 120_000 });
      const s = uniqueScheduler();
      await rooms.add(s, "r1");
      expect(await rooms.recordPing(s, "r1", ping("occupied"))).toBe("occupied");
      crashing.freeze();
      const inFlight = expectCode(rooms.recordPing(s, "r1", ping("ready")), "unavailable");
      // Let it be written before the server goes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await crashing.kill();
      await inFlight;
      await expectCode(rooms.recordPing(s, "r1", ping("ready")), "unavailable");
      const restarted = await startRedis({ port: crashing.port });
      try {
        // A fresh server: no data and no cached script.
        await waitUntilReady(clients[0] as Redis, { timeoutMs: 10_000 });
        await rooms.add(s, "r1");
        const status = await waitFor(
          () =>
            rooms.recordPing(s, "r1", ping("occupied")).catch((e: unknown) => {
              if (isMaestroError(e, "unavailable")) return undefined;
              throw e;
            }),
          "a ping after the restart",
        );
        expect(status).toBe("occupied");
      } finally {
        for (const client of clients.splice(0)) client.disconnect();
        await restarted.stop();
      }
    } finally {
      await crashing.stop();
    }
  }, 60_000);

  it("fails pings at once while it reconnects to a Redis that does not answer, instead of queueing them", async () => {
    // A command timeout far beyond the test's: only failing fast answers in time.
    const rooms = await storage(redis.url, { commandTimeoutMs: 120_000 });
    const s = uniqueScheduler();
    await rooms.add(s, "r1");
    expect(await rooms.recordPing(s, "r1", ping("ready"))).toBe("ready");
    const list = (await raw.client("LIST")) as string;
    const id = /id=(\d+) [^\n]* name=ping-channel-test-ping /.exec(list)?.[1];
    expect(id).toBeDefined();
    await raw.client("KILL", "ID", id as string);
    // Frozen, the server still accepts connections (the kernel's backlog) but answers nothing.
    redis.freeze();
    try {
      await waitFor(
        () =>
          rooms.recordPing(s, "r1", ping("ready")).then(
            () => false,
            (e: unknown) => isMaestroError(e, "unavailable") && /connection is closed|ECONNRESET/.test(e.message),
          ),
        "the lost connection to be noticed",
      );
      // Past the backoff: a new connection is opened, and pings are refused while it gets no answer.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 0; i < 3; i++) await expectCode(rooms.recordPing(s, "r1", ping("ready")), "unavailable");
    } finally {
      redis.thaw();
    }
    const status = await waitFor(
      () => rooms.recordPing(s, "r1", ping("occupied")).catch(() => undefined),
      "a ping once Redis answers",
    );
    expect(status).toBe("occupied");
  }, 30_000);

  it("fails a ping as unavailable after the command timeout while Redis is frozen, then answers the next one rightly", async () => {
    const rooms = await storage(redis.url, { commandTimeoutMs: 300 });
    const s = uniqueScheduler();
    await rooms.add(s, "r1");
    await rooms.add(s, "r2");
    expect(await rooms.recordPing(s, "r1", ping("ready"))).toBe("ready");
    redis.freeze();
    try {
      await expectCode(rooms.recordPing(s, "r1", ping("occupied")), "unavailable");
    } finally {
      redis.thaw();
    }
    // The late reply to the expired ping must not be taken for this one's.
    await expectCode(rooms.recordPing(s, "missing", ping("ready")), "not_found");
    expect(await rooms.recordPing(s, "r2", ping("ready"))).toBe("ready");
  });

  it("closes with its client: later pings fail as unavailable and no connection is left", async () => {
    const rooms = await storage(redis.url);
    const s = uniqueScheduler();
    await rooms.add(s, "r1");
    expect(await rooms.recordPing(s, "r1", ping("ready"))).toBe("ready");
    expect(await channelConnections(raw)).toBe(1);
    const client = clients[0] as Redis;
    const ended = once(client, "end");
    client.disconnect();
    await ended;
    await expectCode(rooms.recordPing(s, "r1", ping("ready")), "unavailable");
    await waitFor(async () => (await channelConnections(raw)) === 0, "the channel's connection to close");
  });
});
