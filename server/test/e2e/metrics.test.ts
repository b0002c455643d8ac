import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, scrape } from "../support/prometheus.js";
import { eventually, http, pingingSchedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/**
 * The documented series (docs/metrics.md) on a whole embedded Maestro: per-scheduler gauges match what the API says,
 * HTTP counters follow calls by route template, operations and storage calls are timed, evictions are counted.
 */
let maestro: TestMaestro;
const S = "metrics-e2e";
const labels = { game: "test-game", scheduler: S };

beforeAll(async () => {
  maestro = await startTestMaestro();
  const body = pingingSchedulerBody(S, { roomsReplicas: 2 });
  expect((await http(maestro.managementUrl, "POST", "/schedulers", body)).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await maestro?.stop();
});

describe("/metrics on the internal port", () => {
  it("per-scheduler room gauges equal the rooms the API reports", async () => {
    const samples = await eventually(
      async () => {
        const info = (await http(maestro.managementUrl, "GET", `/schedulers/info?game=test-game`)).json.schedulers;
        const ready = info.find((s: { name: string }) => s.name === S)?.roomsReady;
        if (ready !== 2) return false;
        const m = await scrape(maestro.urls.internalApi);
        return metricValue(m, "maestro_worker_gru_ready", labels) === 2 ? m : false;
      },
      { what: "2 ready rooms in the API and in maestro_worker_gru_ready", timeoutMs: 40_000, intervalMs: 300 },
    );
    expect(metricValue(samples, "maestro_worker_gru_pending", labels)).toBe(0);
    expect(metricValue(samples, "maestro_worker_instance_ready", labels)).toBe(2);
    expect(metricValue(samples, "maestro_worker_desired_rooms", labels)).toBe(2);
    expect(metricValue(samples, "maestro_worker_current_rooms", labels)).toBe(2);
    expect(metricValue(samples, "maestro_worker_max_matches", labels)).toBe(1);
    expect(metricValue(samples, "maestro_worker_running_matches", labels)).toBe(0);
    expect(metricValue(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
  }, 60_000);

  it("reports each room's CPU and memory, and the scheduler's usage over its requests", async () => {
    const rooms = (await http(maestro.managementUrl, "GET", `/schedulers/${S}/rooms`)).json.rooms as { id: string }[];
    const samples = await eventually(
      async () => {
        const m = await scrape(maestro.urls.internalApi);
        return rooms.every((r) => metricValue(m, "maestro_room_memory_bytes", { ...labels, room: r.id }) !== undefined)
          ? m
          : false;
      },
      { what: "a memory series per room", timeoutMs: 20_000, intervalMs: 300 },
    );
    for (const r of rooms) {
      expect(metricValue(samples, "maestro_room_memory_bytes", { ...labels, room: r.id })).toBeGreaterThan(0);
      expect(metricValue(samples, "maestro_room_cpu_millicores", { ...labels, room: r.id })).toBeGreaterThanOrEqual(0);
    }
    // Two node processes hold far more than 0 and, being idle, use a small share of their 100m CPU requests each.
    expect(metricValue(samples, "maestro_worker_memory_utilization", labels)).toBeGreaterThan(0);
    expect(metricValue(samples, "maestro_worker_cpu_utilization", labels)).toBeGreaterThanOrEqual(0);
  });

  it("counts HTTP requests by route template, for both APIs", async () => {
    const route = "/schedulers/:scheduler_name";
    const key = { service: "management-api", method: "GET", route, code: "200" };
    const before = metricValue(await scrape(maestro.urls.internalApi), "maestro_http_requests_total", key) ?? 0;
    for (let i = 0; i < 3; i++) expect((await http(maestro.managementUrl, "GET", `/schedulers/${S}`)).status).toBe(200);
    expect((await http(maestro.managementUrl, "GET", "/schedulers/no-such-scheduler")).status).toBe(404);
    const after = await scrape(maestro.urls.internalApi);
    expect(metricValue(after, "maestro_http_requests_total", key)).toBe(before + 3);
    expect(metricValue(after, "maestro_http_requests_total", { ...key, code: "404" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(after, "maestro_http_request_duration_ms_count", key)).toBe(before + 3);
    // Raw names never become a route label: cardinality stays bounded by the route table.
    expect(after.filter((s) => s.labels.route?.includes(S) || s.labels.route?.includes("no-such"))).toEqual([]);
    // Rooms ping through the rooms API, whose requests are counted under its own service label.
    const pings = after.filter((s) => s.name === "maestro_http_requests_total" && s.labels.service === "rooms-api");
    expect(pings.some((s) => s.labels.route?.endsWith("/ping") && s.value > 0)).toBe(true);
  });

  it("times operations and storage calls, and counts evictions", async () => {
    const op = await maestro.context.operationManager.enqueue(S, "test_operation", { sleepSeconds: 0 });
    // An operation whose definition is gone is evicted by the worker.
    const orphan = { ...op, id: `${op.id}-orphan`, definitionName: "no_such_operation" };
    await maestro.context.operationStorage.createOperation(orphan);
    await maestro.context.queue.enqueue(S, orphan.id);
    const m = await eventually(
      async () => {
        const s = await scrape(maestro.urls.internalApi);
        const ran = metricValue(s, "maestro_worker_operation_execution_latency_count", {
          ...labels,
          operation: "test_operation",
          success: "true",
        });
        const evicted = metricValue(s, "maestro_worker_operation_evicted_total", {
          ...labels,
          operation: "no_such_operation",
          reason: "unknown_definition",
        });
        return ran === 1 && evicted === 1 ? s : false;
      },
      { what: "test_operation timed and the orphan evicted" },
    );
    expect(
      metricValue(m, "maestro_worker_operation_execution_latency_count", { operation: "add_rooms" }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(m, "maestro_storage_operation_latency_count", {
        storage: "room-storage",
        backend: "memory",
        operation: "applyInstanceStatus",
      }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(m, "maestro_storage_operation_latency_count", { storage: "scheduler-storage", backend: "pglite" }),
    ).toBeGreaterThan(0);
    expect(metricValue(m, "maestro_storage_fails_total")).toBeUndefined();
  });

  it("reports forwarder outcomes through the ForwardingStats interface", async () => {
    const stats = maestro.context.metrics;
    stats.delivered("matchmaker", "room-ready", "success", 12);
    stats.delivered("matchmaker", "room-ready", "success", 30);
    stats.delivered("matchmaker", "room-ready", "timeout", 1000);
    const m = await scrape(maestro.urls.internalApi);
    const key = { forwarder: "matchmaker", event: "room-ready" };
    expect(metricValue(m, "maestro_forwarder_events_total", { ...key, outcome: "success" })).toBe(2);
    expect(metricValue(m, "maestro_forwarder_events_total", { ...key, outcome: "timeout" })).toBe(1);
    expect(metricValue(m, "maestro_forwarder_event_duration_ms_sum", { ...key, outcome: "success" })).toBe(42);
  });

  it("answers /healthz and /readyz with the checks it ran", async () => {
    expect((await http(maestro.urls.internalApi, "GET", "/healthz")).status).toBe(200);
    const ready = await http(maestro.urls.internalApi, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json.checks.map((c: { name: string }) => c.name)).toEqual([
      "scheduler-storage (pglite)",
      "runtime (process)",
    ]);
  });

  // Issue 16, finding 8: series of a deleted scheduler lingered until the process restarted.
  it("drops every series of a deleted scheduler", async () => {
    const gone = "metrics-deleted";
    const mgmt = maestro.managementUrl;
    expect((await http(mgmt, "POST", "/schedulers", pingingSchedulerBody(gone, { roomsReplicas: 1 }))).status).toBe(
      200,
    );
    const own = (m: Awaited<ReturnType<typeof scrape>>) => m.filter((s) => s.labels.scheduler === gone);
    await eventually(
      async () =>
        metricValue(await scrape(maestro.urls.internalApi), "maestro_worker_operation_execution_latency_count", {
          scheduler: gone,
        }) !== undefined,
      { what: "an operation of the scheduler timed", timeoutMs: 30_000 },
    );
    expect((await http(mgmt, "DELETE", `/schedulers/${gone}`)).status).toBe(200);
    await eventually(async () => (await http(mgmt, "GET", `/schedulers/${gone}`)).status === 404, {
      timeoutMs: 30_000,
    });
    await eventually(async () => own(await scrape(maestro.urls.internalApi)).length === 0, {
      what: "no series labelled with the deleted scheduler",
      timeoutMs: 10_000,
    });
  }, 60_000);
});
