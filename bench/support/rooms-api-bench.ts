// Shared part of bench/pings and bench/allocate: a real redis-server, the rooms API started in this process through
// the server's own wiring (startMaestro with storage on Redis), 10,000 registered rooms, and a load generator in a
// separate child process on loopback.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../server/src/config/load-config.js";
import type { MaestroConfig } from "../../server/src/config/schema.js";
import type { GameRoom, Instance } from "../../server/src/core/entities/game-room.js";
import { silentLogger } from "../../server/src/core/ports/logger.js";
import { startMaestro } from "../../server/src/server.js";
import { gameRoom, validScheduler } from "../../server/test/support/fixtures.js";
import { startRedis, type TestRedis } from "../../server/test/support/redis.js";
import { type LoadPlan, type LoadResult, loadChildMain, MEASURE_END, MEASURE_START } from "./load.js";

export const SCHEDULER = "bench";

export interface BenchServer {
  roomsUrl: string;
  roomIds: string[];
  tokenFor(roomId: string): string;
  maestro: Awaited<ReturnType<typeof startMaestro>>;
  redis: TestRedis;
  stop(): Promise<void>;
}

/** When this bundle was started as the load generator, runs it and returns true. */
export async function runAsLoadChild(): Promise<boolean> {
  const i = process.argv.indexOf("--load");
  if (i < 0) return false;
  await loadChildMain(process.argv[i + 1]!);
  return true;
}

/**
 * The server reads its SQL migrations (PGlite holds the schedulers) next to its module, i.e. next to this bundle; the
 * bench runner copies only the Lua scripts, so bring the migrations along from the repository when missing.
 */
export function ensureMigrationsNextToBundle(): void {
  const target = fileURLToPath(new URL("./migrations/", import.meta.url));
  const source = join(process.cwd(), "server/src/adapters/storage/sql/migrations");
  if (!existsSync(target) && existsSync(source)) cpSync(source, target, { recursive: true });
}

/** The matchmaker token the bench server accepts (roomsApi.matchmakerTokens). */
export const BENCH_MATCHMAKER_TOKEN = "bench-matchmaker-token";

/** Redis + rooms API (tokens on, as by default) + `rooms` ready rooms of one scheduler with a ready instance each. */
export async function startBenchServer(rooms: number, configOverrides: Record<string, unknown> = {}) {
  ensureMigrationsNextToBundle();
  const redis = await startRedis();
  const dataDir = mkdtempSync(join(tmpdir(), "maestro-bench-"));
  const config: MaestroConfig = loadConfig({
    env: {},
    overrides: {
      dataDir,
      "roomsApi.port": 0,
      "internalApi.port": 0,
      "storage.state.kind": "redis",
      "storage.state.url": redis.url,
      "storage.operations.kind": "redis",
      "storage.operations.url": redis.url,
      "log.level": "warn",
      "roomsApi.matchmakerTokens": BENCH_MATCHMAKER_TOKEN,
      ...configOverrides,
    },
  });
  const maestro = await startMaestro(config, ["rooms-api"], silentLogger);
  const ctx = maestro.context;
  await ctx.schedulerStorage.createScheduler(validScheduler({ name: SCHEDULER, state: "in-sync" }));
  const roomIds = Array.from({ length: rooms }, (_, i) => `${SCHEDULER}-${String(i).padStart(5, "0")}`);
  const now = new Date();
  for (let start = 0; start < roomIds.length; start += 500) {
    await Promise.all(
      roomIds.slice(start, start + 500).map(async (id, i) => {
        await ctx.rooms.createRoom(readyRoom(id, now));
        await ctx.instances.upsertInstance(readyInstance(id, 40_000 + ((start + i) % 20_000)));
      }),
    );
  }
  const server: BenchServer = {
    roomsUrl: maestro.urls.roomsApi!,
    roomIds,
    tokenFor: (id) => ctx.tokens.tokenFor(SCHEDULER, id),
    maestro,
    redis,
    async stop() {
      await maestro.stop();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

export function readyRoom(id: string, now: Date): GameRoom {
  return gameRoom({ id, schedulerName: SCHEDULER }, now);
}

function readyInstance(id: string, port: number): Instance {
  return {
    id,
    schedulerName: SCHEDULER,
    status: { type: "ready", description: "" },
    address: { host: "127.0.0.1", ports: [{ name: "game", port, protocol: "tcp" }] },
  };
}

/**
 * CPU time (user + system) of another process from /proc/<pid>/stat, in microseconds: a server running as a child
 * process (ours as `maestro start`, or another program) rather than in the bench's own process.
 */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): state is field 3, utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Runs one load plan in a child process (this same bundle with `--load`) and returns its figures. The server CPU
 * figure is this process's unless `serverPid` names the server process.
 */
export async function runLoadChild(
  plan: LoadPlan,
  opts: { serverPid?: number; redisPid?: number } = {},
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "maestro-bench-plan-"));
  const file = join(dir, "plan.json");
  writeFileSync(file, JSON.stringify(plan));
  try {
    const child = spawn(process.execPath, [process.argv[1]!, "--load", file], { stdio: ["ignore", "pipe", "inherit"] });
    // CPU of this process (the server) between the child's marks, i.e. over the measured window only: not the
    // warm-up, the child's start or its pool closing.
    const cpuMicros = () => {
      if (opts.serverPid !== undefined) return processCpuMicros(opts.serverPid);
      const u = process.cpuUsage();
      return u.user + u.system;
    };
    // Redis's CPU over the same window: the ping's script runs there, on the one core all rooms share.
    const redisMicros = () => (opts.redisPid === undefined ? 0 : processCpuMicros(opts.redisPid));
    // In-process servers: V8's collections over the window, counted per 1,000 successes. Unlike CPU time, the count of
    // young-generation collections hardly varies between runs: it follows the bytes allocated per request.
    const gcs = { scavenges: 0, full: 0, ms: 0, measuring: false };
    const gcObserver =
      opts.serverPid === undefined
        ? new PerformanceObserver((list) => {
            if (!gcs.measuring) return;
            for (const e of list.getEntries()) {
              const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
              if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.scavenges++;
              else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.full++;
              gcs.ms += e.duration;
            }
          })
        : undefined;
    gcObserver?.observe({ entryTypes: ["gc"] });
    let cpuAtStart: number | undefined;
    let used: number | undefined;
    let redisAtStart = 0;
    let redisUsed: number | undefined;
    let last = "";
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line === MEASURE_START) {
        gcs.measuring = true;
        cpuAtStart = cpuMicros();
        redisAtStart = redisMicros();
      } else if (line === MEASURE_END && cpuAtStart !== undefined) {
        gcs.measuring = false;
        used = cpuMicros() - cpuAtStart;
        redisUsed = redisMicros() - redisAtStart;
      } else if (line.trim() !== "") last = line;
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    gcObserver?.disconnect();
    if (code !== 0) throw new Error(`load generator exited with ${code}`);
    const result = JSON.parse(last) as LoadResult;
    if (used !== undefined) result.serverCpuUsPerRequest = Math.round(used / Math.max(result.succeeded, 1));
    if (gcObserver !== undefined) {
      const per1k = 1000 / Math.max(result.succeeded, 1);
      result.gcPer1k = {
        scavenges: Math.round(gcs.scavenges * per1k * 100) / 100,
        full: Math.round(gcs.full * per1k * 1000) / 1000,
        ms: Math.round(gcs.ms * per1k * 10) / 10,
      };
    }
    if (redisUsed !== undefined && opts.redisPid !== undefined) {
      result.redisCpuUsPerRequest = Math.round(redisUsed / Math.max(result.succeeded, 1));
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Concurrency levels from argv (`--levels 16,64,256`), else the defaults. */
export function levelsFromArgs(defaults: number[]): number[] {
  const i = process.argv.indexOf("--levels");
  if (i < 0) return defaults;
  return process.argv[i + 1]!.split(",").map(Number);
}

export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

export function machine(): string {
  return `${availableParallelism()} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

let idleCpuMsPerSecond: number | undefined;

/** Prints the table and, as the last stdout line, `BENCH_RESULT <json>` for bench/run.mjs. */
export function report(scenario: string, notes: string, rows: LoadResult[]): void {
  console.log(`\n${scenario}: ${notes}\nmachine: ${machine()}\n`);
  if (idleCpuMsPerSecond !== undefined) console.log(`server CPU with no requests: ${idleCpuMsPerSecond} ms/s`);
  console.log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}\n`,
  );
  console.log(
    "| concurrency | requests | succeeded/s | p50 ms | p99 ms | max ms | server CPU µs per success | Redis CPU µs per success | load generator CPU µs per success | GC per 1,000 successes (young / full / ms) | errors |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const errors = Object.entries(r.errors)
      .map(([status, n]) => `${n}×${status}`)
      .join(" ");
    console.log(
      `| ${r.concurrency} | ${r.requests} | ${Math.round(r.succeeded / r.seconds).toLocaleString("en-US")} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.serverCpuUsPerRequest ?? "?"} | ${r.redisCpuUsPerRequest ?? "?"} | ${r.loadCpuUsPerRequest ?? "?"} | ${r.gcPer1k ? `${r.gcPer1k.scavenges} / ${r.gcPer1k.full} / ${r.gcPer1k.ms}` : "?"} | ${errors || "0"} |`,
    );
  }
  console.log(`BENCH_RESULT ${JSON.stringify({ scenario, rows })}`);
}

export interface RoomsApiBench {
  scenario: string;
  notes(rooms: number): string;
  /** What one concurrency level sends; its concurrency and duration come from the command line. */
  plan(server: BenchServer, rooms: number): Omit<LoadPlan, "origin" | "concurrency" | "durationMs">;
  /** Puts the rooms back as they were before the next level (allocations use them up). */
  afterLevel?(server: BenchServer): Promise<void>;
}

/**
 * A rooms API benchmark's whole main: as the load child, runs the plan it is given; otherwise starts the server with
 * `--rooms` rooms, runs the plan once per `--levels` concurrency for `--seconds`, and reports.
 */
export async function runRoomsApiBench(bench: RoomsApiBench): Promise<void> {
  if (await runAsLoadChild()) return;
  const rooms = numberArg("rooms", 10_000);
  const seconds = numberArg("seconds", 5);
  const server = await startBenchServer(rooms);
  try {
    const origin = new URL(server.roomsUrl).origin;
    const plan = bench.plan(server, rooms);
    // What the server burns with no request at all (timers, GC of the setup): part of every level's CPU figure.
    await new Promise((r) => setTimeout(r, 1000));
    const idleFrom = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 3000));
    const idle = process.cpuUsage(idleFrom);
    idleCpuMsPerSecond = Math.round((idle.user + idle.system) / 3000);
    const rows: LoadResult[] = [];
    for (const concurrency of levelsFromArgs([16, 64, 256])) {
      rows.push(
        await runLoadChild(
          { ...plan, origin, concurrency, durationMs: seconds * 1000 },
          { redisPid: server.redis.pid },
        ),
      );
      await bench.afterLevel?.(server);
    }
    report(bench.scenario, bench.notes(rooms), rows);
  } finally {
    await server.stop();
  }
}
