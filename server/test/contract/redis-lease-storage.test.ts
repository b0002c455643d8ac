import { afterAll } from "vitest";
import { createRedisClient, RedisLeaseStorage, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { leaseStorageContract } from "./lease-storage.contract.js";

let redis: TestRedis | undefined;
let client: RedisClient | undefined;

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

leaseStorageContract("redis", async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "contract-lease-storage" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  // Redis keeps time itself (TIME in the scripts): the suite's time is the machine's, which Redis runs on.
  return {
    storage: new RedisLeaseStorage(client),
    time: { now: () => Date.now(), advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
  };
});
