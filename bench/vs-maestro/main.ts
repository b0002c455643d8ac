// Side by side with the original Maestro (Go, topfreegames/maestro at fa972c6), on this machine (not a test): one
// throwaway PostgreSQL (a database each) and a throwaway Redis each; each system's rooms API and management API as
// separate processes (ours as shipped: `node --max-semi-space-size=8`, room tokens on); the same 20 schedulers created
// through each management API with the same request, and 10,000 ready rooms with a ready instance in each one's own
// storage format. Cases: pings cycling over the rooms, `GET /schedulers/bench`, `GET /schedulers`; every repetition
// runs both systems, in flipped order each time. Server CPU per request comes from /proc/<pid>/stat of the server
// process over the load generator's measured window. Not in the default set of bench/run.mjs (needs the Go binary).
// Usage: node bench/run.mjs vs-maestro -- --maestro-bin /work/maestro-go/maestro
//   [--levels 16,64,256] [--seconds 10] [--repetitions 3] [--rooms 10000] [--maestro-src <checkout>]
import { seedRooms } from "../support/seed-rooms.js";
import "../support/require-shim.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { HmacRoomTokens } from "../../server/src/adapters/security/hmac-room-tokens.js";
import { createRedisClient, waitUntilReady } from "../../server/src/adapters/storage/redis/index.js";
import { startPostgres } from "../../server/test/support/postgres.js";
import { startRedis, type TestRedis } from "../../server/test/support/redis.js";
import { sharedStoreSettings } from "../../server/test/support/shared-store-settings.js";
import type { LoadPlan, LoadResult } from "../support/load.js";
import { type MaestroProcess, startMaestroProcess } from "../support/maestro-process.js";
import { machine, numberArg, processCpuMicros, runAsLoadChild, runLoadChild } from "../support/rooms-api-bench.js";
import { BUILD_HELP, maestroGoInstall, seedMaestroGoRooms, startMaestroGo } from "./maestro-go.js";

type System = "ours" | "maestro";
const SCHEDULER = "bench";
const SECRET = "bench-vs-maestro-secret";
/** A run with more failed requests than this share is not a figure. */
const MAX_ERROR_RATE = 0.01;

// After the constants: main() runs at the top level and reads them.
if (!(await runAsLoadChild())) await main();

async function main() {
  const install = maestroGoInstall(process.argv);
  if (!install) {
    console.error(BUILD_HELP);
    process.exit(2);
  }
  const seconds = numberArg("seconds", 10);
  const repetitions = numberArg("repetitions", 3);
  const roomCount = numberArg("rooms", 10_000);
  const levelsArg = process.argv.indexOf("--levels");
  const levels = (defaults: number[]) =>
    levelsArg < 0 ? defaults : process.argv[levelsArg + 1]!.split(",").map(Number);
  const dir = mkdtempSync(join(tmpdir(), "maestro-bench-vs-go-"));
  const [pg, redisOurs, redisGo] = await Promise.all([startPostgres(), startRedis(), startRedis()]);
  const stops: (() => Promise<void>)[] = [];
  let failed = false;
  try {
    const [pgOurs, pgGo] = [await pg.createDatabase("maestro_ts"), await pg.createDatabase("maestro_go")];
    const go = await startMaestroGo(install, { postgresUrl: `${pgGo}?sslmode=disable`, redisUrl: redisGo.url }, dir);
    stops.push(go.stop);
    const ours = await startOurs(pgOurs, redisOurs);
    stops.push(ours.rooms.stop, ours.management.stop);
    const servers = {
      ours: { rooms: ours.rooms.roomsUrl, management: ours.management.managementUrl },
      maestro: { rooms: go.rooms.url, management: go.management.url },
    };
    const pids = {
      ours: { rooms: ours.rooms.child.pid!, management: ours.management.child.pid! },
      maestro: { rooms: go.rooms.pid, management: go.management.pid },
    };

    const names = [
      SCHEDULER,
      ...Array.from({ length: 19 }, (_, i) => `${SCHEDULER}-${String(i + 1).padStart(2, "0")}`),
    ];
    for (const system of ["ours", "maestro"] as const) {
      for (const name of names) await createScheduler(servers[system].management, name);
    }
    const roomIds = Array.from({ length: roomCount }, (_, i) => `room-${String(i).padStart(5, "0")}`);
    await seedRooms(redisOurs.url, SCHEDULER, roomIds);
    const goRedis = createRedisClient(redisGo.url, { name: "bench-seed" });
    await waitUntilReady(goRedis, { timeoutMs: 10_000 });
    await seedMaestroGoRooms(goRedis, SCHEDULER, roomIds, "v1");
    goRedis.disconnect();

    const tokens = new HmacRoomTokens(SECRET);
    const timestamp = Math.floor(Date.now() / 1000);
    const pingBody = JSON.stringify({ status: "ready", timestamp, runningMatches: 0 });
    const pingRequests = (system: System) =>
      roomIds.map((id) => ({
        path: `/scheduler/${SCHEDULER}/rooms/${id}/ping`,
        authorization: system === "ours" ? `Bearer ${tokens.tokenFor(SCHEDULER, id)}` : "",
        body: pingBody,
      }));
    await verify(servers, pingRequests("ours")[0]!, pingRequests("maestro")[0]!, names.length, roomCount);
    await compareAnswers(servers, tokens);

    // Idle: both systems seeded and quiet for 12 s (V8's memory reducer gives back start-up's young generation ~8 s
    // after allocation stops; see bench/rss-modules).
    const perProcess = (f: (pid: number, system: System, component: "rooms" | "management") => number): Memory => ({
      ours: { rooms: f(pids.ours.rooms, "ours", "rooms"), management: f(pids.ours.management, "ours", "management") },
      maestro: {
        rooms: f(pids.maestro.rooms, "maestro", "rooms"),
        management: f(pids.maestro.management, "maestro", "management"),
      },
    });
    const cpuBefore = perProcess(processCpuMicros);
    await new Promise((r) => setTimeout(r, 12_000));
    const idle = perProcess((pid) => status(pid, "VmRSS"));
    // What each process burns with no request (timers, pools, GC): part of every figure measured on it.
    const idleCpu = perProcess((pid, s, c) => Math.round((processCpuMicros(pid) - cpuBefore[s][c]) / 1_200) / 10);

    const cases: {
      name: string;
      component: "rooms" | "management";
      levels: number[];
      plan: (s: System) => Omit<LoadPlan, "concurrency" | "durationMs">;
    }[] = [
      {
        name: "ping",
        component: "rooms",
        levels: levels([16, 64, 256]),
        plan: (s) => ({ ...basePlan(servers[s].rooms, "PUT"), requests: pingRequests(s) }),
      },
      {
        name: `GET /schedulers/${SCHEDULER}`,
        component: "management",
        levels: levels([16, 64]),
        plan: (s) => ({ ...basePlan(servers[s].management, "GET"), requests: [get(`/schedulers/${SCHEDULER}`)] }),
      },
      {
        name: `GET /schedulers (${names.length})`,
        component: "management",
        levels: levels([16, 64]),
        plan: (s) => ({ ...basePlan(servers[s].management, "GET"), requests: [get("/schedulers")] }),
      },
    ];
    const runs: Run[] = [];
    const peaks: Record<string, number> = {};
    for (const c of cases) {
      for (const concurrency of c.levels) {
        for (let rep = 0; rep < repetitions; rep++) {
          const order: System[] = rep % 2 === 0 ? ["ours", "maestro"] : ["maestro", "ours"];
          for (const system of order) {
            const pid = pids[system][c.component];
            const r = await runLoadChild(
              { ...c.plan(system), concurrency, durationMs: seconds * 1000 },
              { serverPid: pid, redisPid: (system === "ours" ? redisOurs : redisGo).pid },
            );
            const run = toRun(c.name, system, rep, r);
            runs.push(run);
            console.log(JSON.stringify(run));
          }
        }
      }
      // Peak resident set of each server process after its case (VmHWM is the process's high-water mark).
      for (const system of ["ours", "maestro"] as const) {
        peaks[`${system} ${c.component}`] = status(pids[system][c.component], "VmHWM");
      }
    }

    const bad = runs.filter((r) => r.errors > MAX_ERROR_RATE * Math.max(r.requests, 1) || r.requests === 0);
    const rows = summary(runs);
    printSummary(rows, seconds, repetitions);
    printMemory(idle, idleCpu, peaks);
    if (bad.length > 0) {
      failed = true;
      console.error(`\n!!! ${bad.length} run(s) with errors above ${MAX_ERROR_RATE * 100} %: NOT A RESULT`);
      for (const r of bad) console.error(`!!! ${JSON.stringify(r)}`);
    } else {
      console.log(
        `BENCH_RESULT ${JSON.stringify({ scenario: "vs-maestro", rows: [...rows, ...memoryRows(idle, idleCpu, peaks)] })}`,
      );
    }
  } catch (err) {
    failed = true;
    console.error(`\n!!! vs-maestro failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await Promise.all([pg.stop(), redisOurs.stop(), redisGo.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

function basePlan(url: string, method: LoadPlan["method"]) {
  return { origin: new URL(url).origin, method, warmupMs: 1_000, maxRequests: 5_000_000 };
}

function get(path: string) {
  return { path, authorization: "", body: "" };
}

/** Our rooms API and management API, each its own `maestro start` process as deploy/Dockerfile runs it. */
async function startOurs(
  pgUrl: string,
  redis: TestRedis,
): Promise<{ rooms: MaestroProcess; management: MaestroProcess }> {
  const settings = {
    ...sharedStoreSettings({ url: pgUrl }, redis),
    "roomsApi.tokenSecret": SECRET,
    "log.level": "warn",
  };
  const nodeArgs = ["--max-semi-space-size=8"];
  const rooms = await startMaestroProcess(settings, ["rooms-api"], { nodeArgs });
  try {
    return { rooms, management: await startMaestroProcess(settings, ["management-api"], { nodeArgs }) };
  } catch (err) {
    await rooms.stop();
    throw err;
  }
}

/** The same REST request to both management APIs (the shape of Maestro's CreateSchedulerRequest). */
async function createScheduler(managementUrl: string, name: string): Promise<void> {
  const body = {
    name,
    game: "bench-game",
    roomsReplicas: 0,
    portRange: { start: 20000, end: 21000 },
    maxSurge: "10%",
    spec: {
      terminationGracePeriod: "30s",
      containers: [
        {
          name: "game",
          image: "registry.local/game-room:1",
          imagePullPolicy: "IfNotPresent",
          command: ["/bin/game-room"],
          environment: [{ name: "MODE", value: "bench" }],
          requests: { memory: "64Mi", cpu: "100m" },
          limits: { memory: "256Mi", cpu: "500m" },
          ports: [{ name: "game", protocol: "tcp", port: 7000 }],
        },
      ],
    },
    forwarders: [],
  };
  const res = await fetch(`${managementUrl}/schedulers`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${managementUrl}/schedulers (${name}): ${res.status} ${text}`);
}

type Servers = Record<System, { rooms: string; management: string }>;

/**
 * On each system, or no figures at all: one ping answering `"success":true`, the seeded rooms counted ready, the
 * scheduler and the list readable.
 */
async function verify(
  servers: Servers,
  oursPing: LoadPlan["requests"][number],
  goPing: LoadPlan["requests"][number],
  schedulers: number,
  rooms: number,
): Promise<void> {
  const problems: string[] = [];
  for (const [system, ping] of [
    ["ours", oursPing],
    ["maestro", goPing],
  ] as const) {
    const p = await request(servers[system].rooms + ping.path, "PUT", ping.body, ping.authorization);
    if (p.status !== 200 || !/"success":\s*true/.test(p.text)) {
      problems.push(`${system} ping ${ping.path}: ${p.status} ${p.text.slice(0, 300)}`);
    }
    const g = await request(`${servers[system].management}/schedulers/${SCHEDULER}`);
    if (g.status !== 200 || (g.json as { scheduler?: { name?: string } })?.scheduler?.name !== SCHEDULER) {
      problems.push(`${system} GET /schedulers/${SCHEDULER}: ${g.status} ${g.text.slice(0, 300)}`);
    }
    // Each system's own reader of its room state counts the seeded rooms as ready (the status set, in Maestro's
    // format, is read back by Maestro itself).
    const info = await request(`${servers[system].management}/schedulers/info?game=bench-game`);
    const ready = (info.json as { schedulers?: { name?: string; roomsReady?: number }[] })?.schedulers?.find(
      (s) => s.name === SCHEDULER,
    )?.roomsReady;
    if (info.status !== 200 || ready !== rooms) {
      problems.push(`${system} GET /schedulers/info: ${info.status}, ${ready} rooms ready, ${rooms} expected`);
    }
    const l = await request(`${servers[system].management}/schedulers`);
    const listed = (l.json as { schedulers?: unknown[] })?.schedulers?.length;
    if (l.status !== 200 || listed !== schedulers) {
      problems.push(`${system} GET /schedulers: ${l.status}, ${listed} schedulers listed, ${schedulers} expected`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`seeding not verified, no figures:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  console.log("verified: a ping answers success and the schedulers read back, on both systems");
}

interface Answer {
  status: number;
  text: string;
  json: unknown;
}

async function request(url: string, method = "GET", body?: string, authorization?: string): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization) headers.authorization = authorization;
  const res = await fetch(url, { method, headers, ...(body !== undefined && { body }) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/**
 * The same requests to both, compared: status, and the JSON fields one answer has and the other lacks or holds with
 * another value (a difference here is one a client would notice, not a figure; creation times always differ).
 */
async function compareAnswers(servers: Servers, tokens: HmacRoomTokens): Promise<void> {
  const body = (status: string) =>
    JSON.stringify({ status, timestamp: Math.floor(Date.now() / 1000), runningMatches: 0 });
  const probes: { component: "rooms" | "management"; path: string; method?: string; body?: string }[] = [
    { component: "rooms", path: `/scheduler/${SCHEDULER}/rooms/room-00001/ping`, method: "PUT", body: body("ready") },
    { component: "rooms", path: `/scheduler/${SCHEDULER}/rooms/no-such-room/ping`, method: "PUT", body: body("ready") },
    {
      component: "rooms",
      path: "/scheduler/no-such-scheduler/rooms/room-00001/ping",
      method: "PUT",
      body: body("ready"),
    },
    { component: "rooms", path: `/scheduler/${SCHEDULER}/rooms/room-00002/ping`, method: "PUT", body: body("dancing") },
    { component: "management", path: `/schedulers/${SCHEDULER}` },
    { component: "management", path: "/schedulers/no-such-scheduler" },
    { component: "management", path: "/schedulers" },
    { component: "management", path: "/schedulers/info?game=bench-game" },
  ];
  console.log("\nsame request to both systems (ours | Maestro):");
  for (const p of probes) {
    const [scheduler, room] = [p.path.split("/")[2] ?? "", p.path.split("/")[4] ?? ""];
    const answer = (system: System) =>
      request(
        servers[system][p.component] + p.path,
        p.method ?? "GET",
        p.body,
        system === "ours" && p.component === "rooms" ? `Bearer ${tokens.tokenFor(scheduler, room)}` : "",
      );
    const [ours, go] = [await answer("ours"), await answer("maestro")];
    const [a, b] = [flatten(ours.json ?? ours.text), flatten(go.json ?? go.text)];
    const differences = [...new Set([...a.keys(), ...b.keys()])]
      .filter((k) => a.get(k) !== b.get(k) && !k.endsWith("createdAt"))
      .map((k) => `${k}: ${a.get(k) ?? "(none)"} | ${b.get(k) ?? "(none)"}`);
    const statuses = `${ours.status} | ${go.status}`;
    const same = differences.length === 0 && ours.status === go.status;
    console.log(`  ${p.method ?? "GET"} ${p.path}: ${same ? `same (${ours.status}, ${a.size} fields)` : statuses}`);
    for (const d of differences) console.log(`      ${d}`);
  }
}

/** Field path → JSON value of the leaves of an answer (a list contributes its length and its first element). */
function flatten(value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, at: string) => {
    if (Array.isArray(v)) {
      out.set(`${at}.length`, String(v.length));
      if (v.length > 0) walk(v[0], `${at}[0]`);
    } else if (v !== null && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) walk(child, at ? `${at}.${k}` : k);
    } else out.set(at || "(body)", JSON.stringify(typeof v === "string" ? v.slice(0, 100) : v));
  };
  walk(value, "");
  return out;
}

interface Run {
  case: string;
  system: System;
  repetition: number;
  concurrency: number;
  requests: number;
  "succeeded/s": number;
  "p50 ms": number;
  "p99 ms": number;
  "server CPU µs/req": number | undefined;
  "Redis CPU µs/req": number | undefined;
  "load generator CPU µs/req": number | undefined;
  errors: number;
  errorsBy: Record<string, number>;
  load: number;
}

function toRun(name: string, system: System, repetition: number, r: LoadResult): Run {
  return {
    case: name,
    system,
    repetition,
    concurrency: r.concurrency,
    requests: r.requests,
    "succeeded/s": Math.round(r.succeeded / r.seconds),
    "p50 ms": r.p50Ms,
    "p99 ms": r.p99Ms,
    "server CPU µs/req": r.serverCpuUsPerRequest,
    "Redis CPU µs/req": r.redisCpuUsPerRequest,
    "load generator CPU µs/req": r.loadCpuUsPerRequest,
    errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
    errorsBy: r.errors,
    load: Math.round(loadavg()[0]! * 10) / 10,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function summary(runs: Run[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  const keys = [...new Set(runs.map((r) => `${r.case}\u0000${r.concurrency}`))];
  for (const key of keys) {
    const [name, concurrency] = key.split("\u0000");
    const of = (system: System) => runs.filter((r) => `${r.case}\u0000${r.concurrency}` === key && r.system === system);
    const m = (system: System, field: Exclude<keyof Run, "case" | "system" | "errorsBy">) =>
      Math.round(median(of(system).map((r) => r[field] ?? Number.NaN)) * 10) / 10;
    const errors = (system: System) => of(system).reduce((a, r) => a + r.errors, 0);
    rows.push({
      case: name,
      concurrency: Number(concurrency),
      "ours req/s": m("ours", "succeeded/s"),
      "Maestro req/s": m("maestro", "succeeded/s"),
      "ours/Maestro req/s": Math.round((m("ours", "succeeded/s") / m("maestro", "succeeded/s")) * 100) / 100,
      "ours p99 ms": m("ours", "p99 ms"),
      "Maestro p99 ms": m("maestro", "p99 ms"),
      "ours CPU µs/req": m("ours", "server CPU µs/req"),
      "Maestro CPU µs/req": m("maestro", "server CPU µs/req"),
      "ours Redis µs/req": m("ours", "Redis CPU µs/req"),
      "Maestro Redis µs/req": m("maestro", "Redis CPU µs/req"),
      "load generator µs/req ours / Maestro": `${m("ours", "load generator CPU µs/req")} / ${m("maestro", "load generator CPU µs/req")}`,
      "ours errors": errors("ours"),
      "Maestro errors": errors("maestro"),
      load:
        Math.round(median(runs.filter((r) => `${r.case}\u0000${r.concurrency}` === key).map((r) => r.load)) * 10) / 10,
    });
  }
  return rows;
}

function printTable(rows: Record<string, unknown>[]): void {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  console.log(`| ${keys.join(" | ")} |`);
  console.log(`|${keys.map(() => "---").join("|")}|`);
  for (const r of rows) console.log(`| ${keys.map((k) => String(r[k] ?? "")).join(" | ")} |`);
}

function printSummary(rows: Record<string, unknown>[], seconds: number, repetitions: number): void {
  console.log(
    `\nvs-maestro: median of ${repetitions} repetition(s) of ${seconds} s each (1 s warm-up), order flipped each ` +
      "repetition; ours with room tokens on (each ping carries its room's token, as shipped), Maestro has none; " +
      "load = 1-min load average during the runs",
  );
  console.log(`machine: ${machine()}; ${cpus().length} cores\n`);
  printTable(rows);
}

type Memory = Record<System, { rooms: number; management: number }>;

function memoryRows(idle: Memory, idleCpu: Memory, peaks: Record<string, number>): Record<string, unknown>[] {
  return (["ours", "maestro"] as const).flatMap((system) =>
    (["rooms", "management"] as const).map((component) => ({
      case: `RSS ${component === "rooms" ? "rooms API" : "management API"}`,
      system: system === "ours" ? "ours" : "Maestro",
      "idle VmRSS MiB": idle[system][component],
      "idle CPU ms/s": idleCpu[system][component],
      "peak VmHWM MiB": peaks[`${system} ${component}`],
      load: Math.round(loadavg()[0]! * 10) / 10,
    })),
  );
}

function printMemory(idle: Memory, idleCpu: Memory, peaks: Record<string, number>): void {
  console.log("\nper server process: idle = the 12 s after seeding with no requests; peak = VmHWM after its cases\n");
  printTable(memoryRows(idle, idleCpu, peaks));
}

/** A `VmRSS` / `VmHWM` line of /proc/<pid>/status, in MiB. */
function status(pid: number, field: "VmRSS" | "VmHWM"): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return Math.round((Number(line?.split(/\s+/)[1] ?? Number.NaN) / 1024) * 10) / 10;
}
