import { afterAll } from "vitest";
import {
  createRedisClient,
  RedisInstanceStorage,
  RedisRoomStorage,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { roomStorageContract } from "./room-storage.contract.js";

let redis: TestRedis | undefined;
let client: RedisClient | undefined;

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

roomStorageContract("redis", async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { name: "contract-room-storage" });
  await waitUntilReady(client, { timeoutMs: 10_000 });
  return { rooms: new RedisRoomStorage(client), instances: new RedisInstanceStorage(client) };
});
