import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openSchedulerStorage } from "../../src/adapters/storage/sql/open-scheduler-storage.js";
import { isMaestroError, MaestroError } from "../../src/core/errors.js";
import { CREATE_SCHEDULER } from "../../src/core/operations/create-scheduler/create-scheduler.js";
import type { OperationStorage } from "../../src/core/ports/operation-storage.js";
import type { SchedulerStorage } from "../../src/core/ports/scheduler-storage.js";
import { OperationManager } from "../../src/core/services/operation-manager.js";
import { completeSchedulerCreation, createSchedulerOperationId } from "../../src/core/services/scheduler-creation.js";
import { SchedulerManager } from "../../src/core/services/scheduler-manager.js";
import { CoreHarness } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

/** Faults switched on by the test, on top of the real stores (PGlite for schedulers, memory for operations). */
const faults = { createOperation: false, deleteScheduler: false, markInSync: false };

function faulty<T extends object>(target: T, method: string, when: (args: unknown[]) => boolean): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function") return value;
      if (prop !== method) return value.bind(obj);
      return async (...args: unknown[]) => {
        if (when(args)) throw new MaestroError("unavailable", `injected fault in ${method}`);
        return value.apply(obj, args);
      };
    },
  });
}

describe("atomic create: a scheduler and its create_scheduler operation appear together or not at all", () => {
  let sql: SchedulerStorage;
  let h: CoreHarness;

  beforeAll(async () => {
    const real = await openSchedulerStorage({ kind: "pglite" });
    sql = faulty(
      faulty(real, "deleteScheduler", () => faults.deleteScheduler),
      "updateScheduler",
      (args) => faults.markInSync && (args[0] as { state?: string }).state === "in-sync",
    );
  });
  afterAll(async () => sql?.close());
  afterEach(async () => {
    Object.assign(faults, { createOperation: false, deleteScheduler: false, markInSync: false });
    await h?.close();
  });

  /** The harness's scheduler manager, except that its operation writes go through the fault switch. */
  function managerWithFaults(): SchedulerManager {
    const operations = new OperationManager({
      operations: faulty(h.operationStorage as OperationStorage, "createOperation", () => faults.createOperation),
      queue: h.queue,
      leases: h.leases,
      registry: h.registry,
      clock: h.clock,
    });
    return new SchedulerManager({ schedulers: h.schedulers, rooms: h.rooms, operations, clock: h.clock });
  }

  const createOps = async (name: string) =>
    (await h.operationStorage.listOperations(name, "pending")).filter((op) => op.definitionName === CREATE_SCHEDULER);

  it("a failed enqueue leaves no scheduler behind", async () => {
    h = await CoreHarness.create({ schedulers: sql });
    faults.createOperation = true;
    const err = await managerWithFaults()
      .createScheduler(validScheduler({ name: "half-a" }))
      .catch((e: unknown) => e);
    expect(isMaestroError(err, "unavailable")).toBe(true);
    expect(await h.schedulers.listSchedulerNames()).not.toContain("half-a");
    expect(await createOps("half-a")).toEqual([]);
  });

  it("a scheduler stored by a call that died before queueing is completed by the reconciler, once", async () => {
    h = await CoreHarness.create({ schedulers: sql });
    // The enqueue fails and so does taking the scheduler back: as if the process died between the two writes.
    faults.createOperation = true;
    faults.deleteScheduler = true;
    await managerWithFaults()
      .createScheduler(validScheduler({ name: "half-b" }))
      .catch(() => undefined);
    faults.createOperation = false;
    faults.deleteScheduler = false;
    const stored = await h.schedulers.getScheduler("half-b");
    expect(stored.state).toBe("creating");
    expect(await createOps("half-b")).toEqual([]);

    const deps = { schedulers: h.schedulers, operations: h.operationManager };
    expect(await completeSchedulerCreation("half-b", deps)).toBe(true);
    // Idempotent: a second pass, or the original call's retry racing it, adds nothing.
    expect(await completeSchedulerCreation("half-b", deps)).toBe(false);
    const ops = await createOps("half-b");
    expect(ops.map((op) => op.id)).toEqual([createSchedulerOperationId(stored)]);
    expect(await h.queue.pendingIds("half-b")).toEqual([ops[0]!.id]);

    h.startWorker("half-b");
    const done = await h.waitForFinal("half-b", ops[0]!.id);
    expect(done.status).toBe("finished");
    expect((await h.schedulers.getScheduler("half-b")).state).toBe("in-sync");
    // Created: nothing left to complete, ever.
    expect(await completeSchedulerCreation("half-b", deps)).toBeUndefined();
  });

  it("a normal create queues exactly one create operation the reconciler recognises", async () => {
    h = await CoreHarness.create({ schedulers: sql });
    const created = await h.schedulerManager.createScheduler(validScheduler({ name: "whole" }));
    expect(await completeSchedulerCreation("whole", { schedulers: h.schedulers, operations: h.operationManager })).toBe(
      false,
    );
    expect((await createOps("whole")).map((op) => op.id)).toEqual([createSchedulerOperationId(created)]);
    expect(await h.queue.pendingIds("whole")).toHaveLength(1);
  });

  it("a create_scheduler rollback removes the scheduler and what the runtime prepared for it", async () => {
    h = await CoreHarness.create({ schedulers: sql });
    faults.markInSync = true;
    await h.schedulerManager.createScheduler(validScheduler({ name: "rolled-back" }));
    const [op] = await createOps("rolled-back");
    h.startWorker("rolled-back");
    const done = await h.waitForFinal("rolled-back", op!.id);
    expect(done.status).toBe("error");
    expect(done.executionHistory.map((e) => e.event)).toContain("Operation rollback finished with success");
    expect(await h.schedulers.listSchedulerNames()).not.toContain("rolled-back");
    expect(existsSync(join(h.dataDir, "rooms", "rolled-back"))).toBe(false);
  });
});
