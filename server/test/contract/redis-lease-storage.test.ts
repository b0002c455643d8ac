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

leaseStorageContract("redis", async (clock) => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "contract-lease-storage" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  return new RedisLeaseStorage(client, clock);
});
