import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createRedisClient,
  RedisCancelSignals,
  RedisCrashedRoomLogs,
  RedisInstanceStorage,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  RedisRoomStorage,
  RedisScalePoints,
  RedisSchedulerOwnership,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import { parseClusterUrl, type RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedisCluster, type TestRedisCluster } from "../support/redis-cluster.js";
import { cancelSignalsContract } from "./cancel-signals.contract.js";
import { crashedRoomLogsContract } from "./crashed-room-logs.contract.js";
import { instanceStorageContract } from "./instance-storage.contract.js";
import { leaseStorageContract } from "./lease-storage.contract.js";
import { operationQueueContract } from "./operation-queue.contract.js";
import { operationStorageContract } from "./operation-storage.contract.js";
import { roomStorageContract } from "./room-storage.contract.js";
import { scalePointsContract } from "./scale-points.contract.js";
import { schedulerOwnershipContract } from "./scheduler-ownership.contract.js";

/**
 * The Redis adapters' contract suites on a real Redis Cluster of three masters: every script gets every key it
 * touches and all keys of a scheduler share a hash tag, so nothing here may fail with CROSSSLOT or a moved key.
 */
let cluster: TestRedisCluster | undefined;
let client: RedisClient | undefined;
let queue: RedisOperationQueue | undefined;
const ready = (async () => {
  cluster = await startRedisCluster();
  client = createRedisClient(cluster.url, { name: "contract-cluster" });
  await waitUntilReady(client, { timeoutMs: 20_000 });
  return client;
})();
// Rejections surface in the suites that await it.
ready.catch(() => {});

beforeAll(async () => {
  await ready;
});

afterAll(async () => {
  await queue?.close();
  client?.disconnect();
  await cluster?.stop();
});

roomStorageContract("redis cluster", async () => {
  const c = await ready;
  return { rooms: new RedisRoomStorage(c), instances: new RedisInstanceStorage(c) };
});
instanceStorageContract("redis cluster", async () => new RedisInstanceStorage(await ready));
operationStorageContract("redis cluster", async () => {
  const c = await ready;
  return {
    storage: new RedisOperationStorage(c, { ttlSecondsFor: (name) => (name === "add_rooms" ? 3_600 : undefined) }),
    leases: new RedisLeaseStorage(c),
  };
});
operationQueueContract("redis cluster", async () => {
  queue = new RedisOperationQueue(await ready);
  return queue;
});
leaseStorageContract("redis cluster", async () => ({
  storage: new RedisLeaseStorage(await ready),
  time: { now: () => Date.now(), advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
}));
schedulerOwnershipContract("redis cluster", () => new RedisSchedulerOwnership(client as RedisClient));
cancelSignalsContract("redis cluster", async () => new RedisCancelSignals(await ready));
scalePointsContract("redis cluster", async () => new RedisScalePoints(await ready));
crashedRoomLogsContract("redis cluster", async () => new RedisCrashedRoomLogs(await ready));

describe("redis+cluster URLs", () => {
  it("name the nodes and credentials, and refuse what is not host:port", () => {
    expect(parseClusterUrl("redis://127.0.0.1:6379")).toBeUndefined();
    expect(parseClusterUrl("redis+cluster://u:p%40ss@10.0.0.1:7000,[::1]:7001/")).toEqual({
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "::1", port: 7001 },
      ],
      tls: false,
      username: "u",
      password: "p@ss",
    });
    expect(parseClusterUrl("rediss+cluster://node-a:7000")).toMatchObject({ tls: true });
    expect(() => parseClusterUrl("redis+cluster://")).toThrow(/no node given/);
    expect(() => parseClusterUrl("redis+cluster://:secret@a:7000,b")).toThrow(/node "b" is not host:port/);
    expect(() => parseClusterUrl("redis+cluster://:secret@a:99999")).toThrow(/not host:port/);
    try {
      parseClusterUrl("redis+cluster://:secret@a:x");
    } catch (e) {
      expect(String(e)).not.toContain("secret");
    }
  });
});
