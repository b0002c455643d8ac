import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GameRoom, InstanceStatusType, RoomStatusName } from "../../src/core/entities/game-room.js";
import type { Scheduler } from "../../src/core/entities/scheduler.js";
import { HEALTH_CONTROLLER } from "../../src/core/operations/health-controller/health-controller.js";
import { CoreHarness, gameRoom, instanceOf, waitFor } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

const S = "test-scheduler";

describe("health_controller", () => {
  let h: CoreHarness;
  let scheduler: Scheduler;
  let history: string[];

  beforeEach(async () => {
    h = await CoreHarness.create();
    scheduler = validScheduler({ name: S, state: "in-sync", roomsReplicas: 2 });
    await h.schedulers.createScheduler(scheduler);
    history = [];
  });

  afterEach(async () => {
    await h.close();
  });

  async function setReplicas(roomsReplicas: number): Promise<void> {
    scheduler = { ...(await h.schedulers.getScheduler(S)), roomsReplicas };
    await h.schedulers.updateScheduler(scheduler);
  }

  /** Stores a room and its instance the way the room manager and runtime watcher would have left them. */
  async function seed(
    id: string,
    status: RoomStatusName,
    instance: InstanceStatusType | undefined,
    age: { created?: number; ping?: number } = {},
  ): Promise<GameRoom> {
    const room = gameRoom({
      id,
      schedulerName: S,
      status,
      createdAt: h.clock.ago(age.created ?? 1_000),
      lastPingAt: h.clock.ago(age.ping ?? age.created ?? 1_000),
    });
    await h.rooms.createRoom(room);
    if (instance) await h.instances.upsertInstance(instanceOf(id, instance, S));
    return room;
  }

  /** Runs one health-controller cycle directly, as the worker would. */
  let noAction = false;
  async function runHealthController(): Promise<void> {
    const run = h.runOperation(S, HEALTH_CONTROLLER, {}, "hc");
    await run.done;
    history.push(...run.history);
    noAction = run.noAction();
  }

  const queued = async () =>
    (await h.queuedOperations(S)).map((op) => ({ definitionName: op.definitionName, input: op.input }));

  it("does nothing when the available rooms match roomsReplicas", async () => {
    await seed("a", "ready", "ready");
    await seed("b", "occupied", "ready");
    await runHealthController();
    expect(await queued()).toEqual([]);
    expect(history).toEqual(["2 available rooms, 2 desired; no action"]);
    expect(noAction).toBe(true);
  });

  it("enqueues add_rooms for the missing rooms at the head of the queue", async () => {
    await setReplicas(3);
    const waiting = await h.operationManager.enqueue(S, "create_scheduler", {});
    await seed("a", "ready", "ready");
    await seed("coming", "pending", "pending"); // a pending instance counts: it is on its way
    await runHealthController();
    expect(await queued()).toEqual([
      { definitionName: "add_rooms", input: expect.objectContaining({ amount: 1 }) },
      { definitionName: "create_scheduler", input: {} },
    ]);
    expect((await h.queue.pendingIds(S)).at(-1)).toBe(waiting.id);
    expect(history[0]).toMatch(/^2 available rooms, 3 desired; adding 1 rooms/);
  });

  it("enqueues remove_rooms scale_down for the surplus", async () => {
    await setReplicas(1);
    for (const id of ["a", "b", "c"]) await seed(id, "ready", "ready");
    await runHealthController();
    expect(await queued()).toEqual([
      { definitionName: "remove_rooms", input: expect.objectContaining({ amount: 2, reason: "scale_down" }) },
    ]);
  });

  it("replaces rooms past the initialization, ping and deletion timeouts", async () => {
    const t = h.timeouts;
    await seed("never-ready", "unready", "ready", { created: t.initializationMs + 1 });
    await seed("silent", "ready", "ready", { created: t.pingMs * 2, ping: t.pingMs + 1 });
    await seed("stuck-leaving", "terminating", "terminating", { ping: t.deletionMs + 1 });
    await seed("healthy", "ready", "ready");
    await runHealthController();
    const ops = await queued();
    expect(ops).toEqual([
      { definitionName: "add_rooms", input: expect.objectContaining({ amount: 1 }) },
      { definitionName: "remove_rooms", input: expect.objectContaining({ reason: "expired_room" }) },
    ]);
    expect([...((ops[1]?.input.roomsIds ?? []) as string[])].sort()).toEqual([
      "never-ready",
      "silent",
      "stuck-leaving",
    ]);
  });

  it("backs off replacing rooms that keep crashing, and says why", async () => {
    const crash = async (id: string) => {
      await seed(id, "error", undefined);
      await h.instances.upsertInstance({
        id,
        schedulerName: S,
        status: { type: "error", description: "exit code 1: Error: Cannot find module 'game.js'" },
      });
    };
    await seed("ok", "ready", "ready");
    await crash("crash-1");
    await runHealthController();
    // The first crash is replaced at once.
    expect((await queued()).map((o) => o.definitionName)).toEqual(["add_rooms", "remove_rooms"]);

    await h.queue.clear(S);
    await crash("crash-2");
    history = [];
    await runHealthController();
    expect((await queued()).map((o) => o.definitionName)).toEqual(["remove_rooms"]);
    expect(history[0]).toContain(
      "waiting 1s before adding rooms: 2 rooms crashed, last: exit code 1: Error: Cannot find module 'game.js'",
    );

    // Seeing the same crashed rooms again (their removal still queued) does not lengthen the wait.
    await h.queue.clear(S);
    h.clock.advance(1_001);
    await runHealthController();
    expect((await queued()).map((o) => o.definitionName)).toContain("add_rooms");

    // A room created after the crashes that becomes ready clears the record.
    await h.queue.clear(S);
    for (const id of ["crash-1", "crash-2"]) await h.roomManager.cleanRoomState(S, id);
    h.clock.advance(1);
    await seed("fixed", "ready", "ready", { created: 0 });
    await setReplicas(3);
    await crash("crash-3");
    history = [];
    await runHealthController();
    expect((await queued()).map((o) => o.definitionName)).toEqual(["add_rooms", "remove_rooms"]);
  });

  it("rolls rooms of an older major version over to the active one, a surge at a time", async () => {
    await h.schedulers.createSchedulerVersion({ ...scheduler, spec: { ...scheduler.spec, version: "v2.0.0" } });
    await h.schedulers.switchActiveVersion(S, "v2.0.0");
    await seed("old-1", "ready", "ready");
    await seed("old-2", "occupied", "ready");
    await runHealthController();
    expect(await queued()).toEqual([{ definitionName: "add_rooms", input: expect.objectContaining({ amount: 1 }) }]);
    expect(history[0]).toContain("rolling update to v2.0.0");

    await h.queue.clear(S);
    await h.rooms.createRoom(gameRoom({ id: "new-1", schedulerName: S, version: "v2.0.0", status: "ready" }));
    await h.instances.upsertInstance(instanceOf("new-1", "ready", S));
    await runHealthController();
    // The new room serves, so one old room may go: the ready one before the occupied one.
    expect(await queued()).toEqual([
      {
        definitionName: "remove_rooms",
        input: expect.objectContaining({ roomsIds: ["old-1"], reason: "rolling_update_replace" }),
      },
    ]);
  });

  it("follows the autoscaling policy instead of roomsReplicas, with downscale cooldown", async () => {
    scheduler = {
      ...(await h.schedulers.getScheduler(S)),
      autoscaling: {
        enabled: true,
        min: 1,
        max: 10,
        cooldown: 60,
        policy: { type: "roomOccupancy", parameters: { roomOccupancy: { readyTarget: 0.5, downThreshold: 0.99 } } },
      },
    };
    await h.schedulers.updateScheduler(scheduler);
    await seed("busy-1", "occupied", "ready");
    await seed("busy-2", "occupied", "ready");
    await runHealthController();
    // 2 matches, half the slots free → 4 rooms.
    expect(await queued()).toEqual([{ definitionName: "add_rooms", input: expect.objectContaining({ amount: 2 }) }]);

    await h.queue.clear(S);
    for (const id of ["idle-1", "idle-2", "idle-3", "idle-4"]) await seed(id, "ready", "ready");
    await runHealthController();
    // 6 rooms, 4 wanted: down by 2, and the downscale is remembered for the cooldown.
    expect(await queued()).toEqual([
      { definitionName: "remove_rooms", input: expect.objectContaining({ amount: 2, reason: "scale_down" }) },
    ]);
    expect((await h.schedulers.getScheduler(S)).lastDownscaleAt).toEqual(h.clock.now());

    await h.queue.clear(S);
    await seed("idle-5", "ready", "ready");
    history = [];
    await runHealthController();
    expect(await queued()).toEqual([]);
    expect(history[0]).toContain("downscale held: downscale cooldown");
    h.clock.advance(61_000);
    await runHealthController();
    expect((await queued()).map((o) => o.definitionName)).toEqual(["remove_rooms"]);
  });

  it("expires rooms once the clock passes the timeout, not before", async () => {
    await seed("a", "ready", "ready", { ping: 0 });
    await seed("b", "ready", "ready", { ping: 0 });
    h.clock.advance(h.timeouts.pingMs);
    await runHealthController();
    expect(await queued()).toEqual([]);
    h.clock.advance(1);
    await runHealthController();
    expect((await queued()).map((o) => o.definitionName)).toEqual(["add_rooms", "remove_rooms"]);
  });

  it("replaces terminated rooms and rooms in error, and does not count terminating ones", async () => {
    await seed("done", "terminated", "ready");
    await seed("crashed", "error", "error");
    await seed("leaving", "terminating", "terminating");
    await runHealthController();
    const ops = await queued();
    expect(ops[0]).toEqual({ definitionName: "add_rooms", input: expect.objectContaining({ amount: 2 }) });
    expect(ops[1]?.definitionName).toBe("remove_rooms");
    expect([...((ops[1]?.input.roomsIds ?? []) as string[])].sort()).toEqual(["crashed", "done"]);
    expect(ops).toHaveLength(2);
  });

  it("ignores rooms whose instance status is unknown", async () => {
    await setReplicas(1);
    await seed("a", "ready", "ready");
    await seed("mystery", "ready", "unknown", { ping: h.timeouts.pingMs * 2 });
    await runHealthController();
    expect(await queued()).toEqual([]);
  });

  it("removes room records without an instance and stops instances without a room", async () => {
    await setReplicas(1);
    await seed("no-instance", "ready", undefined);
    await h.instances.upsertInstance(instanceOf("no-room", "ready", S));
    // A real room process whose room record was lost.
    const { room } = await h.roomManager.createRoom(scheduler);
    const real = await waitFor(
      async () => (await h.runtime.listInstances(S)).find((i) => i.id === room.id && i.status.type === "ready"),
      "the room process to run",
    );
    await h.instances.upsertInstance(real);
    await h.rooms.deleteRoom(S, room.id);

    await runHealthController();
    expect(await h.rooms.getRoom(S, "no-instance")).toBeUndefined();
    expect(await h.instances.getInstance(S, "no-room")).toBeUndefined();
    await waitFor(async () => (await h.runtime.listInstances(S)).length === 0, "the orphan process to stop");
    expect(history[0]).toContain("cleaned 3 nonexistent rooms");
    expect(await queued()).toEqual([{ definitionName: "add_rooms", input: expect.objectContaining({ amount: 1 }) }]);
  });

  it("leaves a terminating scheduler alone", async () => {
    scheduler = { ...(await h.schedulers.getScheduler(S)), state: "terminating" };
    await h.schedulers.updateScheduler(scheduler);
    await seed("orphan", "ready", undefined);
    await runHealthController();
    expect(await queued()).toEqual([]);
    expect(await h.rooms.getRoom(S, "orphan")).toBeDefined();
  });

  it("drives real rooms to roomsReplicas through the worker, up and down", async () => {
    h.startWorker(S);
    const hc = await h.operationManager.enqueueHealthController(S);
    expect((await h.waitForFinal(S, hc!.id)).status).toBe("finished");
    await waitFor(async () => (await h.runtime.listInstances(S)).length === 2, "two room processes");
    // The processes exist before add_rooms records its end: wait for the record, not for the processes.
    const added = await waitFor(
      async () => (await h.operationManager.list(S, "final")).find((o) => o.definitionName === "add_rooms"),
      "add_rooms to finish",
    );
    expect(added.status).toBe("finished");
    expect((await h.rooms.listRooms(S)).map((r) => r.status)).toEqual(["pending", "pending"]);

    // What the runtime watcher and the rooms would report.
    for (const instance of await waitFor(async () => {
      const list = await h.runtime.listInstances(S);
      return list.every((i) => i.status.type === "ready") ? list : undefined;
    }, "both instances ready")) {
      await h.roomManager.updateInstance(scheduler, instance);
      await h.roomManager.updateRoomWithPing(scheduler, instance.id, { status: "ready" });
    }
    const [keep, drop] = (await h.rooms.listRooms(S)).sort((a, b) => (a.id < b.id ? -1 : 1));
    await h.roomManager.updateRoomWithPing(scheduler, keep!.id, { status: "occupied" });

    await setReplicas(1);
    const second = await h.operationManager.enqueueHealthController(S);
    expect((await h.waitForFinal(S, second!.id)).status).toBe("finished");
    const removed = await waitFor(
      async () => (await h.operationManager.list(S, "final")).find((o) => o.definitionName === "remove_rooms"),
      "remove_rooms to run",
    );
    expect((await h.waitForFinal(S, removed.id)).status).toBe("finished");
    // The ready room goes, the occupied one stays.
    expect((await h.rooms.getRoom(S, drop!.id))?.status).toBe("terminating");
    expect((await h.rooms.getRoom(S, keep!.id))?.status).toBe("occupied");
    await waitFor(
      async () => (await h.runtime.listInstances(S)).map((i) => i.id).join() === keep!.id,
      "only the occupied room's process to remain",
    );
  });
});
