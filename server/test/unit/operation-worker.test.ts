import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Operation } from "../../src/core/entities/operation.js";
import { isMaestroError } from "../../src/core/errors.js";
import type { AnyOperationDefinition, OperationContext } from "../../src/core/operations/definition.js";
import { CoreHarness, deferred, untilAborted, waitFor } from "../support/core-harness.js";

const S = "test-scheduler";

/** What the test definitions saw. */
interface Trace {
  executed: string[];
  rolledBack: string[];
  signalFired: string[];
  rollbackErrors: unknown[];
}

function definitions(trace: Trace, gates: Map<string, Promise<void>>): AnyOperationDefinition[] {
  const tagOf = (input: unknown) => String((input as { tag?: unknown }).tag ?? "");
  const rollback = async (_ctx: OperationContext, input: unknown, error: unknown) => {
    trace.rolledBack.push(tagOf(input));
    trace.rollbackErrors.push(error);
  };
  return [
    {
      name: "record",
      parseInput: (input) => input ?? {},
      async execute(ctx, input) {
        trace.executed.push(tagOf(input));
        await ctx.history(`recorded ${tagOf(input)}`);
      },
      rollback,
    },
    {
      // Runs until its gate opens or its signal fires.
      name: "block",
      parseInput: (input) => input ?? {},
      async execute(ctx, input) {
        trace.executed.push(tagOf(input));
        if (ctx.signal.aborted) trace.signalFired.push(tagOf(input));
        else ctx.signal.addEventListener("abort", () => trace.signalFired.push(tagOf(input)), { once: true });
        await Promise.race([gates.get(tagOf(input)) ?? new Promise(() => {}), untilAborted(ctx.signal)]);
      },
      rollback,
    },
    {
      name: "fail",
      parseInput: (input) => input ?? {},
      async execute(_ctx, input) {
        trace.executed.push(tagOf(input));
        throw new Error(`boom ${tagOf(input)}`);
      },
      rollback,
    },
    {
      name: "fail-rollback",
      parseInput: (input) => input ?? {},
      async execute() {
        throw new Error("execute failed");
      },
      async rollback() {
        throw new Error("rollback failed too");
      },
    },
    {
      name: "skip",
      parseInput: (input) => input ?? {},
      shouldExecute: () => false,
      async execute(_ctx, input) {
        trace.executed.push(tagOf(input));
      },
    },
    {
      name: "idle",
      parseInput: (input) => input ?? {},
      async execute(ctx, input) {
        trace.executed.push(tagOf(input));
        ctx.markNoAction();
      },
    },
    {
      name: "needs-n",
      parseInput(input) {
        if (typeof (input as { n?: unknown }).n !== "number") throw new Error("n must be a number");
        return input;
      },
      async execute() {},
    },
  ];
}

const events = (op: Operation) => op.executionHistory.map((e) => e.event);

describe("OperationWorker", () => {
  let h: CoreHarness;
  let trace: Trace;
  let gates: Map<string, Promise<void>>;

  beforeEach(async () => {
    trace = { executed: [], rolledBack: [], signalFired: [], rollbackErrors: [] };
    gates = new Map();
    h = await CoreHarness.create({ builtins: false, definitions: definitions(trace, gates) });
  });

  afterEach(async () => {
    await h.close();
  });

  const enqueue = (definition: string, tag: string, priority = false) =>
    h.operationManager.enqueue(S, definition, { tag }, { priority });

  /** Enqueues a `block` operation and waits until it runs; resolves the gate to let it finish. */
  async function holdWorker(tag = "hold"): Promise<{ op: Operation; release: () => void }> {
    const gate = deferred();
    gates.set(tag, gate.promise);
    const op = await enqueue("block", tag);
    await waitFor(() => trace.executed.includes(tag), `${tag} to start`);
    return { op, release: () => gate.resolve() };
  }

  it("evicts an operation whose definition says it should not execute, without running it", async () => {
    h.startWorker(S);
    const skipped = await enqueue("skip", "never");
    const done = await h.waitForFinal(S, skipped.id);
    expect(done.status).toBe("evicted");
    expect(events(done)).toContain("Operation evicted: it should not execute now");
    expect(trace.executed).toEqual([]);
  });

  it("drops a finished operation that took no action, and keeps the next one", async () => {
    h.startWorker(S);
    const idle = await enqueue("idle", "nothing to do");
    const after = await enqueue("record", "after");
    expect((await h.waitForFinal(S, after.id)).status).toBe("finished");
    expect(trace.executed).toEqual(["nothing to do", "after"]);
    expect(await h.operationStorage.getOperation(S, idle.id)).toBeUndefined();
    expect((await h.operationManager.list(S, "final")).map((o) => o.id)).toEqual([after.id]);
  });

  it("finishes a successful operation with the full history and no lease left", async () => {
    h.startWorker(S);
    const op = await enqueue("record", "one");
    const done = await h.waitForFinal(S, op.id);
    expect(done.status).toBe("finished");
    expect(events(done)).toEqual(["Created", "Starting operation", "recorded one", "Operation finished"]);
    expect(await h.leases.getLease(S, op.id)).toBeUndefined();
    expect((await h.operationManager.get(S, op.id)).lease).toBeUndefined();
    expect(trace.rolledBack).toEqual([]);
    expect(await h.queue.pendingIds(S)).toEqual([]);
  });

  it("runs operations one at a time in FIFO order, priority ones first", async () => {
    h.startWorker(S);
    const hold = await holdWorker();
    const a = await enqueue("record", "a");
    const b = await enqueue("record", "b");
    const urgent = await enqueue("record", "urgent", true);
    // Nothing else starts while one operation is in progress.
    expect((await h.operationManager.get(S, a.id)).status).toBe("pending");
    expect(trace.executed).toEqual(["hold"]);
    hold.release();
    for (const op of [hold.op, a, b, urgent]) expect((await h.waitForFinal(S, op.id)).status).toBe("finished");
    expect(trace.executed).toEqual(["hold", "urgent", "a", "b"]);
  });

  it("ends a throwing operation in error after its rollback, with the reason in the history", async () => {
    h.startWorker(S);
    const op = await enqueue("fail", "x");
    const done = await h.waitForFinal(S, op.id);
    expect(done.status).toBe("error");
    expect(trace.rolledBack).toEqual(["x"]);
    expect((trace.rollbackErrors[0] as Error).message).toBe("boom x");
    expect(events(done)).toEqual([
      "Created",
      "Starting operation",
      "Operation execution failed: boom x",
      "Starting operation rollback",
      "Operation rollback finished with success",
      "Operation finished",
    ]);
    expect(await h.leases.getLease(S, op.id)).toBeUndefined();
  });

  it("records a failed rollback and still ends in error", async () => {
    h.startWorker(S);
    const op = await h.operationManager.enqueue(S, "fail-rollback", {});
    const done = await h.waitForFinal(S, op.id);
    expect(done.status).toBe("error");
    expect(events(done)).toContain("Operation rollback failed, reason: rollback failed too");
    expect(events(done).at(-1)).toBe("Operation finished");
  });

  it("never executes an operation canceled while pending", async () => {
    h.startWorker(S);
    const hold = await holdWorker();
    const canceled = await enqueue("record", "canceled");
    const after = await enqueue("record", "after");
    await h.operationManager.cancel(S, canceled.id);
    hold.release();
    expect((await h.waitForFinal(S, after.id)).status).toBe("finished");
    expect(trace.executed).toEqual(["hold", "after"]);
    const op = await h.operationManager.get(S, canceled.id);
    expect(op.status).toBe("canceled");
    expect(events(op)).not.toContain("Starting operation");
  });

  it("cancels a running operation: its signal fires, its rollback runs and it ends canceled", async () => {
    h.startWorker(S);
    const { op } = await holdWorker("running");
    expect((await h.operationManager.get(S, op.id)).status).toBe("in_progress");
    await h.operationManager.cancel(S, op.id);
    const done = await h.waitForFinal(S, op.id);
    expect(done.status).toBe("canceled");
    expect(trace.signalFired).toEqual(["running"]);
    expect(trace.rolledBack).toEqual(["running"]);
    expect(events(done)).toEqual([
      "Created",
      "Starting operation",
      "Operation canceled: operation canceled by the user",
      "Starting operation rollback",
      "Operation rollback finished with success",
      "Operation finished",
    ]);
    // The worker carries on with the next operation.
    const next = await enqueue("record", "next");
    expect((await h.waitForFinal(S, next.id)).status).toBe("finished");
  });

  it("refuses to cancel a finished operation with conflict", async () => {
    h.startWorker(S);
    const op = await enqueue("record", "done");
    await h.waitForFinal(S, op.id);
    const err = await h.operationManager.cancel(S, op.id).catch((e: unknown) => e);
    expect(isMaestroError(err, "conflict")).toBe(true);
    expect((await h.operationManager.get(S, op.id)).status).toBe("finished");
  });

  it("evicts an operation with no definition or with input its definition refuses", async () => {
    const now = h.clock.now();
    const stray: Operation = {
      id: "stray-op",
      schedulerName: S,
      definitionName: "no_such_operation",
      status: "pending",
      input: {},
      createdAt: now,
      executionHistory: [{ createdAt: now, event: "Created" }],
    };
    const badInput: Operation = { ...stray, id: "bad-input", definitionName: "needs-n", input: { n: "x" } };
    for (const op of [stray, badInput]) {
      await h.operationStorage.createOperation(op);
      await h.queue.enqueue(S, op.id);
    }
    h.startWorker(S);
    const evicted = await h.waitForFinal(S, stray.id);
    expect(evicted.status).toBe("evicted");
    expect(events(evicted)).toEqual(["Created", "Operation evicted: no definition named no_such_operation"]);
    const refused = await h.waitForFinal(S, badInput.id);
    expect(refused.status).toBe("evicted");
    expect(events(refused).at(-1)).toBe("Operation evicted: invalid input: n must be a number");
  });

  it("holds a lease while the operation runs and revokes it afterwards", async () => {
    h.startWorker(S);
    const hold = await holdWorker();
    const running = await h.operationManager.get(S, hold.op.id);
    expect(running.status).toBe("in_progress");
    expect(running.lease?.operationId).toBe(hold.op.id);
    expect(running.lease!.ttl.getTime()).toBe(h.clock.now().getTime() + h.leaseTtlMs);
    expect((await h.operationManager.list(S, "active")).map((o) => o.lease?.operationId)).toEqual([hold.op.id]);
    hold.release();
    const done = await h.waitForFinal(S, hold.op.id);
    expect(done.status).toBe("finished");
    expect(await h.leases.getLease(S, hold.op.id)).toBeUndefined();
    expect((await h.operationManager.list(S, "active")).length).toBe(0);
  });

  it("fails an operation whose lease someone else holds instead of leaving it pending", async () => {
    const op = await enqueue("record", "leased");
    await h.leases.grantLease(S, op.id, 60_000);
    h.startWorker(S);
    const done = await h.waitForFinal(S, op.id);
    expect(done.status).toBe("error");
    expect(events(done).at(-1)).toMatch(/^Operation execution failed: could not take the operation lease/);
    expect(trace.executed).toEqual([]);
  });

  it("ends the operation in flight canceled, after its rollback, when the worker stops", async () => {
    const worker = h.startWorker(S);
    const { op } = await holdWorker("in-flight");
    await worker.stop();
    const done = await h.operationManager.get(S, op.id);
    expect(done.status).toBe("canceled");
    expect(trace.signalFired).toEqual(["in-flight"]);
    expect(trace.rolledBack).toEqual(["in-flight"]);
    expect(events(done)).toContain("Operation canceled: worker is shutting down");
    expect(await h.leases.getLease(S, op.id)).toBeUndefined();
  });

  it("does not hang when stopped just as it picks an operation up, and loses nothing", async () => {
    const worker = h.startWorker(S);
    // The worker is already waiting on the empty queue: enqueue and stop in the same breath.
    const op = await enqueue("block", "racing");
    await worker.stop();
    const after = await h.operationManager.get(S, op.id);
    if (after.status === "pending") {
      // Not started: still queued for the next worker, which runs it.
      expect(await h.queue.pendingIds(S)).toEqual([op.id]);
      h.startWorker(S);
      await waitFor(() => trace.executed.includes("racing"), "the next worker to run it");
      await h.operationManager.cancel(S, op.id);
      expect((await h.waitForFinal(S, op.id)).status).toBe("canceled");
    } else {
      expect(after.status).toBe("canceled");
      expect(trace.signalFired).toEqual(trace.executed);
    }
  });

  it("leaves an operation handed over as the worker stops queued for the next worker", async () => {
    const worker = h.startWorker(S);
    const now = h.clock.now();
    const op: Operation = {
      id: "handed-over",
      schedulerName: S,
      definitionName: "record",
      status: "pending",
      input: { tag: "handed-over" },
      createdAt: now,
      executionHistory: [{ createdAt: now, event: "Created" }],
    };
    await h.operationStorage.createOperation(op);
    // The queue hands the id to the waiting worker synchronously; the stop lands before the worker resumes.
    const enqueued = h.queue.enqueue(S, op.id);
    const stopped = worker.stop();
    await enqueued;
    await stopped;
    expect((await h.operationManager.get(S, op.id)).status).toBe("pending");
    expect(await h.queue.pendingIds(S)).toEqual([op.id]);
    expect(trace.executed).toEqual([]);

    h.startWorker(S);
    expect((await h.waitForFinal(S, op.id)).status).toBe("finished");
    expect(trace.executed).toEqual(["handed-over"]);
    expect(await h.queue.pendingIds(S)).toEqual([]);
  });

  it("renews the lease while the operation runs", async () => {
    await h.close();
    h = await CoreHarness.create({ builtins: false, definitions: definitions(trace, gates), leaseTtlMs: 200 });
    h.startWorker(S);
    const hold = await holdWorker();
    const first = (await h.leases.getLease(S, hold.op.id))!.expiresAt;
    // Well within the TTL, so only a renewal can push the expiry further.
    h.clock.advance(150);
    const renewed = await waitFor(async () => {
      const ttl = (await h.leases.getLease(S, hold.op.id))?.expiresAt;
      return ttl && ttl.getTime() > first.getTime() ? ttl : undefined;
    }, "the lease to be renewed");
    expect(renewed.getTime()).toBe(h.clock.now().getTime() + 200);
    hold.release();
    expect((await h.waitForFinal(S, hold.op.id)).status).toBe("finished");
  });
});
