import { describe, expect, it } from "vitest";
import { metricValue, scrape } from "../support/prometheus.js";
import { useSplitDeployment } from "../support/split-deployment.js";
import { eventually, http, pingingSchedulerBody } from "../support/test-maestro.js";

/**
 * Each module's process serves the series of the work it does on its own internal port: the APIs' process counts
 * requests, the worker's times operations, the metrics reporter's has the per-scheduler gauges.
 */
describe("/metrics of each module in a split deployment", () => {
  const deployment = useSplitDeployment("metrics-split-test-secret");

  it("shows live values in the APIs', the worker's and the reporter's processes", async () => {
    const { apis, worker } = await deployment.startApisAndWorker();
    const reporter = await deployment.start(["metrics-reporter"]);

    const S = "split-metrics";
    const body = pingingSchedulerBody(S, { roomsReplicas: 2 });
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
