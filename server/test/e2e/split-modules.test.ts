import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type MaestroCli, startMaestroCli } from "../support/maestro-cli.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { startRedis } from "../support/redis.js";
import { eventually, http, PINGING_ROOM, schedulerBody } from "../support/test-maestro.js";

/**
 * The APIs and the worker in separate processes, sharing PostgreSQL and Redis (rooms and operations): a scheduler
 * created through one process gets its rooms from the other, and those rooms report to the first one's rooms API.
 */
describe("modules split across processes", () => {
  let pg: TestPostgres;
  let redis: { url: string; stop(): Promise<void> };
  const processes: MaestroCli[] = [];

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  it("serves the APIs from one process while another runs the rooms", async () => {
    const shared = {
      "storage.schedulers.kind": "postgres",
      "storage.schedulers.url": pg.url,
      "storage.operations.kind": "redis",
      "storage.operations.url": redis.url,
      "storage.state.kind": "redis",
      // Both processes must agree on room tokens: the worker issues them, the rooms API checks them.
      "roomsApi.tokenSecret": "split-modules-test-secret",
      "workers.syncIntervalMs": 300,
      "workers.healthControllerIntervalMs": 500,
    };
    const roomsPort = await freePort();
    const apis = await startMaestroCli(["management-api", "rooms-api"], shared, { rooms: roomsPort });
    processes.push(apis);
    const worker = await startMaestroCli(["worker", "runtime-watcher"], {
      ...shared,
      "roomsApi.publicUrl": apis.roomsUrl,
    });
    processes.push(worker);

    const body = schedulerBody("split", { roomsReplicas: 2 });
    (body.spec as { containers: { command: string[] }[] }).containers[0]!.command = PINGING_ROOM;
    expect((await http(apis.managementUrl, "POST", "/schedulers", body)).status).toBe(200);
    const rooms = await eventually(
      async () => {
        const r = (await http(apis.managementUrl, "GET", "/schedulers/split/rooms")).json.rooms;
        return r?.length === 2 && r.every((x: { status: string }) => x.status === "ready") ? r : undefined;
      },
      { what: "2 rooms ready through the other process", timeoutMs: 30_000 },
    );
    expect(rooms[0]).toMatchObject({ pingStatus: "ready", host: "127.0.0.1", instanceStatus: "ready" });
    const info = (await http(apis.managementUrl, "GET", "/schedulers/info")).json.schedulers;
    expect(info).toEqual([expect.objectContaining({ name: "split", roomsReady: 2 })]);

    expect((await http(apis.managementUrl, "DELETE", "/schedulers/split")).status).toBe(200);
    await eventually(async () => (await http(apis.managementUrl, "GET", "/schedulers/split")).status === 404, {
      what: "scheduler deleted",
      timeoutMs: 30_000,
    });
  });
});
