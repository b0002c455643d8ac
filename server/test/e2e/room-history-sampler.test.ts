import { describe, expect, it } from "vitest";
import type { RunningMaestro } from "../../src/server.js";
import { useSharedStoresMaestros } from "../support/shared-stores-maestro.js";
import { eventually, http, schedulerBody } from "../support/test-maestro.js";

/** Calls of one scheduler-storage method this process made, from its own /metrics. */
async function storageCalls(maestro: RunningMaestro, method: string): Promise<number> {
  const text = await (await fetch(`${maestro.urls.internalApi}/metrics`)).text();
  return text
    .split("\n")
    .filter(
      (l) =>
        l.startsWith("maestro_storage_operation_latency_count{") &&
        l.includes('storage="scheduler-storage"') &&
        l.includes(`operation="${method}"`),
    )
    .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

/**
 * The dashboard's room history is sampled every 10 s in each management API, over every scheduler: it reads them
 * through the read cache (a Redis GET while nothing changed, not a SQL list each time) and still samples a scheduler
 * another process created.
 */
describe("room history sampler", () => {
  const { start } = useSharedStoresMaestros();

  it("samples a scheduler created by another process, listing schedulers from the cache", async () => {
    const writer = await start(["management-api"]);
    const reader = await start(["management-api"]);
    expect((await http(writer.urls.managementApi!, "POST", "/schedulers", schedulerBody("sampled"))).status).toBe(200);
    const path = "/ui/api/schedulers/sampled/room-history";
    // A stored sample comes before the one taken at the request: the reader's sampler listed the new scheduler.
    await eventually(async () => (await http(reader.urls.managementApi!, "GET", path)).json.samples?.length >= 2, {
      what: "a stored sample of the scheduler created by the other process",
      timeoutMs: 25_000,
    });
    expect(await storageCalls(reader, "listSchedulerNames")).toBe(0);
  });
});
