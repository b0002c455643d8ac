import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installFailpoints } from "../../src/core/failpoints.js";
import { ADD_ROOMS } from "../../src/core/operations/add-rooms/add-rooms.js";
import { CoreHarness, deferred, waitFor } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

const S = "pool";

/**
 * Regression of issue 14 (10,000 rooms on kwok): add_rooms created rooms in batches of addBatchSize and waited for the
 * slowest of each batch before starting the next, so one slow runtime call held every other creation back. Each of the
 * addBatchSize creators now starts its next room as soon as its last one is done.
 */
describe("add_rooms keeps addBatchSize creations in flight", () => {
  let h: CoreHarness;

  beforeEach(async () => {
    h = await CoreHarness.create({ limits: { addBatchSize: 2 } });
    await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync", roomsReplicas: 0 }));
  });

  afterEach(async () => {
    installFailpoints(undefined);
    await h.close();
  });

  it("a stalled creation does not hold back the rooms after it", async () => {
    const gate = deferred();
    let spawned = 0;
    let created = 0;
    installFailpoints(async (name) => {
      // The first room's runtime call stalls (a slow API server answer) until the others are done.
      if (name === "room/spawned" && spawned++ === 0) await gate.promise;
      if (name === "add_rooms/room-created") created++;
    });
    const { done, history } = h.runOperation(S, ADD_ROOMS, { amount: 6 }, "add");
    // With batches, only the stalled room's batch partner got through (1); the other creator carries on alone (5).
    await waitFor(() => created === 5, "the 5 rooms not stalled to be created", 10_000);
    gate.resolve();
    await done;
    expect(created).toBe(6);
    expect(history).toEqual(["rooms target: 6 (from 0)", "added 6 rooms"]);
    expect((await h.rooms.listRooms(S)).length).toBe(6);
  });
});
