// How long a room whose process is gone stays allocatable (not a test): a `maestro start` with rooms as processes and
// room state on Redis, rooms that ping ready, then (1) kill -9 of one room's process, (2) kill -9 of the server and a
// restart on the same data directory, (3) SIGTERM of the server. "Allocatable" is membership of the scheduler's
// allocation index (`scheduler:{s}:free`), polled every 5 ms straight from Redis.
// Run: node bench/run.mjs dead-rooms   (after npm run build; options after `--`: --rooms 4 --repeat 3)
import "../support/require-shim.js";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { startRedis } from "../../server/test/support/redis.js";
import { pingingSchedulerBody } from "../../server/test/support/test-maestro.js";
import { type MaestroProcess, startMaestroProcess } from "../support/maestro-process.js";

const S = "dead-rooms";
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const roomCount = arg("rooms", 4);
const repeat = arg("repeat", 3);

const redis = await startRedis();
const raw = new Redis(redis.url);
const freeKey = `scheduler:{${S}}:free`;
const dataDir = mkdtempSync(join(tmpdir(), "maestro-bench-dead-"));
const settings = {
  "storage.state.kind": "redis",
  "storage.operations.kind": "redis",
  "storage.operations.url": redis.url,
  "workers.replicaId": "bench",
  "workers.ownershipTtlMs": 1500,
  "workers.syncIntervalMs": 500,
  "workers.operationLeaseTtlMs": 1000,
  "log.level": "warn",
};
const start = () => startMaestroProcess(settings, [], { dataDir });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function allocatable(): Promise<string[]> {
  return raw.zrange(freeKey, 0, -1);
}
async function untilAllocatable(n: number): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ids = await allocatable();
    if (ids.length >= n) return ids;
    if (Date.now() > deadline) throw new Error(`only ${ids.length} of ${n} rooms allocatable after 60 s`);
    await sleep(50);
  }
}
/** Milliseconds from `t0` until none of `ids` is allocatable. */
async function untilGone(ids: string[], t0: number): Promise<number> {
  const deadline = t0 + 300_000;
  for (;;) {
    const now = await allocatable();
    if (!ids.some((id) => now.includes(id))) return Date.now() - t0;
    if (Date.now() > deadline) return Number.POSITIVE_INFINITY;
    await sleep(5);
  }
}
async function pidsOf(id: string): Promise<number[]> {
  const json = await raw.hget(`scheduler:{${S}}:podMap`, id);
  return (JSON.parse(json ?? "{}") as { pids?: number[] }).pids ?? [];
}
const killed = (m: MaestroProcess) =>
  new Promise<void>((resolve) => {
    m.child.once("exit", () => resolve());
    m.child.kill("SIGKILL");
  });

const rows: Record<string, unknown>[] = [];
let maestro = await start();
const created = await fetch(`${maestro.managementUrl}/schedulers`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(pingingSchedulerBody(S, { roomsReplicas: roomCount })),
});
if (!created.ok) throw new Error(`create scheduler: ${created.status} ${await created.text()}`);

for (let i = 0; i < repeat; i++) {
  const [victim] = await untilAllocatable(roomCount);
  const pids = await pidsOf(victim as string);
  const t0 = Date.now();
  for (const pid of pids) process.kill(pid, "SIGKILL");
  rows.push({ case: "kill -9 of a room's process", ms: await untilGone([victim as string], t0) });
}

for (let i = 0; i < repeat; i++) {
  const before = await untilAllocatable(roomCount);
  const t0 = Date.now();
  await killed(maestro);
  const restarting = Date.now();
  maestro = await start();
  const ready = Date.now() - restarting;
  const gone = await untilGone(before, restarting);
  rows.push({ case: "kill -9 of the server, then restart", ms: gone, readyMs: ready, sinceKillMs: Date.now() - t0 });
}

for (let i = 0; i < repeat; i++) {
  const before = await untilAllocatable(roomCount);
  const t0 = Date.now();
  const stopped = maestro.stop();
  const gone = await untilGone(before, t0);
  await stopped;
  rows.push({ case: "SIGTERM of the server", ms: gone, exitMs: Date.now() - t0 });
  maestro = await start();
}

await maestro.stop();
raw.disconnect();
await redis.stop();
rmSync(dataDir, { recursive: true, force: true });

console.log(
  `\ndead-rooms: ${roomCount} rooms as processes, room state on Redis; machine: ${cpus().length} cores, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}\n`,
);
console.log("| case | ms until not allocatable | notes |");
console.log("|---|---|---|");
for (const r of rows) {
  const { case: c, ms, ...rest } = r;
  console.log(
    `| ${c} | ${ms} | ${Object.entries(rest)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")} |`,
  );
}
console.log(`BENCH_RESULT ${JSON.stringify({ scenario: "dead-rooms", rows })}`);
