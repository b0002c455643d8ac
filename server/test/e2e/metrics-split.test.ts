import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type MaestroCli, startMaestroCli } from "../support/maestro-cli.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { metricValue, scrape } from "../support/prometheus.js";
import { startRedis } from "../support/redis.js";
import { eventually, http, PINGING_ROOM, schedulerBody } from "../support/test-maestro.js";

/**
 * Each module's process serves the series of the work it does on its own internal port: the APIs' process counts
 * requests, the worker's times operations, the metrics reporter's has the per-scheduler gauges.
 */
describe("/metrics of each module in a split deployment", () => {
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

  it("shows live values in the APIs', the worker's and the reporter's processes", async () => {
    const shared = {
      "storage.schedulers.kind": "postgres",
      "storage.schedulers.url": pg.url,
      "storage.operations.kind": "redis",
      "storage.operations.url": redis.url,
      "storage.state.kind": "redis",
      "roomsApi.tokenSecret": "metrics-split-test-secret",
      "workers.syncIntervalMs": 300,
      "workers.healthControllerIntervalMs": 500,
    };
    const apis = await startMaestroCli(["management-api", "rooms-api"], shared, { rooms: await freePort() });
    processes.push(apis);
    const worker = await startMaestroCli(["worker", "runtime-watcher"], {
      ...shared,
      "roomsApi.publicUrl": apis.roomsUrl,
    });
    processes.push(worker);
    const reporter = await startMaestroCli(["metrics-reporter"], shared);
    processes.push(reporter);

    const S = "split-metrics";
    const body = schedulerBody(S, { roomsReplicas: 2 });
    (body.spec as { containers: { command: string[] }[] }).containers[0]!.command = PINGING_ROOM;
    expect((await http(apis.managementUrl, "POST", "/schedulers", body)).status).toBe(200);
    const labels = { game: "test-game", scheduler: S };
    const gauges = await eventually(
      async () => {
        const m = await scrape(reporter.internalUrl);
        return metricValue(m, "maestro_worker_gru_ready", labels) === 2 ? m : false;
      },
      { what: "the reporter's gauge to show 2 ready rooms", timeoutMs: 40_000, intervalMs: 300 },
    );
    expect(metricValue(gauges, "maestro_worker_desired_rooms", labels)).toBe(2);
    expect(metricValue(gauges, "maestro_worker_instance_ready", labels)).toBe(2);
    // The reporter serves no API: no request series there.
    expect(metricValue(gauges, "maestro_http_requests_total")).toBeUndefined();

    const api = await scrape(apis.internalUrl);
    expect(
      metricValue(api, "maestro_http_requests_total", {
        service: "management-api",
        method: "POST",
        route: "/schedulers",
        code: "200",
      }),
    ).toBe(1);
    expect(
      metricValue(api, "maestro_http_requests_total", {
        service: "rooms-api",
        route: "/scheduler/:scheduler_name/rooms/:room_name/ping",
        code: "200",
      }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(api, "maestro_storage_operation_latency_count", { storage: "room-storage", backend: "redis" }),
    ).toBeGreaterThan(0);
    // The APIs' process runs no operation.
    expect(metricValue(api, "maestro_worker_operation_execution_latency_count")).toBeUndefined();

    const work = await scrape(worker.internalUrl);
    for (const operation of ["create_scheduler", "add_rooms", "health_controller"]) {
      expect(
        metricValue(work, "maestro_worker_operation_execution_latency_count", {
          ...labels,
          operation,
          success: "true",
        }),
        operation,
      ).toBeGreaterThan(0);
    }
    expect(
      metricValue(work, "maestro_storage_operation_latency_count", {
        storage: "scheduler-storage",
        backend: "postgres",
      }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(work, "maestro_storage_operation_latency_count", { storage: "operation-lease-storage" }),
    ).toBeGreaterThan(0);
  }, 90_000);
});
