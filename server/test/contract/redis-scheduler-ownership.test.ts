import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisClient, RedisSchedulerOwnership, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { uniqueScheduler } from "../support/contract-helpers.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { schedulerOwnershipContract } from "./scheduler-ownership.contract.js";

let redis: TestRedis;
let client: RedisClient | undefined;
/** Raw connection for looking at keys the way an operator's redis-cli would. */
let raw: Redis | undefined;

beforeAll(async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "contract-scheduler-ownership" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  raw = new Redis(redis.url);
});

afterAll(async () => {
  raw?.disconnect();
  client?.disconnect();
  await redis?.stop();
});

schedulerOwnershipContract("redis", () => new RedisSchedulerOwnership(client as RedisClient));

describe("RedisSchedulerOwnership keys", () => {
  it("keeps the claim in scheduler:{name}:owner with a Redis expiry of the ttl", async () => {
    const ownership = new RedisSchedulerOwnership(client as RedisClient);
    const scheduler = uniqueScheduler();
    const key = `scheduler:{${scheduler}}:owner`;
    expect(await ownership.acquire(scheduler, "replica-1", 30_000)).toBe(true);
    expect(await raw?.get(key)).toBe("replica-1");
    const ttl = (await raw?.pttl(key)) ?? 0;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);

    expect(await ownership.renew(scheduler, "replica-1", 90_000)).toBe(true);
    expect((await raw?.pttl(key)) ?? 0).toBeGreaterThan(30_000);

    // What another replica (or an operator) wrote is what holder() reports.
    await raw?.set(key, "replica-2", "PX", 30_000);
    expect(await ownership.holder(scheduler)).toBe("replica-2");
    expect(await ownership.renew(scheduler, "replica-1", 90_000)).toBe(false);
    expect((await raw?.pttl(key)) ?? 0).toBeLessThanOrEqual(30_000);

    await ownership.release(scheduler, "replica-2");
    expect(await raw?.exists(key)).toBe(0);
  });
});
