import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MaestroError } from "../../src/core/errors.js";
import type { AnyOperationDefinition } from "../../src/core/operations/definition.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import type { LeaseStorage } from "../../src/core/ports/operation-storage.js";
import { OperationLeaseLost } from "../../src/core/services/operation-manager.js";
import { recoverAbandonedOperations } from "../../src/core/services/operation-recovery.js";
import { OperationWorker } from "../../src/core/services/operation-worker.js";
import { CoreHarness, untilAborted, waitFor } from "../support/core-harness.js";

const S = "fenced-scheduler";
const TTL = 1_000;

describe("fenced operation leases", () => {
  let h: CoreHarness;
  const seen: { reason?: unknown; lateWrite?: unknown; rolledBack: number } = { rolledBack: 0 };

  beforeEach(async () => {
    seen.reason = undefined;
    seen.lateWrite = undefined;
    seen.rolledBack = 0;
    const block: AnyOperationDefinition = {
      name: "block",
      parseInput: (input) => input ?? {},
      async execute(ctx) {
        try {
          await untilAborted(ctx.signal);
        } catch (reason) {
          seen.reason = reason;
          // What a slow executor still tries after its lease is gone: refused.
          seen.lateWrite = await ctx.history("late write from the old holder").then(
            () => "written",
            (err: unknown) => err,
          );
          throw reason;
        }
      },
      async rollback() {
        seen.rolledBack++;
      },
    };
    h = await CoreHarness.create({ builtins: false, definitions: [block], leaseTtlMs: TTL });
  });

  afterEach(async () => {
    await h.close();
  });

  it("records the replica and token on the lease of a running operation", async () => {
    h.startWorker(S, { owner: "replica-a", leaseRenewIntervalMs: 50 });
    const op = await h.operationManager.enqueue(S, "block", {});
    const lease = await waitFor(() => h.leases.getLease(S, op.id), "the lease");
    expect(lease).toMatchObject({ owner: "replica-a", operationId: op.id });
    expect((await h.operationManager.get(S, op.id)).lease?.owner).toBe("replica-a");
  });

  it("a lost lease aborts the operation; its later writes are refused and recovery ends it exactly once", async () => {
    h.startWorker(S, { owner: "replica-a", leaseRenewIntervalMs: 50 });
    const op = await h.operationManager.enqueue(S, "block", {});
    await waitFor(async () => (await h.operationStorage.getOperation(S, op.id))?.status === "in_progress", "start");
    const before = (await h.operationStorage.getOperation(S, op.id))!.executionHistory.length;

    // Replica A stalls past its lease (the clock jumps beyond the TTL) and replica B recovers the operation.
    h.clock.advance(TTL + 1);
    const recovered = await recoverAbandonedOperations(
      S,
      { ...h, operations: h.operationStorage, logger: silentLogger, owner: "replica-b", leaseTtlMs: TTL },
      new AbortController().signal,
    );
    expect(recovered.failed).toEqual([op.id]);

    // A's next renewal is refused: its operation's signal fires with OperationLeaseLost.
    await waitFor(() => seen.reason !== undefined, "the old holder's operation to be aborted");
    expect(seen.reason).toBeInstanceOf(OperationLeaseLost);
    expect(seen.lateWrite).toMatchObject({ code: "failed_precondition" });

    const final = (await h.operationStorage.getOperation(S, op.id))!;
    expect(final.status).toBe("error");
    const events = final.executionHistory.slice(before).map((e) => e.event);
    expect(events).toEqual([
      "Operation lease expired: its worker stopped while running it",
      "Starting operation rollback",
      "Operation rollback finished with success",
      "Operation finished",
    ]);
    // Rolled back once, by the replica that recovered it; the old holder leaves it alone.
    expect(seen.rolledBack).toBe(1);
    expect(await h.leases.getLease(S, op.id)).toBeUndefined();
  });

  it("aborts the operation when no renewal gets through for a whole TTL (storage unreachable), without writing", async () => {
    const unreachable = new Proxy(h.leases, {
      get(target, prop, receiver) {
        if (prop === "renewLease") return async () => Promise.reject(new MaestroError("unavailable", "redis is down"));
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as LeaseStorage;
    const stop = new AbortController();
    const worker = new OperationWorker(S, {
      operations: h.operationStorage,
      queue: h.queue,
      leases: unreachable,
      registry: h.registry,
      running: h.operationManager.running,
      clock: h.clock,
      logger: silentLogger,
      leaseTtlMs: 200,
      leaseRenewIntervalMs: 40,
    });
    const run = worker.run(stop.signal);
    try {
      const op = await h.operationManager.enqueue(S, "block", {});
      await waitFor(() => seen.reason !== undefined, "the operation to be aborted");
      expect(seen.reason).toBeInstanceOf(OperationLeaseLost);
      // It stops there: no rollback, no final status; recovery decides once the lease has expired.
      expect(seen.rolledBack).toBe(0);
      expect((await h.operationStorage.getOperation(S, op.id))?.status).toBe("in_progress");
    } finally {
      stop.abort();
      await run;
    }
  });
});
