import { afterAll, expect, it } from "vitest";
import { createRedisClient, RedisCrashedRoomLogs, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { crashedRoomLogsContract } from "./crashed-room-logs.contract.js";

let redis: TestRedis | undefined;
let client: RedisClient | undefined;

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

crashedRoomLogsContract("redis", async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "contract-crashed-room-logs" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  return new RedisCrashedRoomLogs(client);
});

it("keeps a scheduler's tails under its hash tag, expiring", async () => {
  const logs = new RedisCrashedRoomLogs(client as RedisClient);
  await logs.keep("tagged-crash", "r1", "tail", new Date(), 5);
  const keys = (await (client as RedisClient).keys("*tagged-crash*")).sort();
  expect(keys).toEqual(["scheduler:{tagged-crash}:crashedLogs", "scheduler:{tagged-crash}:crashedLogs:order"]);
  for (const key of keys) expect(await (client as RedisClient).ttl(key)).toBeGreaterThan(0);
});
