import { afterAll, expect, it } from "vitest";
import { createRedisClient, RedisScalePoints, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { scalePointsContract } from "./scale-points.contract.js";

let redis: TestRedis | undefined;
let client: RedisClient | undefined;

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

scalePointsContract("redis", async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "contract-scale-points" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  return new RedisScalePoints(client);
});

it("keeps every key of a scheduler under its hash tag", async () => {
  const storage = new RedisScalePoints(client as RedisClient);
  await storage.addPoint("tagged", "cpu", { value: 0.5, at: new Date() }, 5, 0);
  await storage.setLastScaleAt("tagged", new Date());
  const keys = await (client as RedisClient).keys("*tagged*");
  expect(keys.sort()).toEqual(["scheduler:{tagged}:scale:cpu", "scheduler:{tagged}:scale:last"]);
});
