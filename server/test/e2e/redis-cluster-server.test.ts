import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster, type TestRedisCluster } from "../support/redis-cluster.js";
import { eventually, http, pingingSchedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/** A whole Maestro with rooms and operations on a three-master Redis Cluster: create, rooms ready, allocate, scale. */
describe("Maestro on a Redis Cluster", () => {
  let cluster: TestRedisCluster;
  let maestro: TestMaestro;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    maestro = await startTestMaestro({
      "storage.state.kind": "redis",
      "storage.operations.kind": "redis",
      "storage.operations.url": cluster.url,
    });
  });
  afterAll(async () => {
    await maestro?.stop();
    await cluster?.stop();
  });

  it("runs a scheduler's operations, rooms and allocations", async () => {
    const api = (method: string, path: string, body?: unknown) => http(maestro.managementUrl, method, path, body);
    expect((await api("POST", "/schedulers", pingingSchedulerBody("clustered", { roomsReplicas: 2 }))).status).toBe(
      200,
    );
    await eventually(
      async () =>
        (await api("GET", "/schedulers/clustered/rooms")).json.rooms?.filter(
          (r: { status: string }) => r.status === "ready",
        ).length === 2,
      { what: "2 ready rooms", timeoutMs: 30_000 },
    );
    const allocated = await http(maestro.roomsUrl, "POST", "/scheduler/clustered/rooms/allocate", {});
    expect(allocated.status).toBe(200);
    expect((await api("POST", "/schedulers/clustered/remove-rooms", { amount: 2 })).status).toBe(200);
    // Only the idle room goes: scaling never takes the allocated one.
    await eventually(async () => (await api("GET", "/schedulers/clustered/rooms")).json.rooms?.length === 1, {
      what: "the idle room to go",
      timeoutMs: 30_000,
    });
    const left = (await api("GET", "/schedulers/clustered/rooms")).json.rooms;
    expect(left.map((r: { id: string }) => r.id)).toEqual([allocated.json.roomId]);
  });
});
