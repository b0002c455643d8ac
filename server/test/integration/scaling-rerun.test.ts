import { afterEach, describe, expect, it } from "vitest";
import type { Operation } from "../../src/core/entities/operation.js";
import { installFailpoints } from "../../src/core/failpoints.js";
import { ADD_ROOMS } from "../../src/core/operations/add-rooms/add-rooms.js";
import { REMOVE_ROOMS } from "../../src/core/operations/remove-rooms/remove-rooms.js";
import { CoreHarness, deferred, waitFor } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

const S = "scaling";
const LEASE_TTL_MS = 10_000;

/**
 * A scaling request the API accepted (add-rooms / remove-rooms, which also move roomsReplicas) whose worker stopped
 * mid-way: the takeover's recovery must get it done once. It used to end `error`, with roomsReplicas moved or not
 * depending on where the worker stopped; run again from the start it would move roomsReplicas and the rooms twice.
 */
describe("add_rooms and remove_rooms whose worker stopped mid-way", () => {
  let h: CoreHarness;

  afterEach(async () => {
    installFailpoints(undefined);
    await h?.close();
  });

  /** The takeover: recovery of what the stopped worker left, then this replica's worker. */
  async function takeOver(op: Operation): Promise<Operation> {
    await h.recoverAbandoned(S);
    h.startWorker(S);
    return h.waitForFinal(S, op.id);
  }

  const staying = async () => (await h.rooms.listRooms(S)).filter((r) => r.status !== "terminating").length;

  it("add_rooms stopped after its second room: finished, roomsReplicas raised once, the missing room added", async () => {
    h = await CoreHarness.create({ limits: { addBatchSize: 1 }, leaseTtlMs: LEASE_TTL_MS });
    await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync", roomsReplicas: 1 }));
    await h.roomManager.createRoom(await h.schedulers.getScheduler(S));
    const op = await h.acceptedOperation(S, ADD_ROOMS, { amount: 3, adjustReplicas: true });
    await h.runAsStoppedWorker(op, { point: "add_rooms/room-created", hit: 2 });
    expect(await staying()).toBe(3);

    const done = await takeOver(op);
    expect(done.status, JSON.stringify(done.executionHistory)).toBe("finished");
    expect((await h.schedulers.getScheduler(S)).roomsReplicas).toBe(4);
    expect(await staying()).toBe(4);
  });

  it("add_rooms in flight when its worker stops (shutdown past the drain): handed back, the next worker completes it once", async () => {
    h = await CoreHarness.create({ limits: { addBatchSize: 1 }, leaseTtlMs: LEASE_TTL_MS });
    await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync", roomsReplicas: 1 }));
    await h.roomManager.createRoom(await h.schedulers.getScheduler(S));
    const op = await h.operationManager.enqueue(S, ADD_ROOMS, { amount: 3, adjustReplicas: true });
    const gate = deferred();
    let hits = 0;
    installFailpoints(async (name) => {
      if (name === "add_rooms/room-created" && ++hits === 2) await gate.promise;
    });
    const worker = h.startWorker(S);
    await waitFor(() => hits === 2, "the second room created");
    const stopped = worker.stop();
    gate.resolve();
    await stopped;
    const handedBack = await h.operationStorage.getOperation(S, op.id);
    expect(handedBack?.status, JSON.stringify(handedBack?.executionHistory)).toBe("pending");
    expect(await h.queue.pendingIds(S)).toEqual([op.id]);

    h.startWorker(S);
    const done = await h.waitForFinal(S, op.id);
    expect(done.status, JSON.stringify(done.executionHistory)).toBe("finished");
    expect((await h.schedulers.getScheduler(S)).roomsReplicas).toBe(4);
    expect(await staying()).toBe(4);
  });

  it("remove_rooms stopped while removing: finished, roomsReplicas lowered once, no room removed twice over", async () => {
    h = await CoreHarness.create({ leaseTtlMs: LEASE_TTL_MS });
    await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync", roomsReplicas: 5 }));
    const scheduler = await h.schedulers.getScheduler(S);
    for (let i = 0; i < 5; i++) await h.roomManager.createRoom(scheduler);
    const op = await h.acceptedOperation(S, REMOVE_ROOMS, { amount: 3, adjustReplicas: true, reason: "scale_down" });
    // The three claims go together; the worker stops at the third.
    await h.runAsStoppedWorker(op, { point: "room/removal-claimed", hit: 3 });

    const done = await takeOver(op);
    expect(done.status, JSON.stringify(done.executionHistory)).toBe("finished");
    expect((await h.schedulers.getScheduler(S)).roomsReplicas).toBe(2);
    expect(await staying()).toBe(2);
  });
});
