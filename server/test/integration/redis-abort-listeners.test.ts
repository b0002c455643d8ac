import { getEventListeners } from "node:events";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRedisClient, RedisRoomStorage, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import { SchedulerManager } from "../../src/core/services/scheduler-manager.js";
import { uniqueScheduler } from "../support/contract-helpers.js";
import { CoreHarness } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";
import { startRedis, type TestRedis } from "../support/redis.js";

// Node warns (MaxListenersExceededWarning) past 10 listeners on one AbortSignal: a request fanning out to many Redis
// calls on its signal must leave a bounded number of them, whatever the fan-out.
let redis: TestRedis;
let client: Redis;
let h: CoreHarness;
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);

beforeAll(async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "abort-listeners" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  process.on("warning", onWarning);
});

afterAll(async () => {
  process.off("warning", onWarning);
  client?.disconnect();
  await redis?.stop();
});

beforeEach(async () => {
  warnings.length = 0;
  h = await CoreHarness.create();
});

afterEach(async () => {
  await h.close();
});

/** Warnings are emitted on the next tick: let them arrive before looking. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("abort listeners of Redis calls sharing one signal", () => {
  it("getSchedulersInfo over 12 schedulers on Redis rooms warns of no listener leak and leaves none behind", async () => {
    const rooms = new RedisRoomStorage(client);
    const manager = new SchedulerManager({
      schedulers: h.schedulers,
      rooms,
      operations: h.operationManager,
      clock: h.clock,
    });
    const game = `game-${uniqueScheduler()}`;
    for (let i = 0; i < 12; i++) {
      await h.schedulers.createScheduler(validScheduler({ name: `${uniqueScheduler()}-${i}`, game, state: "in-sync" }));
    }
    const signal = new AbortController().signal;
    const info = await manager.getSchedulersInfo(game, { signal });
    await settle();
    expect(info).toHaveLength(12);
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });

  it("100 parallel calls on one signal hold at most one abort listener while in flight, and are still canceled by it", async () => {
    const rooms = new RedisRoomStorage(client);
    const controller = new AbortController();
    const { signal } = controller;
    const s = uniqueScheduler();
    const calls = Array.from({ length: 100 }, () => rooms.countByStatus(s, { signal }));
    const inFlight = getEventListeners(signal, "abort").length;
    redis.freeze();
    try {
      const frozen = Array.from({ length: 5 }, () => rooms.countByStatus(s, { signal }));
      controller.abort(new Error("client went away"));
      const outcomes = await Promise.allSettled([...calls, ...frozen]);
      for (const o of outcomes.slice(100)) {
        expect(o.status).toBe("rejected");
        expect((o as PromiseRejectedResult).reason).toMatchObject({ code: "canceled" });
      }
    } finally {
      redis.thaw();
    }
    await settle();
    expect(inFlight).toBeLessThanOrEqual(1);
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});
