import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSchedulerStorage } from "../../src/adapters/storage/sql/open-scheduler-storage.js";
import { type MaestroCli, startMaestroCli } from "../support/maestro-cli.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { sharedStoreSettings } from "../support/shared-store-settings.js";

/**
 * A rooms-API process holds in its heap the code it loaded, run or not (issue 17: ≤ 80 MiB idle, ≤ 120 MiB under
 * load): the packages only other modules or other setups use stay unloaded. Node's module debug output names every
 * CommonJS file the process loads, which is how these packages arrive.
 */
describe("the code a rooms-API process loads", () => {
  let pg: TestPostgres;
  let redis: TestRedis;
  let rooms: MaestroCli | undefined;
  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    // As in a deployment past its first start: the schema is current, so the process has nothing to migrate.
    await (await openSchedulerStorage({ kind: "postgres", url: pg.url })).close();
  });
  afterAll(async () => {
    await rooms?.stop();
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  it("leaves out the YAML parser, the migrator, the embedded database and the Kubernetes client", async () => {
    rooms = await startMaestroCli(
      ["rooms-api"],
      { ...sharedStoreSettings(pg, redis), "roomsApi.tokenSecret": "loaded-code-test-secret" },
      { env: { NODE_DEBUG: "module" } },
    );
    const ping = await fetch(`${rooms.roomsUrl}/scheduler/none/rooms/none/ping`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status: "ready", timestamp: 1 }),
    });
    expect(ping.status).toBeGreaterThanOrEqual(400);
    const loaded = new Set(
      [...rooms.output().matchAll(/load "[^"]*\/node_modules\/((?:@[^/"]+\/)?[^/"]+)\//g)].map((m) => m[1]),
    );
    // What it does run, seen through the same output: the check would pass on a process that printed nothing.
    expect(loaded).toContain("fastify");
    expect(loaded).toContain("ioredis");
    expect(loaded).toContain("pg");
    for (const unused of ["yaml", "umzug", "@electric-sql/pglite", "@kubernetes/client-node"]) {
      expect(loaded, unused).not.toContain(unused);
    }
  });
});
