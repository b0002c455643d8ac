import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openSchedulerStorage } from "../../src/adapters/storage/sql/open-scheduler-storage.js";
import type { Autoscaling } from "../../src/core/entities/scheduler.js";
import { isMaestroError, type MaestroError } from "../../src/core/errors.js";
import type { SchedulerStorage } from "../../src/core/ports/scheduler-storage.js";
import { CoreHarness, waitFor } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

const S = "test-scheduler";

const autoscaling = (enabled: boolean): Autoscaling => ({
  enabled,
  min: 1,
  max: 10,
  cooldown: 0,
  policy: { type: "roomOccupancy", parameters: { roomOccupancy: { readyTarget: 0.5, downThreshold: 0.99 } } },
});

describe("SchedulerManager (PGlite scheduler storage)", () => {
  let storage: SchedulerStorage;
  let h: CoreHarness;

  beforeAll(async () => {
    storage = await openSchedulerStorage({ kind: "pglite" });
  });

  afterAll(async () => {
    await storage.close();
  });

  beforeEach(async () => {
    h = await CoreHarness.create({ schedulers: storage });
  });

  afterEach(async () => {
    await h.close();
  });

  const pending = async (name = S) =>
    (await h.operationStorage.listOperations(name, "pending")).map((o) => o.definitionName);

  async function caught(run: () => Promise<unknown>): Promise<MaestroError> {
    const err = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    return err as MaestroError;
  }

  describe("createScheduler", () => {
    it("refuses an invalid scheduler listing every violation, storing and enqueuing nothing", async () => {
      const bad = validScheduler({ name: "Bad_Name", roomsReplicas: -1, maxSurge: "0" });
      const err = await caught(() => h.schedulerManager.createScheduler(bad));
      expect(isMaestroError(err, "invalid_argument")).toBe(true);
      const fields = err.violations.map((v) => v.field);
      expect(fields).toEqual(expect.arrayContaining(["name", "maxSurge", "roomsReplicas"]));
      expect(err.message).toContain("roomsReplicas");
      expect(await h.schedulers.listSchedulerNames()).toEqual([]);
      expect(await pending("Bad_Name")).toEqual([]);
      expect(await h.queue.pendingIds("Bad_Name")).toEqual([]);
    });

    it("stores the scheduler as creating at v1.0.0 and enqueues create_scheduler", async () => {
      const input = validScheduler({ name: S, state: "in-sync", spec: { version: "v7.3.0" } });
      const created = await h.schedulerManager.createScheduler(input);
      expect(created).toMatchObject({ name: S, state: "creating", spec: { version: "v1.0.0" } });
      expect(created.createdAt).toEqual(h.clock.now());

      const stored = await h.schedulerManager.getScheduler(S);
      expect(stored).toMatchObject({ name: S, game: "test-game", state: "creating", roomsReplicas: 1 });
      expect(stored.spec.version).toBe("v1.0.0");
      expect(stored.spec.containers).toEqual(input.spec.containers);
      expect(await h.schedulerManager.listVersions(S)).toEqual([
        { version: "v1.0.0", isActive: true, createdAt: expect.any(Date) },
      ]);
      const [op] = await h.queuedOperations(S);
      expect(op).toMatchObject({ definitionName: "create_scheduler", status: "pending" });
    });

    it("refuses a second scheduler with the same name without enqueuing again", async () => {
      await h.schedulerManager.createScheduler(validScheduler({ name: S }));
      const err = await caught(() => h.schedulerManager.createScheduler(validScheduler({ name: S, game: "other" })));
      expect(isMaestroError(err, "already_exists")).toBe(true);
      expect(await pending()).toEqual(["create_scheduler"]);
      expect((await h.schedulerManager.getScheduler(S)).game).toBe("test-game");
    });

    it("is brought in sync by its create_scheduler operation", async () => {
      await h.schedulerManager.createScheduler(validScheduler({ name: S }));
      h.startWorker(S);
      const [op] = await h.operationStorage.listOperations(S, "pending");
      expect((await h.waitForFinal(S, op!.id)).status).toBe("finished");
      expect((await h.schedulerManager.getScheduler(S)).state).toBe("in-sync");
    });

    it("is removed again when create_scheduler fails on the runtime", async () => {
      const scheduler = validScheduler({ name: S });
      await h.runtime.createScheduler(scheduler); // its home already exists: the runtime refuses
      await h.schedulerManager.createScheduler(scheduler);
      h.startWorker(S);
      const [op] = await h.operationStorage.listOperations(S, "pending");
      const done = await h.waitForFinal(S, op!.id);
      expect(done.status).toBe("error");
      expect(done.executionHistory.map((e) => e.event)).toContain("Operation rollback finished with success");
      const err = await caught(() => h.schedulerManager.getScheduler(S));
      expect(isMaestroError(err, "not_found")).toBe(true);
    });
  });

  describe("addRooms and removeRooms", () => {
    beforeEach(async () => {
      await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync", roomsReplicas: 2 }));
    });

    it("addRooms enqueues add_rooms, which raises roomsReplicas and starts the rooms", async () => {
      const op = await h.schedulerManager.addRooms(S, 2);
      expect(op).toMatchObject({ definitionName: "add_rooms", status: "pending", input: { amount: 2 } });
      expect(await h.queue.pendingIds(S)).toEqual([op.id]);

      h.startWorker(S);
      expect((await h.waitForFinal(S, op.id)).status).toBe("finished");
      expect((await h.schedulerManager.getScheduler(S)).roomsReplicas).toBe(4);
      expect(await h.rooms.listRoomIds(S)).toHaveLength(2);
      await waitFor(async () => (await h.runtime.listInstances(S)).length === 2, "two room processes");
    });

    it("add_rooms creates at most the configured limit of rooms per operation", async () => {
      await h.close();
      h = await CoreHarness.create({ schedulers: storage, limits: { addLimit: 2, addBatchSize: 1 } });
      await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync", roomsReplicas: 0 }));
      const op = await h.schedulerManager.addRooms(S, 3);
      h.startWorker(S);
      const done = await h.waitForFinal(S, op.id);
      expect(done.status).toBe("finished");
      expect(done.executionHistory.map((e) => e.event)).toContain("added 2 rooms");
      expect(await h.rooms.listRoomIds(S)).toHaveLength(2);
    });

    it("add_rooms fails with the reason when its rooms cannot start, leaving no room behind", async () => {
      const broken = validScheduler({ name: "broken", state: "in-sync", roomsReplicas: 0 });
      broken.spec.containers[0]!.command = [];
      await h.schedulers.createScheduler(broken);
      const op = await h.schedulerManager.addRooms("broken", 2);
      h.startWorker("broken");
      const done = await h.waitForFinal("broken", op.id);
      expect(done.status).toBe("error");
      const failure = done.executionHistory.find((e) => e.event.startsWith("Operation execution failed:"));
      expect(failure?.event).toMatch(/2 of 2 rooms failed: .*spec.containers\[0\].command/s);
      expect(await h.rooms.listRoomIds("broken")).toEqual([]);
    });

    it("removeRooms enqueues remove_rooms scale_down, which lowers roomsReplicas", async () => {
      const op = await h.schedulerManager.removeRooms(S, 2);
      expect(op).toMatchObject({
        definitionName: "remove_rooms",
        input: expect.objectContaining({ amount: 2, reason: "scale_down" }),
      });
      h.startWorker(S);
      expect((await h.waitForFinal(S, op.id)).status).toBe("finished");
      expect((await h.schedulerManager.getScheduler(S)).roomsReplicas).toBe(0);
    });

    it("removeRooms refuses more rooms than roomsReplicas", async () => {
      const err = await caught(() => h.schedulerManager.removeRooms(S, 3));
      expect(isMaestroError(err, "invalid_argument")).toBe(true);
      expect(err.violations).toEqual([{ field: "amount", message: "must be at most roomsReplicas (2)" }]);
      expect(await pending()).toEqual([]);
      expect((await h.schedulerManager.getScheduler(S)).roomsReplicas).toBe(2);
    });

    it("both refuse an amount that is not a positive integer", async () => {
      for (const amount of [0, -1, 1.5, Number.NaN]) {
        expect(isMaestroError(await caught(() => h.schedulerManager.addRooms(S, amount)), "invalid_argument")).toBe(
          true,
        );
        expect(isMaestroError(await caught(() => h.schedulerManager.removeRooms(S, amount)), "invalid_argument")).toBe(
          true,
        );
      }
      expect(await pending()).toEqual([]);
    });

    it("both answer not_found for an unknown scheduler", async () => {
      expect(isMaestroError(await caught(() => h.schedulerManager.addRooms("nope", 1)), "not_found")).toBe(true);
      expect(isMaestroError(await caught(() => h.schedulerManager.removeRooms("nope", 1)), "not_found")).toBe(true);
      expect(await pending("nope")).toEqual([]);
    });

    it("both refuse an autoscaled scheduler, and accept one whose autoscaling is disabled", async () => {
      await h.schedulers.createScheduler(
        validScheduler({ name: "auto", state: "in-sync", roomsReplicas: 2, autoscaling: autoscaling(true) }),
      );
      for (const run of [
        () => h.schedulerManager.addRooms("auto", 1),
        () => h.schedulerManager.removeRooms("auto", 1),
      ]) {
        const err = await caught(run);
        expect(isMaestroError(err, "failed_precondition")).toBe(true);
        expect(err.message).toContain("autoscal");
      }
      expect(await pending("auto")).toEqual([]);
      expect((await h.schedulerManager.getScheduler("auto")).roomsReplicas).toBe(2);

      await h.schedulers.createScheduler(
        validScheduler({ name: "manual", state: "in-sync", roomsReplicas: 2, autoscaling: autoscaling(false) }),
      );
      await h.schedulerManager.addRooms("manual", 1);
      await h.schedulerManager.removeRooms("manual", 1);
      expect(await pending("manual")).toEqual(["add_rooms", "remove_rooms"]);
      await h.queue.clear("auto");
      await h.queue.clear("manual");
    });
  });

  it("deleteScheduler enqueues delete_scheduler and answers not_found for an unknown scheduler", async () => {
    await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync" }));
    const op = await h.schedulerManager.deleteScheduler(S);
    expect(op.definitionName).toBe("delete_scheduler");
    expect(isMaestroError(await caught(() => h.schedulerManager.deleteScheduler("nope")), "not_found")).toBe(true);
  });

  it("delete_scheduler stops every room and removes all records, operation history included", async () => {
    await h.schedulerManager.createScheduler(validScheduler({ name: S, roomsReplicas: 2 }));
    const worker = h.startWorker(S);
    const [create] = await h.operationStorage.listOperations(S, "pending");
    await h.waitForFinal(S, create!.id);
    const add = await h.schedulerManager.addRooms(S, 2);
    expect((await h.waitForFinal(S, add.id)).status).toBe("finished");
    await waitFor(async () => (await h.runtime.listInstances(S)).length === 2, "two room processes");

    // Queue the deletion with an operation behind it, then let a worker run them.
    await worker.stop();
    const op = await h.schedulerManager.deleteScheduler(S);
    const behind = await h.operationManager.enqueueHealthController(S);
    h.startWorker(S);
    const done = await h.waitForFinal(S, op.id);
    expect(done.status).toBe("finished");
    // Only the deletion's own record is left: the history, and what was still queued, went with the scheduler.
    expect(await h.operationStorage.getOperation(S, behind!.id)).toBeUndefined();
    expect(await h.operationStorage.getOperation(S, create!.id)).toBeUndefined();
    expect((await h.operationManager.list(S, "final")).map((o) => o.id)).toEqual([op.id]);
    expect(await h.runtime.listInstances(S)).toEqual([]);
    expect(await h.rooms.listRoomIds(S)).toEqual([]);
    expect(await h.instances.listInstances(S)).toEqual([]);
    expect(isMaestroError(await caught(() => h.schedulerManager.getScheduler(S)), "not_found")).toBe(true);
    expect(await h.schedulers.listSchedulerNames()).toEqual([]);
  });

  it("getSchedulersInfo counts rooms by status", async () => {
    await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync", roomsReplicas: 3 }));
    const now = h.clock.now();
    const base = { schedulerName: S, version: "v1.0.0", pingStatus: "ready" as const, metadata: {} };
    const extra = { isValidationRoom: false, runningMatches: 0, createdAt: now, lastPingAt: now };
    for (const [id, status] of [
      ["a", "ready"],
      ["b", "ready"],
      ["c", "occupied"],
      ["d", "pending"],
      ["e", "terminating"],
    ] as const) {
      await h.rooms.createRoom({ id, status, ...base, ...extra });
    }
    const [info] = await h.schedulerManager.getSchedulersInfo("test-game");
    expect(info).toMatchObject({
      name: S,
      roomsReplicas: 3,
      roomsReady: 2,
      roomsOccupied: 1,
      roomsPending: 1,
      roomsTerminating: 1,
    });
    expect(await h.schedulerManager.getSchedulersInfo("other-game")).toEqual([]);
  });
});
