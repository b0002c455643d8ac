// CPU an idle process burns (timers, pools, samplers, the GC they cause) and its idle RSS, per module: each module
// as its own `maestro start` process on PostgreSQL (schedulers) and Redis (rooms, operations), as deployed and as
// bench/vs-maestro runs them (`node --max-semi-space-size=8`). Each process first answers a few requests of its
// kind (pings for the rooms API, reads for the management API and all modules: what a deployed process has done
// before it idles; a worker would remove the seeded rooms, which have no process behind them),
// settles 12 s (V8's memory reducer, see bench/rss-modules), then its CPU time is read from /proc over the window.
// Usage: node bench/run.mjs idle-cpu [-- --seconds 30 --modules rooms-api,management-api,all --schedulers 20
//   --refusals --no-rooms-list --cpu-prof]; --no-rooms-list leaves the management API's runtime unopened (the rooms
//   list opens it, and the dashboard sampler then asks it for usage).
import { seedRooms } from "../support/seed-rooms.js";
import "../support/require-shim.js";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { HmacRoomTokens } from "../../server/src/adapters/security/hmac-room-tokens.js";
import { openSchedulerStorage } from "../../server/src/adapters/storage/sql/open-scheduler-storage.js";
import { validScheduler } from "../../server/test/support/fixtures.js";
import { startPostgres } from "../../server/test/support/postgres.js";
import { startRedis } from "../../server/test/support/redis.js";
import { sharedStoreSettings } from "../../server/test/support/shared-store-settings.js";
import { type MaestroProcess, startMaestroProcess } from "../support/maestro-process.js";
import { machine, numberArg, processCpuMicros } from "../support/rooms-api-bench.js";

const SECONDS = numberArg("seconds", 30);
const SETTLE_MS = 12_000;
const S = "bench-idle-cpu";
const SECRET = "bench-idle-cpu-secret";
const SCHEDULERS = numberArg("schedulers", 20);
const ROOMS = 100;

function stringArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

const cases = stringArg("modules", "rooms-api,management-api,all").split(",");
// `--cpu-prof` writes each process's profile of its whole life (start, requests, idle) to .tmp/bench/idle-cpu/.
const nodeArgs = [
  "--max-semi-space-size=8",
  ...(process.argv.includes("--cpu-prof")
    ? ["--cpu-prof", "--cpu-prof-interval=2000", "--cpu-prof-dir=.tmp/bench/idle-cpu/profiles"]
    : []),
];

const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
const rows: Record<string, unknown>[] = [];
try {
  const schedulers = await openSchedulerStorage({ kind: "postgres", url: pg.url });
  for (let i = 0; i < SCHEDULERS; i++) {
    await schedulers.createScheduler(validScheduler({ name: i === 0 ? S : `${S}-${i}`, state: "in-sync" }));
  }
  await schedulers.close();
  const ids = Array.from({ length: ROOMS }, (_, i) => `room-${String(i).padStart(4, "0")}`);
  await seedRooms(redis.url, S, ids, { status: "ready", pingStatus: "ready" });

  const settings = {
    ...sharedStoreSettings(pg, redis),
    "roomsApi.tokenSecret": SECRET,
    // The stored rooms have no process behind them: a worker's health controller must leave them be.
    "workers.healthControllerIntervalMs": 3_600_000,
    "log.level": "warn",
  };
  const tokens = new HmacRoomTokens(SECRET);
  const use = async (p: MaestroProcess, modules: string) => {
    if (modules === "rooms-api") {
      for (const id of ids) {
        const res = await fetch(`${p.roomsUrl}/scheduler/${S}/rooms/${id}/ping`, {
          method: "PUT",
          headers: { authorization: `Bearer ${tokens.tokenFor(S, id)}`, "content-type": "application/json" },
          body: JSON.stringify({ status: "ready", runningMatches: 0, timestamp: Math.floor(Date.now() / 1000) }),
        });
        if (!res.ok) throw new Error(`ping ${id}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
      // And the refusals a deployed rooms API answers (bench/vs-maestro asks these): unknown room, unknown scheduler,
      // a status that does not exist.
      if (process.argv.includes("--refusals")) {
        for (const [scheduler, room, status] of [
          [S, "no-such-room", "ready"],
          ["no-such-scheduler", ids[1]!, "ready"],
          [S, ids[2]!, "dancing"],
        ] as const) {
          const res = await fetch(`${p.roomsUrl}/scheduler/${scheduler}/rooms/${room}/ping`, {
            method: "PUT",
            headers: {
              authorization: `Bearer ${tokens.tokenFor(scheduler, room)}`,
              "content-type": "application/json",
            },
            body: JSON.stringify({ status, runningMatches: 0, timestamp: Math.floor(Date.now() / 1000) }),
          });
          if (res.ok) throw new Error(`ping ${scheduler}/${room} (${status}) answered ${res.status}`);
          await res.arrayBuffer();
        }
      }
    }
    if (modules === "management-api" || modules === "all") {
      for (const path of [
        ...(process.argv.includes("--no-rooms-list") ? [] : [`/schedulers/${S}/rooms`]),
        "/schedulers",
        `/schedulers/${S}`,
        "/schedulers/info",
      ]) {
        const res = await fetch(p.managementUrl + path);
        if (!res.ok) throw new Error(`${path}: ${res.status}`);
        await res.arrayBuffer();
      }
    }
  };

  for (const modules of cases) {
    const p = await startMaestroProcess(settings, modules.split("+"), { nodeArgs });
    try {
      const pid = p.child.pid!;
      await use(p, modules);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const before = processCpuMicros(pid);
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const used = processCpuMicros(pid) - before;
      rows.push({
        case: modules,
        "idle CPU ms/s": Math.round(used / SECONDS / 100) / 10,
        "RSS idle MiB": rssMiB(pid),
        "live heap idle MiB": await heapUsedMiB(p.internalUrl),
        errors: 0,
      });
    } finally {
      await p.stop();
    }
  }
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  console.log(`machine: ${machine()}, load average ${load}`);
  for (const r of rows) console.log(JSON.stringify(r));
  console.log(
    `BENCH_RESULT ${JSON.stringify({
      scenario: "idle-cpu",
      notes: `${SCHEDULERS} schedulers in PostgreSQL, ${ROOMS} rooms in Redis; ${SECONDS} s window after ${SETTLE_MS / 1000} s settling; node ${nodeArgs.join(" ")}; load average ${load}`,
      rows,
    })}`,
  );
} finally {
  await Promise.all([pg.stop(), redis.stop()]);
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

/** The process's V8 heap in use, from its own /metrics (prom-client's default Node metrics). */
async function heapUsedMiB(internalUrl: string): Promise<number> {
  const text = await (await fetch(`${internalUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("nodejs_heap_size_used_bytes "));
  return Math.round(Number(line?.split(" ")[1] ?? 0) / 2 ** 20);
}
