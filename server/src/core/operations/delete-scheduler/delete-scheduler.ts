import { isMaestroError } from "../../errors.js";
import { failpoint } from "../../failpoints.js";
import type { OperationDefinition } from "../definition.js";
import { asObject } from "../input.js";
import type { OperationServices } from "../services.js";

export const DELETE_SCHEDULER = "delete_scheduler";

/**
 * Stops every room, removes the scheduler's home on the runtime, its room records, the scheduler itself and its
 * operation history. This operation's own record is kept so its outcome stays readable.
 */
export function deleteSchedulerOperation(s: OperationServices): OperationDefinition<Record<string, never>> {
  return {
    name: DELETE_SCHEDULER,
    // Every step converges: an attempt after a worker died mid-way finishes the deletion instead of leaving the
    // scheduler `terminating` for ever (a non-retryable operation would end `error` with nothing undone).
    retryable: true,
    parseInput: (input) => (asObject(input, DELETE_SCHEDULER), {}),
    async execute(ctx) {
      const opts = { signal: ctx.signal };
      const name = ctx.schedulerName;
      // Gone already: an earlier attempt removed the record, its last step.
      const scheduler = await s.schedulers.getScheduler(name, opts).catch((err: unknown) => {
        if (isMaestroError(err, "not_found")) return undefined;
        throw err;
      });
      // The scheduler's operation history goes with it (queued ones could never run anyway); this operation's own
      // record stays so the caller can read how the deletion ended.
      const noted = async () =>
        (await s.operationStorage.listSchedulerDeletions(opts)).some(
          (d) => d.schedulerName === name && d.operationId === ctx.operation.id,
        );
      const clearOperations = async () => {
        await s.queue.clear(name, opts);
        for (const stage of ["pending", "active", "final"] as const) {
          for (const op of await s.operationStorage.listOperations(name, stage, opts)) {
            if (op.id !== ctx.operation.id) await s.operationStorage.deleteOperation(name, op.id, opts);
          }
        }
      };
      if (!scheduler) return clearOperations();
      // This deletion removed its scheduler already (it was noted just before) and one was created since under the
      // same name: that one is not what the user asked to delete (a deletion is `terminating` from its first step on).
      if (scheduler.state !== "terminating" && (await noted())) {
        await ctx.history("the scheduler was already deleted; the one created since under its name is left alone");
        return;
      }
      if (scheduler.state !== "terminating") {
        await s.schedulers.updateScheduler({ ...scheduler, state: "terminating" }, opts);
      }
      await failpoint("delete_scheduler/terminating");
      // Out of allocation before their processes stop: a matchmaker must not get a room that is being killed.
      for (const id of await s.rooms.listRoomIds(name, opts)) {
        await s.rooms.claimForRemoval(name, id, { kind: "any" }, opts).catch((err: unknown) => {
          if (!isMaestroError(err, "not_found")) throw err;
        });
      }
      await s.runtime.deleteScheduler(scheduler, opts);
      await failpoint("delete_scheduler/runtime-cleared");
      const roomIds = await s.rooms.listRoomIds(name, opts);
      for (const id of roomIds) await s.roomManager.cleanRoomState(name, id, opts);
      for (const instance of await s.instances.listInstances(name, opts)) {
        await s.instances.deleteInstance(name, instance.id, opts);
      }
      await ctx.history(`stopped ${roomIds.length} rooms and removed the scheduler from runtime ${s.runtime.name}`);
      await s.scalePoints?.deleteScheduler(name, opts);
      await clearOperations();
      await failpoint("delete_scheduler/operations-cleared");
      // Once the record is gone the scheduler has no owner to recover this operation: noted first, so that recovery on
      // any worker finishes it should this worker stop before it reports (finishDeletedSchedulers).
      await s.operationStorage.noteSchedulerDeletion(name, ctx.operation.id, opts);
      // Last: while the record exists its owner recovers this operation, so a crash before here only repeats steps.
      await s.schedulers.deleteScheduler(name, opts).catch((err) => {
        if (!isMaestroError(err, "not_found")) throw err;
      });
      // Ticks of the owner may have queued more (a health check) until the record went: nothing would ever run them.
      await clearOperations();
    },
  };
}
