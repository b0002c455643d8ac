import { afterEach, describe, expect, it } from "vitest";
import { DELETE_SCHEDULER } from "../../src/core/operations/delete-scheduler/delete-scheduler.js";
import { CoreHarness } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

/**
 * delete_scheduler is re-run when its worker stopped mid-way. A worker killed after the deletion's last step (the
 * scheduler's record removed) left it in progress; if the user creates the scheduler again meanwhile, the new owner's
 * recovery finds the old deletion among the name's operations and queues it: it must not delete the new scheduler.
 */
describe("a deletion re-run after its scheduler was created again under the same name", () => {
  let h: CoreHarness;

  afterEach(async () => {
    await h?.close();
  });

  it("finishes without deleting the new scheduler", async () => {
    h = await CoreHarness.create();
    const S = "recreated";
    await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync", roomsReplicas: 0 }));
    await h.runtime.createScheduler(await h.schedulers.getScheduler(S));
    const created = await h.operationManager.enqueue(S, DELETE_SCHEDULER, {});
    await h.queue.clear(S);
    // The killed worker: took the lease, ran the whole deletion (the record went), never reported.
    await h.runAsStoppedWorker(created);
    await expect(h.schedulers.getScheduler(S)).rejects.toMatchObject({ code: "not_found" });

    // The user creates it again; its owner recovers the old deletion it finds among the name's operations.
    await h.schedulers.createScheduler(validScheduler({ name: S, state: "in-sync", roomsReplicas: 0 }));
    const recovered = await h.recoverAbandoned(S);
    expect(recovered.requeued).toEqual([created.id]);
    h.startWorker(S);
    const done = await h.waitForFinal(S, created.id);
    expect(done.status).toBe("finished");
    expect((await h.schedulers.getScheduler(S)).state).toBe("in-sync");
  });
});
