import { afterAll } from "vitest";
import { createRedisClient, RedisOperationQueue, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { operationQueueContract } from "./operation-queue.contract.js";

let redis: TestRedis | undefined;
let client: RedisClient | undefined;
let queue: RedisOperationQueue | undefined;

afterAll(async () => {
  await queue?.close();
  client?.disconnect();
  await redis?.stop();
});

operationQueueContract("redis", async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "contract-operation-queue" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  queue = new RedisOperationQueue(client);
  return queue;
});
