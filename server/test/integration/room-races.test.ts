import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Scheduler } from "../../src/core/entities/scheduler.js";
import { REMOVE_ROOMS } from "../../src/core/operations/remove-rooms/remove-rooms.js";
import { CoreHarness, gameRoom, instanceOf } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

const S = "races";

/**
 * Regressions of issue 15: a second writer lands between what a first writer read and what it writes. The second
 * writer (a matchmaker's allocation, a room's ping) is run at that exact point by wrapping the storage call the first
 * writer reads with — the storage itself is the real memory adapter.
 */
describe("room writes racing other writers", () => {
  let h: CoreHarness;
  let scheduler: Scheduler;

  beforeEach(async () => {
    h = await CoreHarness.create();
    scheduler = validScheduler({ name: S, state: "in-sync", roomsReplicas: 2 });
    await h.schedulers.createScheduler(scheduler);
  });

  afterEach(async () => {
    await h.close();
  });

  async function seedReady(ids: string[]): Promise<void> {
    for (const id of ids) {
      await h.rooms.createRoom(gameRoom({ id, schedulerName: S, createdAt: h.clock.now(), lastPingAt: h.clock.now() }));
      await h.instances.upsertInstance(instanceOf(id, "ready", S));
    }
  }

  async function runRemoveRooms(input: Record<string, unknown>): Promise<string[]> {
    const run = h.runOperation(S, REMOVE_ROOMS, input, "rm");
    await run.done;
    return run.history;
  }

  it("scale-down never removes a room a matchmaker allocated after the rooms were listed", async () => {
    await seedReady(["a", "b", "c"]);
    const list = h.rooms.listRooms.bind(h.rooms);
    let allocated: string | undefined;
    h.rooms.listRooms = async (name, opts) => {
      const rooms = await list(name, opts);
      // The matchmaker takes the lowest-id ready room: the one deletion priority also picks first.
      allocated ??= (await h.rooms.allocateRoom(S, { now: h.clock.now(), ttlMs: h.timeouts.allocationTtlMs }))?.id;
      return rooms;
    };
    await runRemoveRooms({ amount: 1, reason: "scale_down" });
    expect(allocated).toBe("a");
    expect(await h.rooms.getRoom(S, "a")).toMatchObject({ status: "allocated" });
    const statuses = await Promise.all(["b", "c"].map(async (id) => (await h.rooms.getRoom(S, id))?.status));
    // Still one room removed: the next candidate in place of the allocated one.
    expect(statuses.filter((s) => s !== "ready")).toHaveLength(1);
  });

  it("remove_rooms by amount leaves rooms in a match alone even when the amount asks for more", async () => {
    await seedReady(["a", "b", "c"]);
    await h.rooms.allocateRoom(S, { now: h.clock.now(), ttlMs: h.timeouts.allocationTtlMs });
    await h.rooms.applyPing(S, "b", {
      status: "occupied",
      runningMatches: 1,
      now: h.clock.now(),
      maxMatches: 1,
      allocationTtlMs: h.timeouts.allocationTtlMs,
    });
    await runRemoveRooms({ amount: 3, reason: "scale_down" });
    expect((await h.rooms.getRoom(S, "a"))?.status).toBe("allocated");
    expect((await h.rooms.getRoom(S, "b"))?.status).toBe("occupied");
    expect((await h.rooms.getRoom(S, "c"))?.status ?? "gone").not.toBe("ready");
  });

  it("an instance update never overwrites a ping that landed after the room was read", async () => {
    await h.rooms.createRoom(
      gameRoom({ id: "r1", schedulerName: S, status: "pending", pingStatus: "unknown", lastPingAt: h.clock.now() }),
    );
    await h.instances.upsertInstance(instanceOf("r1", "pending", S));
    const pingAt = h.clock.advance(1_000);
    let pinged = false;
    const ping = async () => {
      if (pinged) return;
      pinged = true;
      await h.roomManager.updateRoomWithPing(scheduler, "r1", { status: "ready" });
    };
    // Whichever way the room manager reads the room, the ping lands in between its read and its write.
    const get = h.rooms.getRoom.bind(h.rooms);
    h.rooms.getRoom = async (name, id, opts) => {
      const room = await get(name, id, opts);
      await ping();
      return room;
    };
    const rooms = h.rooms as unknown as Record<string, unknown>;
    const apply = rooms["applyInstanceStatus"] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (apply) {
      rooms["applyInstanceStatus"] = async (...args: unknown[]) => {
        await ping();
        return apply.apply(h.rooms, args);
      };
    }
    await h.roomManager.updateInstance(scheduler, instanceOf("r1", "ready", S));
    h.rooms.getRoom = get;
    expect(await h.rooms.getRoom(S, "r1")).toMatchObject({
      status: "ready",
      pingStatus: "ready",
      lastPingAt: pingAt,
    });
  });

  it("an instance update never turns a room allocated after it was read back to ready", async () => {
    await seedReady(["r1"]);
    await h.rooms.applyPing(S, "r1", {
      status: "ready",
      runningMatches: 0,
      now: h.clock.now(),
      maxMatches: 1,
      allocationTtlMs: h.timeouts.allocationTtlMs,
    });
    await h.rooms.updateRoom({ ...(await h.rooms.getRoom(S, "r1"))!, revision: undefined, status: "unready" });
    let allocated = false;
    const allocate = async () => {
      if (allocated) return;
      allocated = true;
      // Back to ready first (a ping), then a matchmaker takes it.
      await h.roomManager.updateRoomWithPing(scheduler, "r1", { status: "ready" });
      await h.rooms.allocateRoom(S, { now: h.clock.now(), ttlMs: h.timeouts.allocationTtlMs });
    };
    const get = h.rooms.getRoom.bind(h.rooms);
    h.rooms.getRoom = async (name, id, opts) => {
      const room = await get(name, id, opts);
      await allocate();
      return room;
    };
    const rooms = h.rooms as unknown as Record<string, unknown>;
    const apply = rooms["applyInstanceStatus"] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (apply) {
      rooms["applyInstanceStatus"] = async (...args: unknown[]) => {
        await allocate();
        return apply.apply(h.rooms, args);
      };
    }
    await h.roomManager.updateInstance(scheduler, instanceOf("r1", "ready", S));
    h.rooms.getRoom = get;
    expect((await h.rooms.getRoom(S, "r1"))?.status).toBe("allocated");
  });
});
