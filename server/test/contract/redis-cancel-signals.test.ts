import { afterAll } from "vitest";
import { createRedisClient, RedisCancelSignals, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { cancelSignalsContract } from "./cancel-signals.contract.js";

let redis: TestRedis | undefined;
let client: RedisClient | undefined;

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

cancelSignalsContract("redis", async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "contract-cancel-signals" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  return new RedisCancelSignals(client);
});
