import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createRedisClient,
  type RedisClient,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  RedisSchedulerOwnership,
} from "../../src/adapters/storage/redis/index.js";
import { OperationRegistry } from "../../src/core/operations/definition.js";
import { testOperation } from "../../src/core/operations/test-operation/test-operation.js";
import { systemClock } from "../../src/core/ports/clock.js";
import { OperationManager } from "../../src/core/services/operation-manager.js";
import { type MaestroCli, startMaestroCli } from "../support/maestro-cli.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { startRedis } from "../support/redis.js";
import { eventually, http, schedulerBody } from "../support/test-maestro.js";

/**
 * Two `maestro start` processes sharing PostgreSQL (schedulers) and Redis (operations): each scheduler's operations run
 * on one replica at a time, a cancel sent to the other replica still reaches the operation, and when the owner is
 * SIGKILLed mid-operation the survivor takes over, recovers the abandoned operation and runs the rest of the queue.
 */
describe("several replicas on one Redis", () => {
  let pg: TestPostgres;
  let redis: { url: string; stop(): Promise<void> };
  let client: RedisClient;
  const replicas: MaestroCli[] = [];

  const startReplica = async (id: string) => {
    const replica = await startMaestroCli(["all"], {
      "storage.schedulers.kind": "postgres",
      "storage.schedulers.url": pg.url,
      "storage.operations.kind": "redis",
      "storage.operations.url": redis.url,
      "workers.replicaId": id,
      "workers.ownershipTtlMs": 1500,
      "workers.syncIntervalMs": 500,
      "workers.operationLeaseTtlMs": 1000,
      "workers.healthControllerIntervalMs": 60000,
    });
    replicas.push(replica);
    return { id, url: replica.managementUrl, child: replica.child };
  };

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    client = createRedisClient(redis.url, { name: "test" });
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    client?.disconnect();
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  it("runs each scheduler on one replica, cancels across replicas, and survives the owner's SIGKILL", async () => {
    const [a, b] = await Promise.all([startReplica("replica-a"), startReplica("replica-b")]);
    expect((await http(a.url, "POST", "/schedulers", schedulerBody("shared"))).status).toBe(200);
    await eventually(async () => (await http(b.url, "GET", "/schedulers/shared")).json.scheduler?.state === "in-sync", {
      what: "create_scheduler to finish",
    });

    const ownership = new RedisSchedulerOwnership(client);
    const ownerId = await eventually(() => ownership.holder("shared"), { what: "an owner" });
    const owner = ownerId === a.id ? a : b;
    const other = owner === a ? b : a;

    // Operations enqueued straight into Redis, as any replica's API would.
    const operations = new OperationManager({
      operations: new RedisOperationStorage(client),
      queue: new RedisOperationQueue(client),
      leases: new RedisLeaseStorage(client),
      registry: new OperationRegistry([testOperation()]),
      clock: systemClock,
    });
    const status = async (id: string) =>
      (await http(other.url, "GET", `/schedulers/shared/operations/${id}`)).json.operation;
    const waitStatus = (id: string, wanted: string) =>
      eventually(
        async () => {
          const op = await status(id);
          return op?.status === wanted ? op : undefined;
        },
        { what: `operation ${id} ${wanted}`, timeoutMs: 30_000 },
      );

    // A cancel sent to the replica that does not run the operation still stops it.
    const long = await operations.enqueue("shared", "test_operation", { sleepSeconds: 60 });
    const running = await waitStatus(long.id, "in_progress");
    expect(new Date(running.lease.ttl).getTime()).toBeGreaterThan(Date.now());
    expect((await http(other.url, "POST", `/schedulers/shared/operations/${long.id}/cancel`)).status).toBe(200);
    const canceled = await waitStatus(long.id, "canceled");
    expect(canceled.lease).toBeUndefined();

    // The owner dies mid-operation: the survivor takes the scheduler over and recovers the operation.
    const abandoned = await operations.enqueue("shared", "test_operation", { sleepSeconds: 60 });
    await waitStatus(abandoned.id, "in_progress");
    owner.child.kill("SIGKILL");
    const recovered = await waitStatus(abandoned.id, "error");
    const events = recovered.executionHistory.map((e: { event: string }) => e.event);
    expect(events).toContain("Operation lease expired: its worker stopped while running it");
    expect(events.filter((e: string) => e === "Starting operation")).toHaveLength(1);
    expect(await ownership.holder("shared")).toBe(other.id);

    // The queue goes on on the survivor.
    const next = await operations.enqueue("shared", "test_operation", { sleepSeconds: 0 });
    expect((await waitStatus(next.id, "finished")).executionHistory.map((e: { event: string }) => e.event)).toContain(
      "slept 0s",
    );
  });
});
