import { describe, expect, it } from "vitest";
import type { RunningMaestro } from "../../src/server.js";
import { useSharedStoresMaestros } from "../support/shared-stores-maestro.js";
import { eventually, http, schedulerBody } from "../support/test-maestro.js";

/** Calls of one scheduler-storage method this process made, from its own /metrics. */
async function storageCalls(maestro: RunningMaestro, method: string): Promise<number> {
  const text = await (await fetch(`${maestro.urls.internalApi}/metrics`)).text();
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("maestro_storage_operation_latency_count{") &&
        l.includes('storage="scheduler-storage"') &&
        l.includes(`operation="${method}"`),
    );
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** Waits until the scheduler's operations include a finished one of `definition`, as its worker reports it. */
async function finished(maestro: RunningMaestro, scheduler: string, definition: string): Promise<void> {
  const path = `/schedulers/${scheduler}/operations?stage=final`;
  await eventually(
    async () =>
      (await http(maestro.urls.managementApi!, "GET", path)).json.operations?.some(
        (o: { definitionName: string; status: string }) => o.definitionName === definition && o.status === "finished",
      ),
    { what: `${definition} finished`, timeoutMs: 20_000 },
  );
}

/**
 * The management API reads schedulers from a cache that a write in any process invalidates through Redis: two
 * Maestros on one PostgreSQL and Redis, a write answered by one (or done by its worker) is what the other's very next
 * read returns, while repeated reads with no write in between do not reach PostgreSQL.
 */
describe("management reads from the scheduler cache", () => {
  const { start } = useSharedStoresMaestros();

  it("serves repeated reads from memory and a write from another process at the next read", async () => {
    const writer = await start(["management-api", "worker", "runtime-watcher"]);
    const reader = await start(["management-api"]);
    const W = writer.urls.managementApi!;
    const R = reader.urls.managementApi!;
    const created = await http(W, "POST", "/schedulers", schedulerBody("cached"));
    expect(created.status).toBe(200);
    await eventually(async () => (await http(R, "GET", "/schedulers/cached")).json.scheduler?.state === "in-sync", {
      what: "scheduler in sync",
    });

    // Warm, then count: no write happens between these reads, so none reaches the database.
    expect((await http(R, "GET", "/schedulers")).json.schedulers.map((s: { name: string }) => s.name)).toEqual([
      "cached",
    ]);
    const [gets, lists] = [await storageCalls(reader, "getScheduler"), await storageCalls(reader, "listSchedulers")];
    for (let i = 0; i < 5; i++) {
      expect((await http(R, "GET", "/schedulers/cached")).status).toBe(200);
      expect((await http(R, "GET", "/schedulers")).status).toBe(200);
    }
    expect(await storageCalls(reader, "getScheduler")).toBe(gets);
    expect(await storageCalls(reader, "listSchedulers")).toBe(lists);

    // A write through the other process's storage (as its worker's operations write): seen by the next read.
    const stored = await writer.context.schedulerStorage.getScheduler("cached");
    await writer.context.schedulerStorage.updateScheduler({ ...stored, maxSurge: "42%" });
    expect((await http(R, "GET", "/schedulers/cached")).json.scheduler.maxSurge).toBe("42%");
    expect((await http(R, "GET", "/schedulers")).json.schedulers[0].maxSurge).toBe("42%");

    // A new version made active by the other process's worker (create_new_scheduler_version enqueues
    // switch_active_version): visible at the first read after that operation finished.
    const patched = await http(W, "PATCH", "/schedulers/cached", { maxSurge: "30%" });
    expect(patched.status).toBe(200);
    await finished(writer, "cached", "switch_active_version");
    const afterPatch = (await http(R, "GET", "/schedulers/cached")).json.scheduler;
    expect(afterPatch.maxSurge).toBe("30%");

    // Created in one process: listed by the other at once.
    expect((await http(W, "POST", "/schedulers", schedulerBody("cached-two"))).status).toBe(200);
    expect((await http(R, "GET", "/schedulers")).json.schedulers.map((s: { name: string }) => s.name)).toEqual([
      "cached",
      "cached-two",
    ]);

    // Deleted through the other process: gone from the next read.
    const deleted = await http(W, "DELETE", "/schedulers/cached-two");
    expect(deleted.status).toBe(200);
    await eventually(async () => (await http(W, "GET", "/schedulers/cached-two")).status === 404, {
      what: "deletion done in the writer",
      timeoutMs: 20_000,
    });
    expect((await http(R, "GET", "/schedulers/cached-two")).status).toBe(404);
    expect((await http(R, "GET", "/schedulers")).json.schedulers.map((s: { name: string }) => s.name)).toEqual([
      "cached",
    ]);
  });

  // Room state kept per process: the writes are still announced on the operations' Redis (the replicas test's setup,
  // which once read a scheduler cached for 30 s).
  it("sees another process's write at the next read with room state in memory and operations on Redis", async () => {
    const overrides = { "storage.state.kind": "memory" };
    const writer = await start(["all"], overrides);
    const reader = await start(["all"], overrides);
    expect((await http(writer.urls.managementApi!, "POST", "/schedulers", schedulerBody("cached-ops"))).status).toBe(
      200,
    );
    const R = reader.urls.managementApi!;
    // Once create_scheduler is done no worker writes the scheduler again, so the write below is the only one.
    await eventually(async () => (await http(R, "GET", "/schedulers/cached-ops")).json.scheduler?.state === "in-sync", {
      what: "scheduler in sync",
    });
    const stored = await writer.context.schedulerStorage.getScheduler("cached-ops");
    await writer.context.schedulerStorage.updateScheduler({ ...stored, maxSurge: "41%" });
    expect((await http(R, "GET", "/schedulers/cached-ops")).json.scheduler.maxSurge).toBe("41%");
    const listed = (await http(R, "GET", "/schedulers")).json.schedulers.find(
      (s: { name: string }) => s.name === "cached-ops",
    );
    expect(listed.maxSurge).toBe("41%");
  });
});
