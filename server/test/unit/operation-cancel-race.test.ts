import { describe, expect, it } from "vitest";
import {
  MemoryLeaseStorage,
  MemoryOperationQueue,
  MemoryOperationStorage,
} from "../../src/adapters/storage/memory/index.js";
import type { Operation } from "../../src/core/entities/operation.js";
import { isMaestroError, MaestroError } from "../../src/core/errors.js";
import { type AnyOperationDefinition, OperationRegistry } from "../../src/core/operations/definition.js";
import type { CallOptions } from "../../src/core/ports/call-options.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import type { OperationStorage } from "../../src/core/ports/operation-storage.js";
import { OperationManager } from "../../src/core/services/operation-manager.js";
import { OperationWorker } from "../../src/core/services/operation-worker.js";
import { ManualClock, waitFor } from "../support/core-harness.js";

const S = "race-scheduler";

/**
 * The real memory storage, seen through a door that lets the test run something right after one getOperation
 * returns: the interleaving where a reader acts on a status another writer has changed since.
 */
function afterNextRead(storage: OperationStorage, then: () => Promise<void>): OperationStorage {
  let armed = true;
  return new Proxy(storage, {
    get(target, prop, receiver) {
      if (prop !== "getOperation") return Reflect.get(target, prop, receiver);
      return async (schedulerName: string, id: string, opts?: CallOptions) => {
        const op = await target.getOperation(schedulerName, id, opts);
        if (armed && op?.status === "pending") {
          armed = false;
          await then();
        }
        return op;
      };
    },
  });
}

function setup() {
  const clock = new ManualClock();
  const leases = new MemoryLeaseStorage(clock);
  const operations = new MemoryOperationStorage({ leases });
  const queue = new MemoryOperationQueue();
  const executed: string[] = [];
  const definition: AnyOperationDefinition = {
    name: "record",
    parseInput: (input) => input ?? {},
    async execute(ctx) {
      executed.push(ctx.operation.id);
    },
  };
  const registry = new OperationRegistry([definition]);
  const manager = new OperationManager({ operations, queue, leases, registry, clock });
  return { clock, leases, operations, queue, registry, manager, executed };
}

describe("lost cancel: pending → canceled and pending → in_progress exclude each other", () => {
  it("a worker that read `pending` before a cancel landed does not run the operation", async () => {
    const t = setup();
    const op = await t.manager.enqueue(S, "record", {});
    const canceled: Promise<void>[] = [];
    // The worker reads `pending`; the user's cancel lands before the worker writes `in_progress`.
    const workerView = afterNextRead(t.operations, async () => {
      canceled.push(t.manager.cancel(S, op.id));
      await canceled[0];
    });
    const stop = new AbortController();
    const worker = new OperationWorker(S, {
      operations: workerView,
      queue: t.queue,
      leases: t.leases,
      registry: t.registry,
      running: t.manager.running,
      clock: t.clock,
      logger: silentLogger,
      leaseTtlMs: 60_000,
    });
    const run = worker.run(stop.signal);
    await waitFor(async () => (await t.queue.pendingIds(S)).length === 0, "the worker to take the operation");
    stop.abort();
    await run;
    await Promise.all(canceled);
    const final = (await t.operations.getOperation(S, op.id)) as Operation;
    // The cancel was accepted, so the operation must never have run and must stay canceled.
    expect(t.executed).toEqual([]);
    expect(final.status).toBe("canceled");
    expect(final.executionHistory.map((e) => e.event)).not.toContain("Starting operation");
  });

  it("a cancel that read `pending` before a worker took the operation does not overwrite in_progress", async () => {
    const t = setup();
    const op = await t.manager.enqueue(S, "record", {});
    // Another replica's worker wins the race between the cancel's read and its write.
    const managerView = afterNextRead(t.operations, async () => {
      await t.operations.updateStatus(S, op.id, "in_progress");
    });
    const racing = new OperationManager({
      operations: managerView,
      queue: t.queue,
      leases: t.leases,
      registry: t.registry,
      clock: t.clock,
    });
    const result = await racing.cancel(S, op.id).then(
      () => "resolved",
      (err: unknown) => err,
    );
    // Nothing here runs it and nothing acknowledged the cancel: it must fail, not report success.
    expect(isMaestroError(result, "unavailable")).toBe(true);
    expect((await t.operations.getOperation(S, op.id))?.status).toBe("in_progress");
  });
});

describe("starting an operation", () => {
  it("keeps an operation whose in_progress write failed queued and runs it on the next try", async () => {
    const t = setup();
    let failures = 1;
    const flaky = new Proxy(t.operations, {
      get(target, prop, receiver) {
        if (prop !== "updateStatus") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<OperationStorage["updateStatus"]>) => {
          if (args[2] === "in_progress" && failures-- > 0) throw new MaestroError("unavailable", "redis blinked");
          return target.updateStatus(...args);
        };
      },
    });
    const op = await t.manager.enqueue(S, "record", {});
    const stop = new AbortController();
    const worker = new OperationWorker(S, {
      operations: flaky,
      queue: t.queue,
      leases: t.leases,
      registry: t.registry,
      running: t.manager.running,
      clock: t.clock,
      logger: silentLogger,
      leaseTtlMs: 60_000,
    });
    const run = worker.run(stop.signal);
    try {
      await waitFor(async () => (await t.operations.getOperation(S, op.id))?.status === "finished", "it to finish");
      expect(t.executed).toEqual([op.id]);
    } finally {
      stop.abort();
      await run;
    }
  });
});
