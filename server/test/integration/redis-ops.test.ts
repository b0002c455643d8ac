import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CancelRequest,
  createRedisClient,
  highVolumeOperationTtl,
  RedisCancelSignals,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import type { Operation } from "../../src/core/entities/operation.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";
import { waitFor } from "../support/core-harness.js";
import { startRedis, type TestRedis } from "../support/redis.js";

let redis: TestRedis;
/** Raw connection for looking at keys the way an operator's redis-cli would. */
let raw: Redis;
const clients: Redis[] = [];
const queues: RedisOperationQueue[] = [];
const controllers: AbortController[] = [];

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});

afterEach(async () => {
  for (const controller of controllers.splice(0)) controller.abort();
  for (const queue of queues.splice(0)) await queue.close();
  for (const client of clients.splice(0)) client.disconnect();
});

afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
});

async function client(name: string, url = redis.url, commandTimeoutMs?: number): Promise<Redis> {
  const created = createRedisClient(url, { name, commandTimeoutMs });
  clients.push(created);
  await waitUntilReady(created, { timeoutMs: 10_000 });
  return created;
}

function queueOn(connection: Redis): RedisOperationQueue {
  const queue = new RedisOperationQueue(connection);
  queues.push(queue);
  return queue;
}

/** CLIENT LIST: one line per connection with its name and current command. */
async function clientList(connection: Redis): Promise<string> {
  return String(await connection.client("LIST"));
}

function signal(): AbortSignal {
  const controller = new AbortController();
  controllers.push(controller);
  return controller.signal;
}

function operation(schedulerName: string, definitionName: string, overrides: Partial<Operation> = {}): Operation {
  return {
    id: randomUUID(),
    schedulerName,
    definitionName,
    status: "pending",
    input: {},
    createdAt: new Date(Date.UTC(2026, 0, 5, 12, 0, 0, 123)),
    executionHistory: [{ createdAt: new Date(Date.UTC(2026, 0, 5, 12, 0, 0, 123)), event: "Created" }],
    ...overrides,
  };
}

describe("RedisOperationStorage", () => {
  it("stores Maestro's hash and sorted sets", async () => {
    const storage = new RedisOperationStorage(await client("storage-layout"));
    const scheduler = uniqueScheduler();
    const op = operation(scheduler, "switch_active_version", { input: { version: "v2.0.0" } });
    await storage.createOperation(op);
    await storage.updateStatus(scheduler, op.id, "in_progress");
    expect(await raw.hgetall(`operations:{${scheduler}}:${op.id}`)).toEqual({
      id: op.id,
      schedulerName: scheduler,
      status: "1",
      definitionName: "switch_active_version",
      createdAt: "2026-01-05T12:00:00.123Z",
      input: '{"version":"v2.0.0"}',
      executionHistory: '[{"createdAt":"2026-01-05T12:00:00.123Z","event":"Created"}]',
    });
    expect(await raw.zrange(`operations:{${scheduler}}:lists:pending`, 0, "-1")).toEqual([]);
    expect(await raw.zrange(`operations:{${scheduler}}:lists:active`, 0, "-1")).toEqual([op.id]);
    // Scored by creation time in ms; the fraction keeps the creation order of operations made in the same ms.
    const score = Number(await raw.zscore(`operations:{${scheduler}}:lists:active`, op.id));
    expect(Math.floor(score)).toBe(op.createdAt.getTime());
    await storage.updateStatus(scheduler, op.id, "finished");
    expect(await raw.zrange(`operations:{${scheduler}}:lists:history`, 0, "-1")).toEqual([op.id]);
    expect(await raw.zrange(`operations:{${scheduler}}:lists:active`, 0, "-1")).toEqual([]);
  });

  it("gives high-volume operations a TTL and leaves the others without one", async () => {
    const storage = new RedisOperationStorage(await client("storage-ttl"), { ttlSecondsFor: highVolumeOperationTtl() });
    const scheduler = uniqueScheduler();
    const highVolume = ["health_controller", "add_rooms", "remove_rooms"].map((name) => operation(scheduler, name));
    const kept = ["create_scheduler", "switch_active_version", "delete_scheduler"].map((name) =>
      operation(scheduler, name),
    );
    for (const op of [...highVolume, ...kept]) await storage.createOperation(op);
    for (const op of highVolume) {
      const ttl = await raw.ttl(`operations:{${scheduler}}:${op.id}`);
      expect(ttl, op.definitionName).toBeGreaterThan(86_000);
      expect(ttl, op.definitionName).toBeLessThanOrEqual(86_400);
    }
    for (const op of kept) expect(await raw.ttl(`operations:{${scheduler}}:${op.id}`), op.definitionName).toBe(-1);
    // Status changes and history entries keep the TTL.
    const [first] = highVolume;
    await storage.updateStatus(scheduler, first!.id, "in_progress");
    await storage.appendHistory(scheduler, first!.id, { createdAt: new Date(), event: "Started" });
    expect(await raw.ttl(`operations:{${scheduler}}:${first!.id}`)).toBeGreaterThan(86_000);
  });

  it("drops expired operations from listings, and cleanExpired unlists them everywhere", async () => {
    const storage = new RedisOperationStorage(await client("storage-expiry"), {
      ttlSecondsFor: (name) => (name === "health_controller" ? 1 : undefined),
    });
    const scheduler = uniqueScheduler();
    const kept = operation(scheduler, "create_scheduler");
    const pendingExpiring = operation(scheduler, "health_controller");
    const activeExpiring = operation(scheduler, "health_controller", { status: "in_progress" });
    const finalExpiring = operation(scheduler, "health_controller", { status: "finished" });
    for (const op of [kept, pendingExpiring, activeExpiring, finalExpiring]) await storage.createOperation(op);
    expect((await storage.listOperations(scheduler, "pending")).map((o) => o.id).sort()).toEqual(
      [kept.id, pendingExpiring.id].sort(),
    );

    await waitFor(
      async () => (await raw.exists(`operations:{${scheduler}}:${pendingExpiring.id}`)) === 0,
      "pending hash to expire",
    );
    await waitFor(
      async () =>
        (await raw.exists(
          `operations:{${scheduler}}:${activeExpiring.id}`,
          `operations:{${scheduler}}:${finalExpiring.id}`,
        )) === 0,
      "other hashes to expire",
    );
    expect(await storage.getOperation(scheduler, pendingExpiring.id)).toBeUndefined();
    // Sets still list the expired ids until someone looks.
    expect(await raw.zrange(`operations:{${scheduler}}:lists:active`, 0, "-1")).toEqual([activeExpiring.id]);

    expect(await storage.listOperations(scheduler, "pending")).toEqual([kept]);
    expect(await raw.zrange(`operations:{${scheduler}}:lists:pending`, 0, "-1")).toEqual([kept.id]);

    expect(await storage.cleanExpired(scheduler)).toBe(2);
    expect(await raw.zrange(`operations:{${scheduler}}:lists:active`, 0, "-1")).toEqual([]);
    expect(await raw.zrange(`operations:{${scheduler}}:lists:history`, 0, "-1")).toEqual([]);
    expect(await storage.listOperations(scheduler, "active")).toEqual([]);
    expect(await storage.cleanExpired(scheduler)).toBe(0);
    expect(await storage.getOperation(scheduler, kept.id)).toEqual(kept);
    await expectCode(storage.updateStatus(scheduler, activeExpiring.id, "finished"), "not_found");
  });

  it("lists a re-created id once, in the stage of its new status", async () => {
    const storage = new RedisOperationStorage(await client("storage-recreate"));
    const scheduler = uniqueScheduler();
    const op = operation(scheduler, "health_controller", { status: "in_progress" });
    await storage.createOperation(op);
    // An expiry that left the id listed as active.
    await raw.del(`operations:{${scheduler}}:${op.id}`);
    const again = { ...op, status: "pending" as const };
    await storage.createOperation(again);
    expect(await storage.listOperations(scheduler, "pending")).toEqual([again]);
    expect(await raw.zrange(`operations:{${scheduler}}:lists:active`, 0, "-1")).toEqual([]);
  });
});

describe("RedisOperationQueue", () => {
  it("uses Maestro's lists: RPUSH/LPUSH on the main list, the taken id in the auxiliary list", async () => {
    const queue = queueOn(await client("queue-layout"));
    const scheduler = uniqueScheduler();
    await queue.enqueue(scheduler, "a");
    await queue.enqueue(scheduler, "b");
    await queue.enqueue(scheduler, "urgent", { priority: true });
    expect(await raw.lrange(`pending_operations:{${scheduler}}`, 0, "-1")).toEqual(["urgent", "a", "b"]);
    expect(await queue.next(scheduler, { signal: signal() })).toBe("urgent");
    expect(await raw.lrange(`pending_operations:{${scheduler}}:auxiliary`, 0, "-1")).toEqual(["urgent"]);
    expect(await raw.lrange(`pending_operations:{${scheduler}}`, 0, "-1")).toEqual(["a", "b"]);
    await queue.ack(scheduler, "urgent");
    expect(await raw.exists(`pending_operations:{${scheduler}}:auxiliary`)).toBe(0);
  });

  it("hands an id taken by a worker whose connection died to the next worker", async () => {
    const scheduler = uniqueScheduler();
    const deadConnection = await client("queue-dead-worker");
    const dead = queueOn(deadConnection);
    await dead.enqueue(scheduler, "op-1");
    await dead.enqueue(scheduler, "op-2");
    expect(await dead.next(scheduler, { signal: signal() })).toBe("op-1");
    // The worker dies before ack: its connections go away without a word.
    deadConnection.disconnect();
    await dead.close();

    const successor = queueOn(await client("queue-successor"));
    expect(await successor.next(scheduler, { signal: signal() })).toBe("op-1");
    await successor.ack(scheduler, "op-1");
    expect(await successor.next(scheduler, { signal: signal() })).toBe("op-2");
  });

  it("fails a next() blocked on a connection that dies, and later ids reach a new connection", async () => {
    const scheduler = uniqueScheduler();
    const dead = queueOn(await client("queue-dead-blocked"));
    const blocked = dead.next(scheduler, { signal: signal() });
    blocked.catch(() => {});
    await waitFor(async () => (await clientList(raw)).includes("queue-dead-blocked-queue"), "a blocking client");
    await dead.close();
    await expectCode(blocked, "unavailable");

    const successor = queueOn(await client("queue-successor-blocked"));
    await successor.enqueue(scheduler, "op-1");
    expect(await successor.next(scheduler, { signal: signal() })).toBe("op-1");
    expect(await successor.pendingIds(scheduler)).toEqual(["op-1"]);
  });

  it("serves blocked waiters of many schedulers at once", async () => {
    const queue = queueOn(await client("queue-many"));
    const schedulers = Array.from({ length: 4 }, () => uniqueScheduler());
    const taken = schedulers.map((s) => queue.next(s, { signal: signal() }));
    await waitFor(
      async () => (await clientList(raw)).split("\n").filter((l) => l.includes("cmd=blmove")).length === 4,
      "four blocked BLMOVEs",
    );
    for (const [i, s] of schedulers.entries()) await queue.enqueue(s, `id-${i}`);
    expect(await Promise.all(taken)).toEqual(["id-0", "id-1", "id-2", "id-3"]);
  });
});

describe("RedisLeaseStorage", () => {
  it("keeps expiries by Redis time in Maestro's lease set, names the holder and token, and lists expired leases", async () => {
    const leases = new RedisLeaseStorage(await client("leases"));
    const scheduler = uniqueScheduler();
    const short = await leases.grantLease(scheduler, "short", 50, { owner: "replica-a:1" });
    const long = await leases.grantLease(scheduler, "long", 60_000, { owner: "replica-b:2" });
    expect(await raw.zscore(`operations:{${scheduler}}:operationsLease`, "short")).toBe(
      String(short.expiresAt.getTime()),
    );
    expect(await raw.hget(`operations:{${scheduler}}:operationsLeaseHolders`, "long")).toBe(
      `${long.token}|replica-b:2`,
    );
    expect(long.token).toBeGreaterThan(short.token);
    await waitFor(async () => (await leases.listExpired(scheduler)).length === 1, "the short lease to expire");
    expect(await leases.listExpired(scheduler)).toEqual([{ operationId: "short", ttl: short.expiresAt }]);
    await leases.revokeLease(scheduler, "short");
    expect(await leases.listExpired(scheduler, new Date(long.expiresAt.getTime()))).toEqual([
      { operationId: "long", ttl: long.expiresAt },
    ]);
  });
});

describe("RedisCancelSignals", () => {
  it("delivers requests published on one connection to a subscriber on another, in Maestro's format", async () => {
    const subscriber = new RedisCancelSignals(await client("cancel-sub"));
    const publisher = new RedisCancelSignals(await client("cancel-pub"));
    const received: CancelRequest[] = [];
    const controller = new AbortController();
    controllers.push(controller);
    await subscriber.subscribe(
      (request) => {
        received.push(request);
      },
      { signal: controller.signal },
    );

    const rawMessages: string[] = [];
    const listener = raw.duplicate();
    clients.push(listener);
    listener.on("message", (_channel: string, message: string) => rawMessages.push(message));
    await listener.subscribe("scheduler:operation_cancellation_requests");

    expect(await publisher.publish("sch-a", "op-1")).toBe(2);
    await waitFor(() => received.length === 1 && rawMessages.length === 1, "the request on both subscribers");
    expect(received).toEqual([{ schedulerName: "sch-a", operationId: "op-1" }]);
    expect(JSON.parse(rawMessages[0]!)).toEqual({ schedulerName: "sch-a", operationID: "op-1" });

    // A request that waits for an answer adds its id; Maestro's Go workers ignore the extra field.
    expect(await publisher.request("sch-a", "op-1b", { waitMs: 100 })).toBe(false);
    await waitFor(() => received.length === 2 && rawMessages.length === 2, "the request on both subscribers");
    expect(received[1]).toEqual({ schedulerName: "sch-a", operationId: "op-1b" });
    expect(JSON.parse(rawMessages[1]!)).toMatchObject({ schedulerName: "sch-a", operationID: "op-1b" });
    expect(typeof JSON.parse(rawMessages[1]!).requestID).toBe("string");
    received.splice(1);

    // Maestro's Go workers publish the same message; junk on the channel is ignored.
    await raw.publish("scheduler:operation_cancellation_requests", "not json");
    await raw.publish("scheduler:operation_cancellation_requests", '{"schedulerName":"sch-b","operationID":"op-2"}');
    await waitFor(() => received.length === 2, "the second request");
    expect(received[1]).toEqual({ schedulerName: "sch-b", operationId: "op-2" });

    controller.abort();
    await waitFor(async () => (await publisher.publish("sch-a", "op-3")) === 1, "the subscriber to go away");
    expect(received).toHaveLength(2);
  });

  it("rejects subscribe with an aborted signal as canceled", async () => {
    const signals = new RedisCancelSignals(await client("cancel-aborted"));
    await expectCode(
      signals.subscribe(() => {}, { signal: AbortSignal.abort() }),
      "canceled",
    );
  });
});

describe("a stopped Redis", () => {
  it("makes calls fail with unavailable without waiting, and the adapters recover when it returns", async () => {
    let own = await startRedis();
    try {
      const port = own.port;
      // A command timeout far beyond the test timeout: only failing fast can make this test pass.
      const connection = await client("outage", own.url, 600_000);
      const storage = new RedisOperationStorage(connection);
      const queue = queueOn(connection);
      const leases = new RedisLeaseStorage(connection);
      const subscriber = new RedisCancelSignals(await client("outage-sub", own.url, 600_000));
      const received: CancelRequest[] = [];
      await subscriber.subscribe(
        (r) => {
          received.push(r);
        },
        { signal: signal() },
      );
      const scheduler = uniqueScheduler();
      const op = operation(scheduler, "add_rooms");
      await storage.createOperation(op);
      const blocked = queue.next(scheduler, { signal: signal() });
      blocked.catch(() => {});
      await waitFor(async () => (await clientList(connection)).includes("cmd=blmove"), "a blocked next()");

      await own.stop();
      await expectCode(blocked, "unavailable");
      await waitFor(() => connection.status !== "ready", "the client to notice");
      await expectCode(storage.getOperation(scheduler, op.id), "unavailable");
      await expectCode(storage.createOperation(operation(scheduler, "add_rooms")), "unavailable");
      await expectCode(storage.listOperations(scheduler, "pending"), "unavailable");
      await expectCode(queue.enqueue(scheduler, "x"), "unavailable");
      await expectCode(queue.pendingIds(scheduler), "unavailable");
      await expectCode(queue.next(scheduler, { signal: signal() }), "unavailable");
      await expectCode(leases.grantLease(scheduler, "x", 1_000), "unavailable");
      await expectCode(subscriber.publish(scheduler, "x"), "unavailable");

      own = await startRedis({ port });
      // Scripts are gone with the restart; defineCommand loads them again.
      await waitFor(
        () =>
          storage.createOperation(op).then(
            () => true,
            () => false,
          ),
        "the storage to work again",
      );
      expect(await storage.getOperation(scheduler, op.id)).toEqual(op);
      await queue.enqueue(scheduler, "after");
      expect(await queue.next(scheduler, { signal: signal() })).toBe("after");
      // The subscriber reconnects and resubscribes on its own.
      await waitFor(async () => (await subscriber.publish(scheduler, "again")) === 1, "the subscriber to resubscribe");
      await waitFor(() => received.length === 1, "the request after the outage");
    } finally {
      await own.stop();
    }
  });
});
