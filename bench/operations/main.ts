// Figures for the operations engine on Redis (not a test): no-op operations per second through one replica, and the
// time from SIGKILL of the replica owning a scheduler to the next operation starting on the other replica.
// Run: npm run bench:operations   (needs redis-server and PostgreSQL binaries, as the test suite does)
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import {
  createRedisClient,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  RedisSchedulerOwnership,
} from "../../server/src/adapters/storage/redis/index.js";
import { OperationRegistry } from "../../server/src/core/operations/definition.js";
import { testOperation } from "../../server/src/core/operations/test-operation/test-operation.js";
import { systemClock } from "../../server/src/core/ports/clock.js";
import { OperationManager } from "../../server/src/core/services/operation-manager.js";
import { startPostgres } from "../../server/test/support/postgres.js";
import { startRedis } from "../../server/test/support/redis.js";

const OPS = Number(process.argv[2] ?? 2000);
const OWNERSHIP_TTL_MS = Number(process.argv[3] ?? 3000);
const cli = join(process.cwd(), "server/dist/cli.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

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
const children: ChildProcess[] = [];
const dirs: string[] = [];

async function replica(id: string): Promise<{ id: string; url: string; child: ChildProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), "maestro-bench-"));
  dirs.push(dataDir);
  const [m, r, i] = [await freePort(), await freePort(), await freePort()];
  const set = (kv: string) => ["--set", kv];
  const child = spawn(
    process.execPath,
    [
      cli,
      "start",
      "--data-dir",
      dataDir,
      "--management-port",
      `${m}`,
      "--rooms-port",
      `${r}`,
      "--internal-port",
      `${i}`,
      "--log-level",
      "error",
      ...set("storage.schedulers.kind=postgres"),
      ...set(`storage.schedulers.url=${pg.url}`),
      ...set("storage.operations.kind=redis"),
      ...set(`storage.operations.url=${redis.url}`),
      ...set(`workers.replicaId=${id}`),
      ...set(`workers.ownershipTtlMs=${OWNERSHIP_TTL_MS}`),
      ...set("workers.syncIntervalMs=500"),
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  children.push(child);
  const url = `http://127.0.0.1:${m}`;
  while (
    !(await fetch(`${url}/readyz`).then(
      (x) => x.ok,
      () => false,
    ))
  )
    await sleep(50);
  return { id, url, child };
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
    body: JSON.stringify({
      name: "bench",
      game: "bench",
      maxSurge: "1",
      roomsReplicas: 0,
      portRange: { start: 49000, end: 49999 },
      spec: {
        terminationGracePeriod: 5,
        containers: [
          {
            name: "c",
            image: "local",
            imagePullPolicy: "Never",
            command: ["node", "-e", "0"],
            requests: { memory: "1Mi", cpu: "1m" },
            limits: { memory: "1Mi", cpu: "1m" },
            ports: [{ name: "game", protocol: "tcp", port: 7000 }],
          },
        ],
      },
    }),
  });
  if (!res.ok) throw new Error(await res.text());
  while ((await (await fetch(`${a.url}/schedulers/bench`)).json()).scheduler?.state !== "in-sync") await sleep(20);

  const t0 = performance.now();
  let last = "";
  for (let n = 0; n < OPS; n++) last = (await manager.enqueue("bench", "test_operation", { sleepSeconds: 0 })).id;
  const enqueued = performance.now() - t0;
  await until(last, ["finished"]);
  const total = performance.now() - t0;

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
    `no-op operations: ${OPS} enqueued in ${(enqueued / 1000).toFixed(2)} s, all finished after ${(total / 1000).toFixed(2)} s → ${(OPS / (total / 1000)).toFixed(0)} ops/s through one replica`,
  );
  console.log(
    `takeover: SIGKILL of the owning replica → next operation started on the other in ${(takeover / 1000).toFixed(2)} s (ownership TTL ${OWNERSHIP_TTL_MS} ms)`,
  );
  result = {
    scenario: "operations",
    rows: [
      { case: `${OPS} no-op test_operations, Redis`, "operations/s": Math.round(OPS / (total / 1000)) },
      { case: `takeover after SIGKILL (TTL ${OWNERSHIP_TTL_MS} ms)`, seconds: Number((takeover / 1000).toFixed(2)) },
    ],
  };
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  await Promise.all(
    children.map((c) =>
      c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined,
    ),
  );
  client.disconnect();
  await Promise.all([pg.stop(), redis.stop()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
