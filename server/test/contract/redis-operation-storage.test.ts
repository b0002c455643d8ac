import { afterAll } from "vitest";
import {
  createRedisClient,
  RedisLeaseStorage,
  RedisOperationStorage,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { operationStorageContract } from "./operation-storage.contract.js";

let redis: TestRedis | undefined;
let client: RedisClient | undefined;

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

operationStorageContract("redis", async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "contract-operation-storage" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  // A TTL on the contract's definition too, so expiring hashes do not change what the contract sees.
  return {
    storage: new RedisOperationStorage(client, { ttlSecondsFor: (name) => (name === "add_rooms" ? 3_600 : undefined) }),
    leases: new RedisLeaseStorage(client),
  };
});
