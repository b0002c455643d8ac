import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MemoryLeaseStorage,
  MemoryOperationQueue,
  MemoryOperationStorage,
  MemorySchedulerStorage,
} from "../../src/adapters/storage/memory/index.js";
import {
  createRedisClient,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import type { Operation } from "../../src/core/entities/operation.js";
import { OperationRegistry } from "../../src/core/operations/definition.js";
import {
  DELETE_SCHEDULER,
  deleteSchedulerOperation,
} from "../../src/core/operations/delete-scheduler/delete-scheduler.js";
import type { OperationServices } from "../../src/core/operations/services.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import type { LeaseStorage, OperationQueue, OperationStorage } from "../../src/core/ports/operation-storage.js";
import { FINISHED_BY_RECOVERY_EVENT, finishDeletedSchedulers } from "../../src/core/services/deletion-recovery.js";
import { uniqueScheduler } from "../support/contract-helpers.js";
import { ManualClock, waitFor } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";
import { startRedis, type TestRedis } from "../support/redis.js";

interface Stores {
  operations: OperationStorage;
  leases: LeaseStorage;
  queue: OperationQueue;
  clock: ManualClock;
  /** Lets a lease granted for `ttlMs` lapse (the storage's own time). */
  expire(ttlMs: number): Promise<void>;
}

let redis: TestRedis | undefined;
let client: RedisClient | undefined;
const queues: RedisOperationQueue[] = [];

afterAll(async () => {
  for (const q of queues) await q.close();
  client?.disconnect();
  await redis?.stop();
});

const storesOf: Record<string, () => Promise<Stores>> = {
  memory: async () => {
    const clock = new ManualClock();
    const leases = new MemoryLeaseStorage(clock);
    return {
      operations: new MemoryOperationStorage({ leases }),
      leases,
      queue: new MemoryOperationQueue(),
      clock,
      expire: async (ttlMs) => void clock.advance(ttlMs + 1),
    };
  },
  // Production: several worker replicas share these, and each looks for abandoned deletions.
  redis: async () => {
    if (!client) {
      redis = await startRedis();
      client = createRedisClient(redis.url, { name: "deletion-recovery" });
      await waitUntilReady(client, { timeoutMs: 10_000 });
    }
    const queue = new RedisOperationQueue(client);
    queues.push(queue);
    return {
      operations: new RedisOperationStorage(client),
      leases: new RedisLeaseStorage(client),
      queue,
      clock: new ManualClock(),
      expire: async () => undefined,
    };
  },
};

/**
 * What a worker killed at `operation/executed:delete_scheduler` leaves (the fault matrix's row does it with a real
 * process): the operation in progress under a lease that lapses, its note, no scheduler record, and a health check a
 * tick queued after the deletion's first clear of the operations.
 */
async function leaveUnreportedDeletion(st: Stores, S: string, leaseTtlMs: number) {
  const at = st.clock.now();
  const op: Operation = {
    id: randomUUID(),
    schedulerName: S,
    definitionName: DELETE_SCHEDULER,
    status: "in_progress",
    input: {},
    createdAt: at,
    executionHistory: [
      { createdAt: at, event: "Created" },
      { createdAt: at, event: "Starting operation" },
      { createdAt: at, event: "stopped 2 rooms and removed the scheduler from runtime process" },
    ],
  };
  await st.operations.createOperation(op);
  const tick: Operation = {
    ...op,
    id: randomUUID(),
    definitionName: "health_controller",
    status: "pending",
    executionHistory: [{ createdAt: at, event: "Created" }],
  };
  await st.operations.createOperation(tick);
  await st.queue.enqueue(S, tick.id);
  await st.operations.noteSchedulerDeletion(S, op.id);
  await st.leases.grantLease(S, op.id, leaseTtlMs, { owner: "killed-replica" });
  return { op, tick };
}

describe.each(Object.keys(storesOf))("a deletion whose worker stopped after removing the scheduler (%s)", (kind) => {
  let st: Stores;
  const schedulers = new MemorySchedulerStorage();

  beforeAll(async () => {
    st = await storesOf[kind]!();
  });

  const deps = (owner: string) => {
    const registry = new OperationRegistry([
      // With the scheduler gone a deletion only reads these.
      deleteSchedulerOperation({
        schedulers,
        queue: st.queue,
        operationStorage: st.operations,
      } as unknown as OperationServices),
    ]);
    return {
      operations: st.operations,
      leases: st.leases,
      schedulers,
      registry,
      clock: st.clock,
      logger: silentLogger,
      owner,
      leaseTtlMs: 5_000,
    };
  };

  it("is finished by exactly one of the replicas looking, with what ticks queued meanwhile gone", async () => {
    const S = uniqueScheduler();
    const { op, tick } = await leaveUnreportedDeletion(st, S, 300);
    await st.expire(300);
    await waitFor(async () => (await st.leases.getLease(S, op.id)) === undefined, "the killed worker's lease lapsed");

    const found = await Promise.all(
      ["replica-a", "replica-b", "replica-c"].map((r) =>
        finishDeletedSchedulers(deps(r), new AbortController().signal),
      ),
    );
    expect(found.flat()).toEqual([op.id]);

    const done = await st.operations.getOperation(S, op.id);
    const events = done?.executionHistory.map((e) => e.event) ?? [];
    expect(done?.status, JSON.stringify(events)).toBe("finished");
    expect(events.filter((e) => e === FINISHED_BY_RECOVERY_EVENT)).toHaveLength(1);
    expect(events.filter((e) => e === "Operation finished")).toHaveLength(1);
    expect(await st.operations.getOperation(S, tick.id)).toBeUndefined();
    expect(await st.queue.pendingIds(S)).toEqual([]);
    expect((await st.operations.listSchedulerDeletions()).filter((d) => d.schedulerName === S)).toEqual([]);
    // Looking again finds nothing: it is not finished twice.
    expect(await finishDeletedSchedulers(deps("replica-a"), new AbortController().signal)).toEqual([]);
  });

  it("is finished without touching a scheduler created again under the same name, nor its operations", async () => {
    const S = uniqueScheduler();
    const { op, tick } = await leaveUnreportedDeletion(st, S, 300);
    await st.expire(300);
    await waitFor(async () => (await st.leases.getLease(S, op.id)) === undefined, "the killed worker's lease lapsed");
    await schedulers.createScheduler(validScheduler({ name: S, state: "creating" }));
    try {
      expect(await finishDeletedSchedulers(deps("replica-a"), new AbortController().signal)).toEqual([op.id]);
      expect((await st.operations.getOperation(S, op.id))?.status).toBe("finished");
      // What is queued now belongs to the new scheduler.
      expect((await st.operations.getOperation(S, tick.id))?.status).toBe("pending");
      expect(await st.queue.pendingIds(S)).toEqual([tick.id]);
      expect((await schedulers.getScheduler(S)).state).toBe("creating");
    } finally {
      await schedulers.deleteScheduler(S);
    }
  });

  it("is left to its worker while that worker holds the lease, and to the owner while the scheduler is terminating", async () => {
    const S = uniqueScheduler();
    const { op, tick } = await leaveUnreportedDeletion(st, S, 60_000);
    expect(await finishDeletedSchedulers(deps("replica-a"), new AbortController().signal)).toEqual([]);
    expect((await st.operations.getOperation(S, op.id))?.status).toBe("in_progress");
    expect((await st.operations.getOperation(S, tick.id))?.status).toBe("pending");

    const T = uniqueScheduler();
    const other = await leaveUnreportedDeletion(st, T, 300);
    await st.expire(300);
    await waitFor(async () => (await st.leases.getLease(T, other.op.id)) === undefined, "the lease lapsed");
    await schedulers.createScheduler(validScheduler({ name: T, state: "terminating" }));
    try {
      expect(await finishDeletedSchedulers(deps("replica-a"), new AbortController().signal)).toEqual([]);
      expect((await st.operations.getOperation(T, other.op.id))?.status).toBe("in_progress");
    } finally {
      await schedulers.deleteScheduler(T);
    }
  });
});
