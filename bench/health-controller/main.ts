// One health-controller cycle over 10,000 ready rooms (nothing to fix: the cost of looking), with rooms and instances
// in memory and in Redis: cycle time p50 / max over a few cycles, and this process's RSS.
// Usage: node bench/run.mjs health-controller   [-- rooms cycles] (default 10000 5)
import { cpus } from "node:os";
import {
  MemoryInstanceStorage,
  MemoryLeaseStorage,
  MemoryOperationQueue,
  MemoryOperationStorage,
  MemoryRoomStorage,
  MemorySchedulerStorage,
} from "../../server/src/adapters/storage/memory/index.js";
import {
  createRedisClient,
  RedisInstanceStorage,
  RedisRoomStorage,
  waitUntilReady,
} from "../../server/src/adapters/storage/redis/index.js";
import { Autoscaler } from "../../server/src/core/autoscaling/autoscaler.js";
import type { Operation } from "../../server/src/core/entities/operation.js";
import { builtinOperations } from "../../server/src/core/operations/all.js";
import { OperationRegistry } from "../../server/src/core/operations/definition.js";
import { defaultRoomOperationLimits, defaultValidationSettings } from "../../server/src/core/operations/services.js";
import { systemClock } from "../../server/src/core/ports/clock.js";
import { silentLogger } from "../../server/src/core/ports/logger.js";
import type { InstanceStorage, RoomStorage } from "../../server/src/core/ports/room-storage.js";
import { OperationManager } from "../../server/src/core/services/operation-manager.js";
import type { RoomManager } from "../../server/src/core/services/room-manager.js";
import { defaultRoomTimeouts } from "../../server/src/core/services/timeouts.js";
import { gameRoom, instanceOf, validScheduler } from "../../server/test/support/fixtures.js";
import { startRedis } from "../../server/test/support/redis.js";

const ROOMS = Number(process.argv[2] ?? 10_000);
const CYCLES = Number(process.argv[3] ?? 5);
const S = "bench-hc";
const mib = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function fill(rooms: RoomStorage, instances: InstanceStorage): Promise<void> {
  const now = new Date();
  const batch = 500;
  for (let start = 0; start < ROOMS; start += batch) {
    const jobs: Promise<void>[] = [];
    for (let i = start; i < Math.min(ROOMS, start + batch); i++) {
      const id = `room-${String(i).padStart(6, "0")}`;
      jobs.push(
        rooms.createRoom(gameRoom({ id, schedulerName: S }, now)),
        instances.upsertInstance(instanceOf(id, "ready", S)),
      );
    }
    await Promise.all(jobs);
  }
}

async function cycles(label: string, rooms: RoomStorage, instances: InstanceStorage) {
  const schedulers = new MemorySchedulerStorage();
  await schedulers.createScheduler(validScheduler({ name: S, roomsReplicas: ROOMS, maxSurge: "10%" }));
  const operationStorage = new MemoryOperationStorage();
  const queue = new MemoryOperationQueue();
  const operationManager = new OperationManager({
    operations: operationStorage,
    queue,
    leases: new MemoryLeaseStorage(systemClock),
    registry: new OperationRegistry(),
    clock: systemClock,
  });
  const definitions = builtinOperations({
    autoscaler: new Autoscaler(),
    schedulers,
    rooms,
    instances,
    // The cycle only looks at rooms here (all ready, as many as desired): no room is created or deleted.
    runtime: undefined as never,
    roomManager: undefined as unknown as RoomManager,
    operationManager,
    operationStorage,
    queue,
    clock: systemClock,
    logger: silentLogger,
    timeouts: defaultRoomTimeouts,
    limits: defaultRoomOperationLimits,
    validation: defaultValidationSettings,
  });
  const hc = definitions.find((d) => d.name === "health_controller")!;
  const t0 = performance.now();
  await fill(rooms, instances);
  const fillMs = performance.now() - t0;
  const times: number[] = [];
  const history: string[] = [];
  for (let c = 0; c < CYCLES; c++) {
    const op = { id: `hc-${c}`, schedulerName: S, definitionName: hc.name } as Operation;
    const start = performance.now();
    await hc.execute(
      {
        operation: op,
        schedulerName: S,
        signal: new AbortController().signal,
        history: async (e: string) => void history.push(e),
        markNoAction: () => {},
      },
      {},
    );
    times.push(performance.now() - start);
  }
  const queued = await queue.pendingIds(S);
  if (queued.length > 0) console.log(`note: the cycle enqueued ${queued.length} operations (${history.join("; ")})`);
  times.sort((a, b) => a - b);
  const row = {
    case: `${label}, ${ROOMS} rooms`,
    "cycle p50 ms": Number(pct(times, 50).toFixed(1)),
    "cycle max ms": Number(times[times.length - 1]!.toFixed(1)),
    "RSS MiB": mib(),
  };
  console.log(
    `${label}: stored ${ROOMS} rooms + instances in ${(fillMs / 1000).toFixed(1)} s; ${CYCLES} cycles: ` +
      `p50 ${row["cycle p50 ms"]} ms, max ${row["cycle max ms"]} ms; RSS ${row["RSS MiB"]} MiB`,
  );
  return row;
}

console.log(`machine: ${cpus().length} cores, node ${process.version}`);
const rows = [await cycles("memory", new MemoryRoomStorage(), new MemoryInstanceStorage())];
const redis = await startRedis();
const client = createRedisClient(redis.url, { name: "bench-hc" });
try {
  await waitUntilReady(client, { timeoutMs: 10_000 });
  rows.push(await cycles("redis", new RedisRoomStorage(client), new RedisInstanceStorage(client)));
} finally {
  client.disconnect();
  await redis.stop();
}
console.log(`BENCH_RESULT ${JSON.stringify({ scenario: "health-controller", rows })}`);
