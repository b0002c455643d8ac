import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validScheduler } from "../support/fixtures.js";
import { startRedis } from "../support/redis.js";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/**
 * Maestro's e2e scenarios list_operations, cancel_operation and operation_lease over the REST API, with the
 * operations kept in memory and in Redis.
 */
const backends: [string, () => Promise<{ settings: Record<string, unknown>; stop(): Promise<void> }>][] = [
  ["memory", async () => ({ settings: {}, stop: async () => {} })],
  [
    "redis",
    async () => {
      const redis = await startRedis();
      return {
        settings: { "storage.operations.kind": "redis", "storage.operations.url": redis.url },
        stop: () => redis.stop(),
      };
    },
  ],
];

describe.each(backends)("operations engine with operations in %s", (backendName, backend) => {
  let maestro: TestMaestro;
  let stopBackend: () => Promise<void>;
  const S = "ops-engine";
  const get = (path: string) => http(maestro.managementUrl, "GET", path);
  const op = async (id: string) => (await get(`/schedulers/${S}/operations/${id}`)).json.operation;
  const until = (id: string, status: string) =>
    eventually(async () => ((await op(id))?.status === status ? op(id) : undefined), { what: `${id} ${status}` });
  const enqueue = (sleepSeconds: number) =>
    maestro.context.operationManager.enqueue(S, "test_operation", { sleepSeconds });

  beforeAll(async () => {
    const b = await backend();
    stopBackend = b.stop;
    maestro = await startTestMaestro({ ...b.settings, "workers.operationLeaseTtlMs": 1000 });
    expect((await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody(S))).status).toBe(200);
    await eventually(async () => (await get(`/schedulers/${S}`)).json.scheduler?.state === "in-sync");
  });
  afterAll(async () => {
    await maestro?.stop();
    await stopBackend?.();
  });

  it("completes the creation of a scheduler stored by a call that died before queueing its operation", async () => {
    // What a management API process killed between the SQL write and the enqueue leaves behind.
    const name = `orphan-${backendName}`;
    await maestro.context.schedulerStorage.createScheduler(
      validScheduler({ name, state: "creating", createdAt: new Date() }),
    );
    maestro.context.events.emit("schedulers-changed");
    await eventually(async () => (await get(`/schedulers/${name}`)).json.scheduler?.state === "in-sync", {
      what: "the orphaned scheduler to be created",
    });
    // The operation sets the state before the worker files it as final: wait for that, then count.
    const creations = async () =>
      (await get(`/schedulers/${name}/operations?stage=final`)).json.operations.filter(
        (o: { definitionName: string }) => o.definitionName === "create_scheduler",
      );
    await eventually(async () => (await creations()).length > 0, { what: "create_scheduler final" });
    expect(await creations()).toHaveLength(1);
  });

  it("recovers an operation whose lease lapsed while this replica owns the scheduler, without waiting for a takeover", async () => {
    // What a replica that froze mid-operation leaves behind: in progress, with a lease nobody renews.
    const now = new Date();
    const stranded = {
      id: `stranded-${now.getTime()}`,
      schedulerName: S,
      definitionName: "test_operation",
      status: "in_progress" as const,
      input: { sleepSeconds: 60 },
      createdAt: now,
      executionHistory: [{ createdAt: now, event: "Created" }],
    };
    await maestro.context.operationStorage.createOperation(stranded);
    await maestro.context.leases.grantLease(S, stranded.id, 200, { owner: "a-frozen-replica" });
    const ended = await until(stranded.id, "error");
    expect(ended.executionHistory.map((e: { event: string }) => e.event)).toContain(
      "Operation lease expired: its worker stopped while running it",
    );
  });

  it("lists pending, active and final operations; leases are visible and renewed; cancel ends both canceled", async () => {
    const running = await enqueue(60);
    const waiting = await enqueue(60);
    await until(running.id, "in_progress");

    const active = (await get(`/schedulers/${S}/operations?stage=active`)).json;
    expect(active.operations.map((o: { id: string }) => o.id)).toEqual([running.id]);
    const firstTtl = new Date(active.operations[0].lease.ttl).getTime();
    expect(firstTtl).toBeGreaterThan(Date.now() - 100);
    const pending = (await get(`/schedulers/${S}/operations?stage=pending`)).json.operations;
    expect(pending.map((o: { id: string }) => o.id)).toContain(waiting.id);
    // The lease is renewed while the operation runs.
    await eventually(async () => new Date((await op(running.id)).lease?.ttl ?? 0).getTime() > firstTtl, {
      what: "lease renewal",
    });

    // Pending → canceled without ever running.
    expect((await http(maestro.managementUrl, "POST", `/schedulers/${S}/operations/${waiting.id}/cancel`)).status).toBe(
      200,
    );
    const neverRan = await until(waiting.id, "canceled");
    expect(neverRan.executionHistory.map((e: { event: string }) => e.event)).not.toContain("Starting operation");

    // In progress → its signal fires, it ends canceled and its lease is gone.
    expect((await http(maestro.managementUrl, "POST", `/schedulers/${S}/operations/${running.id}/cancel`)).status).toBe(
      200,
    );
    const stopped = await until(running.id, "canceled");
    expect(stopped.lease).toBeUndefined();
    expect(stopped.executionHistory.map((e: { event: string }) => e.event)).toContain(
      "Operation canceled: operation canceled by the user",
    );

    // A final operation cannot be canceled.
    const again = await http(maestro.managementUrl, "POST", `/schedulers/${S}/operations/${running.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('"canceled" is a final status');
  });

  it("pages through final operations, newest first by default", async () => {
    const quick = [await enqueue(0), await enqueue(0), await enqueue(0)];
    for (const q of quick) expect((await until(q.id, "finished")).lease).toBeUndefined();
    const page1 = (await get(`/schedulers/${S}/operations?stage=final&perPage=2`)).json;
    expect(page1).toMatchObject({ page: 1, pageSize: 2 });
    expect(page1.total).toBeGreaterThanOrEqual(5);
    expect(page1.operations.map((o: { id: string }) => o.id)).toEqual([quick[2]!.id, quick[1]!.id]);
    const page2 = (await get(`/schedulers/${S}/operations?stage=final&perPage=2&page=2`)).json;
    expect(page2.operations[0].id).toBe(quick[0]!.id);
  });
});
