import { afterAll, describe, expect, it } from "vitest";
import { MemorySchedulerChanges } from "../../src/adapters/storage/memory/index.js";
import { createRedisClient, RedisSchedulerChanges, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { schedulerChangesContract } from "./scheduler-changes.contract.js";

schedulerChangesContract("memory", () => {
  const changes = new MemorySchedulerChanges();
  return [changes, changes];
});

let redis: TestRedis | undefined;
const clients: RedisClient[] = [];
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

schedulerChangesContract("redis", async () => {
  redis = await startRedis();
  for (const name of ["changes-one", "changes-other"]) {
    const client = createRedisClient(redis.url, { name });
    await waitUntilReady(client, { timeoutMs: 10_000 });
    clients.push(client);
  }
  return [new RedisSchedulerChanges(clients[0] as RedisClient), new RedisSchedulerChanges(clients[1] as RedisClient)];
});

describe("RedisSchedulerChanges", () => {
  it("reads the generation over a script channel of its own", async () => {
    const r = redis ?? (await startRedis());
    redis = r;
    const client = createRedisClient(r.url, { name: "changes-channel" });
    await waitUntilReady(client, { timeoutMs: 10_000 });
    clients.push(client);
    const changes = new RedisSchedulerChanges(client as RedisClient);
    const before = await changes.generation();
    await changes.announce();
    expect(await changes.generation()).not.toBe(before);
    const list = (await client.call("CLIENT", "LIST")) as string;
    const line = list.split("\n").find((l) => / name=changes-channel-scheduler-generation /.test(`${l} `));
    // Its last command was the read's script (the shared client's was the INCR).
    expect(`${line} `).toMatch(/ cmd=evalsha /);
  });
});
