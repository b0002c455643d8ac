// Management API scheduler reads (not a test): `GET /schedulers/{name}` and `GET /schedulers` (REST), plain and
// conditional (If-None-Match with the current ETag: what the SDK's and the dashboard's polls cost), against a
// management API started in this process through the server's own wiring, schedulers in PostgreSQL and state in Redis,
// from a load generator in a separate process on loopback. Server CPU per request is this process's CPU over the
// measured window. Usage: node bench/run.mjs management-reads [-- --levels 16,64 --seconds 10 --schedulers 20]
import "../support/require-shim.js";
import { cpus, loadavg } from "node:os";
import { validScheduler } from "../../server/test/support/fixtures.js";
import { startPostgres } from "../../server/test/support/postgres.js";
import { startRedis } from "../../server/test/support/redis.js";
import { sharedStoreSettings } from "../../server/test/support/shared-store-settings.js";
import { startTestMaestro } from "../../server/test/support/test-maestro.js";
import { levelsFromArgs, numberArg, runAsLoadChild, runLoadChild } from "../support/rooms-api-bench.js";

if (!(await runAsLoadChild())) await main();

async function main() {
  const seconds = numberArg("seconds", 10);
  const count = numberArg("schedulers", 20);
  const levels = levelsFromArgs([16, 64]);
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  const maestro = await startTestMaestro(
    {
      ...sharedStoreSettings(pg, redis),
    },
    ["management-api"],
  );
  const rows: Record<string, unknown>[] = [];
  try {
    const names = Array.from({ length: count }, (_, i) => `bench-${String(i).padStart(3, "0")}`);
    for (const name of names) {
      await maestro.context.schedulerStorage.createScheduler(validScheduler({ name, state: "in-sync" }));
    }
    const origin = maestro.urls.managementApi!;
    // A poller holding the current answer (the SDK, the dashboard) sends its ETag back and gets an empty 304.
    const etagOf = async (path: string) => (await fetch(origin + path)).headers.get("etag") ?? "";
    const conditional = await Promise.all(
      names.map(async (n) => ({ path: `/schedulers/${n}`, ifNoneMatch: await etagOf(`/schedulers/${n}`) })),
    );
    const cases = [
      { case: "GET /schedulers/{name}", requests: names.map((n) => ({ path: `/schedulers/${n}` })) },
      { case: `GET /schedulers (${count} schedulers)`, requests: [{ path: "/schedulers" }] },
      { case: "GET /schedulers/{name}, If-None-Match current (304)", requests: conditional },
      {
        case: `GET /schedulers (${count}), If-None-Match current (304)`,
        requests: [{ path: "/schedulers", ifNoneMatch: await etagOf("/schedulers") }],
      },
    ];
    for (const c of cases) {
      for (const concurrency of levels) {
        const r = await runLoadChild({
          origin,
          method: "GET",
          requests: c.requests.map((r) => ({ authorization: "", body: "", ...r })),
          concurrency,
          warmupMs: 1_000,
          durationMs: seconds * 1000,
          maxRequests: 5_000_000,
        });
        rows.push({
          case: c.case,
          concurrency,
          "req/s": r.perSecond,
          "p50 ms": r.p50Ms,
          "p99 ms": r.p99Ms,
          "server CPU µs/req": r.serverCpuUsPerRequest,
          "load generator CPU µs/req": r.loadCpuUsPerRequest,
          errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
          load: loadavg()[0]!.toFixed(1),
        });
        console.log(JSON.stringify(rows.at(-1)));
      }
    }
    console.log(`machine: ${cpus().length} cores, node ${process.version}`);
    console.log(`BENCH_RESULT ${JSON.stringify({ scenario: "management-reads", rows })}`);
  } finally {
    await maestro.stop();
    await Promise.all([pg.stop(), redis.stop()]);
  }
}
