// Server RSS per module (the split extension of bench/rss): each module as its own `maestro start` process on
// PostgreSQL (schedulers) and Redis (rooms, operations), with 10,000 occupied rooms stored, then all modules in one
// process. RSS is read from /proc/<pid>/status after the process has sat idle; the rooms API is also measured under
// ping load (peak RSS sampled every 100 ms). Processes run as deploy/Dockerfile and `npm start` run them
// (`node --max-semi-space-size=8`); `--plain-node` runs them without the flag, `--node-args "<flags>"` with other
// flags, `--cli <path>` another build's server/dist/cli.js (to compare two builds), `--only rooms-api` the rooms API
// case alone. Each rooms API row also gives V8's heap spaces (committed MiB) idle and after the load.
// Usage: node bench/run.mjs rss-modules [-- --rooms 10000 --seconds 10 --concurrency 64 --plain-node --only rooms-api]
import { seedRooms } from "../support/seed-rooms.js";
import "../support/require-shim.js";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { HmacRoomTokens } from "../../server/src/adapters/security/hmac-room-tokens.js";
import { openSchedulerStorage } from "../../server/src/adapters/storage/sql/open-scheduler-storage.js";
import { validScheduler } from "../../server/test/support/fixtures.js";
import { startPostgres } from "../../server/test/support/postgres.js";
import { startRedis } from "../../server/test/support/redis.js";
import { sharedStoreSettings } from "../../server/test/support/shared-store-settings.js";
import { startMaestroProcess } from "../support/maestro-process.js";
import { numberArg, runAsLoadChild, runLoadChild } from "../support/rooms-api-bench.js";

if (!(await runAsLoadChild())) await main();

async function main() {
  const ROOMS = numberArg("rooms", 10_000);
  const SECONDS = numberArg("seconds", 10);
  // The rooms API's ping load: 64 by default; the peak grows with the requests in flight (try 256).
  const CONCURRENCY = numberArg("concurrency", 64);
  const nodeArgs = process.argv.includes("--plain-node")
    ? []
    : (stringArg("node-args")?.split(/\s+/).filter(Boolean) ?? ["--max-semi-space-size=8"]);
  const cli = stringArg("cli");
  const only = stringArg("only");
  // Idle means settled: V8's memory reducer gives back the young generation start-up grew about 8 s after the
  // allocation stops (--gc-memory-reducer-start-delay-ms); at 5 s a rooms API still held 20 – 30 MiB more.
  const IDLE_MS = 12_000;
  const S = "bench-rss-modules";
  const SECRET = "bench-rss-modules-secret";
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  const rows: Record<string, unknown>[] = [];
  try {
    // Seed through the adapters: the scheduler in PostgreSQL, occupied rooms with ready instances in Redis. Busy
    // rooms under fixedBuffer: a worker (the all-modules run) wants every stored room plus one and removes none.
    const schedulers = await openSchedulerStorage({ kind: "postgres", url: pg.url });
    await schedulers.createScheduler(
      validScheduler({
        name: S,
        state: "in-sync",
        autoscaling: {
          enabled: true,
          min: 1,
          max: -1,
          cooldown: 0,
          policy: { type: "fixedBuffer", parameters: { fixedBuffer: { amount: 1 } } },
        },
      } as never),
    );
    await schedulers.close();
    const ids = Array.from({ length: ROOMS }, (_, i) => `room-${String(i).padStart(6, "0")}`);
    await seedRooms(redis.url, S, ids, { status: "occupied", pingStatus: "occupied", runningMatches: 1 });

    const settings = {
      ...sharedStoreSettings(pg, redis),
      "roomsApi.tokenSecret": SECRET,
      // The stored rooms have no process behind them: the periodic health controller must leave them be.
      "workers.healthControllerIntervalMs": 3_600_000,
      "log.level": "warn",
    };
    const idle = async (
      modules: string[],
      use?: (p: Awaited<ReturnType<typeof startMaestroProcess>>) => Promise<void>,
    ) => {
      const p = await startMaestroProcess(settings, modules, { nodeArgs, ...(cli ? { cli } : {}) });
      try {
        const pid = p.child.pid!;
        await use?.(p);
        await new Promise((r) => setTimeout(r, IDLE_MS));
        return { p, pid, rss: rssMiB(pid), heap: await heapUsedMiB(p.internalUrl) };
      } catch (err) {
        await p.stop();
        throw err;
      }
    };

    // Rooms API: idle, then under ping load (peak), each room pinging occupied with its token.
    if (only === undefined || only === "rooms-api") {
      const { p, pid, rss, heap } = await idle(["rooms-api"]);
      try {
        const spacesIdle = await heapSpacesMiB(p.internalUrl);
        const tokens = new HmacRoomTokens(SECRET);
        const url = p.roomsUrl;
        let peak = rss;
        const timer = setInterval(() => {
          peak = Math.max(peak, rssMiB(pid));
        }, 100);
        const load = await runLoadChild(
          {
            origin: url,
            method: "PUT",
            requests: ids.map((id) => ({
              path: `/scheduler/${S}/rooms/${id}/ping`,
              authorization: `Bearer ${tokens.tokenFor(S, id)}`,
              body: JSON.stringify({ status: "occupied", runningMatches: 1, timestamp: Math.floor(Date.now() / 1000) }),
            })),
            concurrency: CONCURRENCY,
            warmupMs: 1_000,
            durationMs: SECONDS * 1000,
            maxRequests: 5_000_000,
            // The process as shipped: its own CPU per ping, next to its memory.
          },
          { serverPid: pid },
        );
        clearInterval(timer);
        // The kernel's high-water mark catches the spikes between two samples (start-up included).
        const highWater = rssMiB(pid, "VmHWM");
        const errors = Object.values(load.errors).reduce((a, b) => a + b, 0);
        rows.push({
          case: "rooms-api alone",
          "RSS idle MiB": rss,
          "live heap idle MiB": heap,
          "RSS peak under load MiB": peak,
          "VmHWM MiB": highWater,
          [`pings/s (c=${CONCURRENCY})`]: load.perSecond,
          "server CPU µs/ping": load.serverCpuUsPerRequest,
          errors,
          "heap spaces idle MiB": spacesIdle,
          "heap spaces after load MiB": await heapSpacesMiB(p.internalUrl),
        });
      } finally {
        await p.stop();
      }
    }
    // Management API: idle, then after listing the rooms (10,000 through the API) and the schedulers.
    if (only === undefined || only === "management-api") {
      const { p, rss, heap } = await idle(["management-api"]);
      try {
        for (const path of [`/schedulers/${S}/rooms`, "/schedulers", `/schedulers/${S}`, "/schedulers/info"]) {
          const res = await fetch(p.managementUrl + path);
          if (!res.ok) throw new Error(`${path}: ${res.status}`);
          await res.arrayBuffer();
        }
        await new Promise((r) => setTimeout(r, 2_000));
        rows.push({
          case: "management-api alone",
          "RSS idle MiB": rss,
          "live heap idle MiB": heap,
          "RSS after reads MiB": rssMiB(p.child.pid!),
          errors: 0,
        });
      } finally {
        await p.stop();
      }
    }
    for (const modules of only === undefined ? [["worker", "runtime-watcher"], ["metrics-reporter"], ["all"]] : []) {
      const { p, rss, heap } = await idle(modules);
      rows.push({ case: `${modules.join(" + ")}`, "RSS idle MiB": rss, "live heap idle MiB": heap, errors: 0 });
      await p.stop();
    }
    const load = loadavg()
      .map((l) => l.toFixed(1))
      .join(" ");
    console.log(`machine: ${cpus().length} cores, node ${process.version}, load average ${load}`);
    for (const r of rows) console.log(JSON.stringify(r));
    console.log(
      `BENCH_RESULT ${JSON.stringify({
        scenario: "rss-modules",
        notes: `${ROOMS} occupied rooms in Redis, schedulers in PostgreSQL; node ${nodeArgs.join(" ") || "without flags"}${cli ? `; ${cli}` : ""}; load average ${load}`,
        rows,
      })}`,
    );
  } finally {
    await Promise.all([pg.stop(), redis.stop()]);
  }
}

function rssMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

/** The process's V8 heap in use, from its own /metrics (prom-client's default Node metrics). */
async function heapUsedMiB(internalUrl: string): Promise<number> {
  const text = await (await fetch(`${internalUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("nodejs_heap_size_used_bytes "));
  return Math.round(Number(line?.split(" ")[1] ?? 0) / 2 ** 20);
}

function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** V8's heap spaces as committed (size_total), from the process's /metrics, plus external memory (ArrayBuffers). */
async function heapSpacesMiB(internalUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${internalUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const space = /^nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\S+)/.exec(line);
    if (space) out[space[1]!] = Math.round((Number(space[2]) / 2 ** 20) * 10) / 10;
    if (line.startsWith("nodejs_external_memory_bytes ")) {
      out.external = Math.round((Number(line.split(" ")[1]) / 2 ** 20) * 10) / 10;
    }
  }
  return out;
}
