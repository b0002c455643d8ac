// Autoscaler reaction (not a test): the time from an occupancy change — a scheduler's ready rooms report `occupied`
// through rooms-API pings — to the add_rooms operation the autoscaler asks for being enqueued. Embedded default
// (PGlite schedulers, memory state, process runtime with idle room processes), default health-controller interval;
// `--redis` keeps rooms, instances and operations on a throwaway redis-server instead (status changes then reach the
// worker through Redis pub/sub, as between production replicas).
// Usage: node bench/run.mjs autoscaler-reaction [-- --reps 5 --redis]
import "../support/require-shim.js";
import { loadavg } from "node:os";
import { loadConfig } from "../../server/src/config/load-config.js";
import type { Operation } from "../../server/src/core/entities/operation.js";
import { startRedis } from "../../server/test/support/redis.js";
import { eventually, http, schedulerBody, startTestMaestro } from "../../server/test/support/test-maestro.js";
import { ensureMigrationsNextToBundle, machine, numberArg } from "../support/rooms-api-bench.js";

const reps = numberArg("reps", 5);
const onRedis = process.argv.includes("--redis");
const ROOMS = 2;

ensureMigrationsNextToBundle();
const redis = onRedis ? await startRedis() : undefined;
const maestro = await startTestMaestro({
  // The production interval: what is measured must not come from a test's faster health checks.
  "workers.healthControllerIntervalMs": loadConfig({ env: {} }).workers.healthControllerIntervalMs,
  ...(redis && {
    "storage.state.kind": "redis",
    "storage.state.url": redis.url,
    "storage.operations.kind": "redis",
    "storage.operations.url": redis.url,
  }),
});
const ctx = maestro.context;
const managementUrl = maestro.urls.managementApi!;
const roomsUrl = maestro.urls.roomsApi!;

// When each scheduler's first add_rooms after the occupancy change was created (the enqueue's first write).
const addRoomsAt = new Map<string, number>();
const create = ctx.operationStorage.createOperation.bind(ctx.operationStorage);
ctx.operationStorage.createOperation = (op: Operation, opts) => {
  if (op.definitionName === "add_rooms" && !addRoomsAt.has(op.schedulerName))
    addRoomsAt.set(op.schedulerName, Date.now());
  return create(op, opts);
};

interface Room {
  id: string;
  status: string;
}

async function rooms(name: string): Promise<Room[]> {
  return ((await http(managementUrl, "GET", `/schedulers/${name}/rooms?pageSize=100`)).json.rooms ?? []) as Room[];
}

async function ping(name: string, room: string, status: "ready" | "occupied") {
  const res = await http(
    roomsUrl,
    "PUT",
    `/scheduler/${name}/rooms/${room}/ping`,
    { status },
    {
      authorization: `Bearer ${ctx.tokens.tokenFor(name, room)}`,
    },
  );
  if (res.status !== 200) throw new Error(`ping ${status} of ${room}: ${res.status} ${JSON.stringify(res.json)}`);
}

const samples: number[] = [];
try {
  for (let rep = 0; rep < reps; rep++) {
    const name = `react-${rep}`;
    await http(
      managementUrl,
      "POST",
      "/schedulers",
      schedulerBody(name, {
        roomsReplicas: ROOMS,
        autoscaling: {
          enabled: true,
          min: ROOMS,
          max: 10,
          cooldown: 0,
          policy: { type: "roomOccupancy", parameters: { roomOccupancy: { readyTarget: 0.5, downThreshold: 0.99 } } },
        },
      }),
    );
    // Steady state: the minimum of rooms up and ready, nothing pending.
    const ready = await eventually(
      async () => {
        const live = (await rooms(name)).filter((r) => r.status !== "terminating" && r.status !== "error");
        for (const r of live) if (r.status !== "ready") await ping(name, r.id, "ready").catch(() => undefined);
        return live.length === ROOMS && live.every((r) => r.status === "ready") && live;
      },
      { timeoutMs: 120_000, intervalMs: 300, what: `${ROOMS} ready rooms of ${name}` },
    );
    // Somewhere in the health-controller interval (10 s), not right after its last run.
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 9000));
    addRoomsAt.delete(name);
    const changed = Date.now();
    await Promise.all(ready.map((r) => ping(name, r.id, "occupied")));
    const at = await eventually(() => addRoomsAt.get(name), {
      timeoutMs: 60_000,
      intervalMs: 20,
      what: `add_rooms of ${name}`,
    });
    samples.push(at - changed);
    console.log(`${name}: add_rooms enqueued ${at - changed} ms after the rooms went occupied`);
    await http(managementUrl, "DELETE", `/schedulers/${name}`);
  }
} finally {
  await maestro.stop();
  await redis?.stop();
}

const sorted = [...samples].sort((a, b) => a - b);
const load = loadavg()
  .map((l) => l.toFixed(1))
  .join(" ");
const state = onRedis ? "state and operations on Redis" : "embedded default";
console.log(`\nautoscaler-reaction: ${ROOMS} ready rooms → occupied, roomOccupancy readyTarget 0.5, ${state}`);
console.log(`machine: ${machine()}\nload average: ${load}\n`);
console.log("| repetitions | min ms | median ms | max ms |\n|---|---|---|---|");
const median = sorted[Math.floor(sorted.length / 2)];
console.log(`| ${sorted.length} | ${sorted[0]} | ${median} | ${sorted.at(-1)} |`);
console.log(
  `BENCH_RESULT ${JSON.stringify({
    scenario: "autoscaler-reaction",
    rows: [{ state, repetitions: sorted.length, minMs: sorted[0], medianMs: median, maxMs: sorted.at(-1), load }],
  })}`,
);
