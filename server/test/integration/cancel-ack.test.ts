import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createRedisClient,
  RedisCancelSignals,
  type RedisClient,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import { isMaestroError } from "../../src/core/errors.js";
import { type AnyOperationDefinition, OperationRegistry } from "../../src/core/operations/definition.js";
import { systemClock } from "../../src/core/ports/clock.js";
import { OperationCanceled, OperationManager } from "../../src/core/services/operation-manager.js";
import { uniqueScheduler } from "../support/contract-helpers.js";
import { startRedis, type TestRedis } from "../support/redis.js";

/**
 * Two replicas sharing Redis, each with its own OperationManager (own in-process registry of running operations):
 * a cancel sent from one must reach the other and be acknowledged by it, or fail saying so.
 */
let redis: TestRedis;
const clients: RedisClient[] = [];
const queues: RedisOperationQueue[] = [];
const subscriptions: AbortController[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(() => {
  for (const s of subscriptions.splice(0)) s.abort();
});

afterAll(async () => {
  for (const q of queues) await q.close();
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

const plain: AnyOperationDefinition = { name: "plain", parseInput: (i) => i ?? {}, async execute() {} };

async function replica(name: string) {
  const client = createRedisClient(redis.url, { name });
  clients.push(client);
  await waitUntilReady(client, { timeoutMs: 10_000 });
  const queue = new RedisOperationQueue(client);
  queues.push(queue);
  const cancelSignals = new RedisCancelSignals(client);
  const manager = new OperationManager({
    operations: new RedisOperationStorage(client),
    queue,
    leases: new RedisLeaseStorage(client),
    registry: new OperationRegistry([plain]),
    clock: systemClock,
    cancelSignals,
    cancelAckTimeoutMs: 300,
  });
  /** Listens for cancels as the worker module does: acknowledged when the operation runs here. */
  const listen = async () => {
    const stop = new AbortController();
    subscriptions.push(stop);
    await cancelSignals.subscribe(
      ({ operationId }) => manager.running.abort(operationId, new OperationCanceled("operation canceled by the user")),
      { signal: stop.signal },
    );
  };
  return { manager, storage: new RedisOperationStorage(client), listen };
}

/** An operation `runner` holds in progress, as its worker would. */
async function runningOn(runner: Awaited<ReturnType<typeof replica>>, scheduler: string) {
  const op = await runner.manager.enqueue(scheduler, "plain", {});
  await runner.storage.updateStatus(scheduler, op.id, "in_progress", { expected: "pending" });
  const controller = new AbortController();
  runner.manager.running.register(op.id, controller);
  return { op, controller };
}

describe("cancel across replicas", () => {
  it("is acknowledged by the replica running the operation, whose signal fires", async () => {
    const a = await replica("replica-a");
    const b = await replica("replica-b");
    await a.listen();
    await b.listen();
    const scheduler = uniqueScheduler();
    const { op, controller } = await runningOn(a, scheduler);
    await b.manager.cancel(scheduler, op.id);
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBeInstanceOf(OperationCanceled);
  });

  it("fails with unavailable when no replica hears it (fire-and-forget used to report success)", async () => {
    const a = await replica("replica-a-deaf");
    const b = await replica("replica-b-deaf");
    // The runner is not subscribed (restarting, or cut off from Redis): nobody receives the request.
    const scheduler = uniqueScheduler();
    const { op, controller } = await runningOn(a, scheduler);
    const result = await b.manager.cancel(scheduler, op.id).catch((err: unknown) => err);
    expect(isMaestroError(result, "unavailable")).toBe(true);
    expect((result as Error).message).toMatch(/not acknowledged/);
    expect(controller.signal.aborted).toBe(false);
  });

  it("fails with unavailable when replicas hear it but none runs the operation", async () => {
    const a = await replica("replica-a-lost");
    const b = await replica("replica-b-lost");
    await b.listen();
    const scheduler = uniqueScheduler();
    // In progress in storage, but its runner is gone (not registered anywhere).
    const op = await a.manager.enqueue(scheduler, "plain", {});
    await a.storage.updateStatus(scheduler, op.id, "in_progress", { expected: "pending" });
    const result = await b.manager.cancel(scheduler, op.id).catch((err: unknown) => err);
    expect(isMaestroError(result, "unavailable")).toBe(true);
    expect((await b.manager.get(scheduler, op.id)).status).toBe("in_progress");
  });
});
