import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  MemoryLeaseStorage,
  MemoryOperationQueue,
  MemoryOperationStorage,
} from "../../src/adapters/storage/memory/index.js";
import { isMaestroError, MaestroError } from "../../src/core/errors.js";
import { type AnyOperationDefinition, OperationRegistry } from "../../src/core/operations/definition.js";
import { OperationManager } from "../../src/core/services/operation-manager.js";
import { ManualClock } from "../support/core-harness.js";

const S = "test-scheduler";

const noop = (name: string): AnyOperationDefinition => ({
  name,
  parseInput: (input) => input ?? {},
  async execute() {},
});

const strict: AnyOperationDefinition = {
  name: "strict",
  parseInput(input) {
    const n = (input as { n?: unknown } | undefined)?.n;
    if (typeof n !== "number") throw MaestroError.invalid([{ field: "n", message: "must be a number" }]);
    return { n, normalized: true };
  },
  async execute() {},
};

describe("OperationManager", () => {
  let clock: ManualClock;
  let operations: MemoryOperationStorage;
  let queue: MemoryOperationQueue;
  let leases: MemoryLeaseStorage;
  let manager: OperationManager;

  beforeEach(() => {
    clock = new ManualClock();
    operations = new MemoryOperationStorage();
    queue = new MemoryOperationQueue();
    leases = new MemoryLeaseStorage(clock);
    const registry = new OperationRegistry([noop("plain"), noop("health_controller"), strict]);
    manager = new OperationManager({ operations, queue, leases, registry, clock });
  });

  afterEach(async () => {
    await queue.clear(S);
  });

  it("stores a pending operation with its parsed input and a Created history entry, then queues it", async () => {
    const op = await manager.enqueue(S, "strict", { n: 3 });
    expect(op).toMatchObject({ schedulerName: S, definitionName: "strict", status: "pending", input: { n: 3 } });
    expect(op.createdAt).toEqual(clock.now());
    const stored = await manager.get(S, op.id);
    expect(stored.input).toEqual({ n: 3, normalized: true });
    expect(stored.executionHistory).toEqual([{ createdAt: clock.now(), event: "Created" }]);
    expect(stored.lease).toBeUndefined();
    expect(await queue.pendingIds(S)).toEqual([op.id]);
  });

  it("queues normal operations at the tail and priority ones at the head", async () => {
    const a = await manager.enqueue(S, "plain", {});
    const b = await manager.enqueue(S, "plain", {});
    const urgent = await manager.enqueue(S, "plain", {}, { priority: true });
    expect(await queue.pendingIds(S)).toEqual([urgent.id, a.id, b.id]);
    expect((await manager.list(S, "pending")).map((o) => o.id)).toEqual([a.id, b.id, urgent.id]);
  });

  it("refuses an unknown definition or invalid input without storing or queueing anything", async () => {
    const unknown = await manager.enqueue(S, "nope", {}).catch((e: unknown) => e);
    expect(isMaestroError(unknown, "invalid_argument")).toBe(true);
    const invalid = await manager.enqueue(S, "strict", { n: "x" }).catch((e: unknown) => e);
    expect(isMaestroError(invalid, "invalid_argument")).toBe(true);
    expect((invalid as MaestroError).violations).toEqual([{ field: "n", message: "must be a number" }]);
    expect(await manager.list(S, "pending")).toEqual([]);
    expect(await queue.pendingIds(S)).toEqual([]);
  });

  it("enqueues at most one pending health_controller", async () => {
    const first = await manager.enqueueHealthController(S);
    expect(first?.definitionName).toBe("health_controller");
    expect(await manager.enqueueHealthController(S)).toBeUndefined();
    await manager.enqueue(S, "plain", {});
    expect(await manager.enqueueHealthController(S)).toBeUndefined();
    const pending = await manager.list(S, "pending");
    expect(pending.filter((o) => o.definitionName === "health_controller")).toHaveLength(1);

    // Once the waiting one is gone (here canceled), the next tick may enqueue again.
    await manager.cancel(S, first!.id);
    const next = await manager.enqueueHealthController(S);
    expect(next).toBeDefined();
    expect(next!.id).not.toBe(first!.id);
  });

  it("does not count another scheduler's health_controller", async () => {
    await manager.enqueueHealthController("other");
    expect(await manager.enqueueHealthController(S)).toBeDefined();
    await queue.clear("other");
  });

  it("get of an unknown operation is not_found", async () => {
    const err = await manager.get(S, "missing").catch((e: unknown) => e);
    expect(isMaestroError(err, "not_found")).toBe(true);
  });

  it("cancels a pending operation at once, recording who did it", async () => {
    const op = await manager.enqueue(S, "plain", {});
    clock.advance(5_000);
    await manager.cancel(S, op.id);
    const stored = await manager.get(S, op.id);
    expect(stored.status).toBe("canceled");
    expect(stored.executionHistory.at(-1)).toEqual({ createdAt: clock.now(), event: "Operation canceled by the user" });
    expect((await manager.list(S, "final")).map((o) => o.id)).toEqual([op.id]);
  });

  it("refuses to cancel an operation in a final status with conflict", async () => {
    for (const status of ["finished", "error", "evicted", "canceled"] as const) {
      const op = await manager.enqueue(S, "plain", {});
      await operations.updateStatus(S, op.id, status);
      const err = await manager.cancel(S, op.id).catch((e: unknown) => e);
      expect(isMaestroError(err, "conflict")).toBe(true);
      expect((await manager.get(S, op.id)).status).toBe(status);
    }
  });

  it("cancel of an unknown operation is not_found", async () => {
    const err = await manager.cancel(S, "missing").catch((e: unknown) => e);
    expect(isMaestroError(err, "not_found")).toBe(true);
  });

  it("answers unavailable when an in-progress operation is not running in this process", async () => {
    const op = await manager.enqueue(S, "plain", {});
    await operations.updateStatus(S, op.id, "in_progress");
    const err = await manager.cancel(S, op.id).catch((e: unknown) => e);
    expect(isMaestroError(err, "unavailable")).toBe(true);
  });

  it("shows the lease of active operations and aborts the registered controller on cancel", async () => {
    const op = await manager.enqueue(S, "plain", {});
    await operations.updateStatus(S, op.id, "in_progress");
    const { expiresAt: ttl } = await leases.grantLease(S, op.id, 5_000);
    const controller = new AbortController();
    const unregister = manager.running.register(op.id, controller);

    expect((await manager.get(S, op.id)).lease).toEqual({ operationId: op.id, ttl });
    expect((await manager.list(S, "active"))[0]?.lease).toEqual({ operationId: op.id, ttl });

    await manager.cancel(S, op.id);
    expect(controller.signal.aborted).toBe(true);
    expect((controller.signal.reason as Error).name).toBe("OperationCanceled");
    unregister();

    clock.advance(5_000);
    expect((await manager.get(S, op.id)).lease).toBeUndefined();
  });
});
