import { MaestroError } from "../../errors.js";
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
    parseInput: (input) => (asObject(input, DELETE_SCHEDULER), {}),
    async execute(ctx) {
      const opts = { signal: ctx.signal };
      const scheduler = await s.schedulers.getScheduler(ctx.schedulerName, opts);
      if (scheduler.state !== "terminating") {
        await s.schedulers.updateScheduler({ ...scheduler, state: "terminating" }, opts);
      }
      await s.runtime.deleteScheduler(scheduler, opts);
      const roomIds = await s.rooms.listRoomIds(scheduler.name, opts);
      for (const id of roomIds) await s.roomManager.cleanRoomState(scheduler.name, id, opts);
      for (const instance of await s.instances.listInstances(scheduler.name, opts)) {
        await s.instances.deleteInstance(scheduler.name, instance.id, opts);
      }
      await ctx.history(`stopped ${roomIds.length} rooms and removed the scheduler from runtime ${s.runtime.name}`);
      await s.schedulers.deleteScheduler(scheduler.name, opts).catch((err) => {
        if (!(err instanceof MaestroError && err.code === "not_found")) throw err;
      });
      await s.queue.clear(scheduler.name, opts);
      await s.scalePoints?.deleteScheduler(scheduler.name, opts);
      // The scheduler's operation history goes with it (queued ones could never run anyway); this operation's own
      // record stays so the caller can read how the deletion ended.
      for (const stage of ["pending", "active", "final"] as const) {
        for (const op of await s.operationStorage.listOperations(scheduler.name, stage, opts)) {
          if (op.id !== ctx.operation.id) await s.operationStorage.deleteOperation(scheduler.name, op.id, opts);
        }
      }
    },
  };
}
