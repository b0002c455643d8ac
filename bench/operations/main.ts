// Figures for the operations engine on Redis (not a test): no-op operations per second through one replica, and the
// time from SIGKILL of the replica owning a scheduler to the next operation starting on the other replica.
// Run: npm run bench:operations   (needs redis-server and PostgreSQL binaries, as the test suite does)
import type { ChildProcess } from "node:child_process";
import { cpus } from "node:os";
import {
  createRedisClient,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  RedisSchedulerOwnership,
} from "../../server/src/adapters/storage/redis/index.js";
import { finalOperationStatuses } from "../../server/src/core/entities/operation.js";
import { OperationRegistry } from "../../server/src/core/operations/definition.js";
import { testOperation } from "../../server/src/core/operations/test-operation/test-operation.js";
import { systemClock } from "../../server/src/core/ports/clock.js";
import { OperationManager } from "../../server/src/core/services/operation-manager.js";
import { startPostgres } from "../../server/test/support/postgres.js";
import { startRedis } from "../../server/test/support/redis.js";
import { schedulerBody } from "../../server/test/support/test-maestro.js";
import { type MaestroProcess, startMaestroProcess } from "../support/maestro-process.js";

const OPS = Number(process.argv[2] ?? 2000);
const OWNERSHIP_TTL_MS = Number(process.argv[3] ?? 3000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let result: unknown;
const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
const client = createRedisClient(redis.url, { name: "bench" });
const storage = new RedisOperationStorage(client);
const manager = new OperationManager({
  operations: storage,
  queue: new RedisOperationQueue(client),
  leases: new RedisLeaseStorage(client),
  registry: new OperationRegistry([testOperation()]),
  clock: systemClock,
});
const replicas: MaestroProcess[] = [];

async function replica(id: string): Promise<{ id: string; url: string; child: ChildProcess }> {
  const started = await startMaestroProcess(
    {
      "storage.schedulers.kind": "postgres",
      "storage.schedulers.url": pg.url,
      "storage.operations.kind": "redis",
      "storage.operations.url": redis.url,
      "workers.replicaId": id,
      "workers.ownershipTtlMs": OWNERSHIP_TTL_MS,
      // An operation lease must expire before the scheduler claim (refused at start otherwise).
      "workers.operationLeaseTtlMs": Math.max(1, Math.floor(OWNERSHIP_TTL_MS / 2)),
      "workers.syncIntervalMs": 500,
    },
    ["--log-level", "error"],
  );
  replicas.push(started);
  return { id, url: started.managementUrl, child: started.child };
}

async function until(id: string, statuses: string[]): Promise<void> {
  for (;;) {
    const op = await storage.getOperation("bench", id);
    if (op && statuses.includes(op.status)) return;
    await sleep(5);
  }
}

try {
  const a = await replica("bench-a");
  const res = await fetch(`${a.url}/schedulers`, {
    method: "POST",
    // No rooms: the operations measured are test_operations, the scheduler only has to exist.
    body: JSON.stringify(schedulerBody("bench", { maxSurge: "1" })),
  });
  if (!res.ok) throw new Error(await res.text());
  while ((await (await fetch(`${a.url}/schedulers/bench`)).json()).scheduler?.state !== "in-sync") await sleep(20);

  const t0 = performance.now();
  const ids: string[] = [];
  for (let n = 0; n < OPS; n++) ids.push((await manager.enqueue("bench", "test_operation", { sleepSeconds: 0 })).id);
  const enqueued = performance.now() - t0;
  await until(ids.at(-1) as string, [...finalOperationStatuses]);
  const total = performance.now() - t0;
  // Operations run in order: every one before the last has ended; count those that did not finish well.
  let errors = 0;
  for (const id of ids) if ((await storage.getOperation("bench", id))?.status !== "finished") errors++;

  const b = await replica("bench-b");
  const ownership = new RedisSchedulerOwnership(client);
  const owner = (await ownership.holder("bench")) === a.id ? a : b;
  const long = await manager.enqueue("bench", "test_operation", { sleepSeconds: 600 });
  await until(long.id, ["in_progress"]);
  const next = await manager.enqueue("bench", "test_operation", { sleepSeconds: 0 });
  const k0 = performance.now();
  owner.child.kill("SIGKILL");
  await until(next.id, ["in_progress", "finished"]);
  const takeover = performance.now() - k0;

  console.log(
    `machine: ${cpus().length} cores, node ${process.version}; operations on Redis, schedulers on PostgreSQL`,
  );
  console.log(
    `no-op operations: ${OPS} enqueued in ${(enqueued / 1000).toFixed(2)} s, all finished after ${(total / 1000).toFixed(2)} s → ${(OPS / (total / 1000)).toFixed(0)} ops/s through one replica, ${errors} not finished`,
  );
  console.log(
    `takeover: SIGKILL of the owning replica → next operation started on the other in ${(takeover / 1000).toFixed(2)} s (ownership TTL ${OWNERSHIP_TTL_MS} ms)`,
  );
  result = {
    scenario: "operations",
    rows: [
      { case: `${OPS} no-op test_operations, Redis`, "operations/s": Math.round(OPS / (total / 1000)), errors },
      { case: `takeover after SIGKILL (TTL ${OWNERSHIP_TTL_MS} ms)`, seconds: Number((takeover / 1000).toFixed(2)) },
    ],
  };
} finally {
  await Promise.all(replicas.map((r) => r.stop()));
  client.disconnect();
  await Promise.all([pg.stop(), redis.stop()]);
}
console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
