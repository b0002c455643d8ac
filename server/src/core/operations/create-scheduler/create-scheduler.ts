import { isRerun } from "../../entities/operation.js";
import { isMaestroError } from "../../errors.js";
import { failpoint } from "../../failpoints.js";
import type { OperationDefinition } from "../definition.js";
import { asObject } from "../input.js";
import type { OperationServices } from "../services.js";

export const CREATE_SCHEDULER = "create_scheduler";

/** Prepares the runtime for a scheduler stored in state `creating`, then marks it `in-sync`. */
export function createSchedulerOperation(s: OperationServices): OperationDefinition<Record<string, never>> {
  return {
    name: CREATE_SCHEDULER,
    // A worker that died mid-way left a stored scheduler the user was told exists: finishing it beats rolling it back.
    retryable: true,
    parseInput: (input) => (asObject(input, CREATE_SCHEDULER), {}),
    async execute(ctx) {
      const scheduler = await s.schedulers.getScheduler(ctx.schedulerName, { signal: ctx.signal });
      if (scheduler.state === "in-sync") {
        await ctx.history(`scheduler ${scheduler.name} was already created by an earlier attempt`);
        return;
      }
      await s.runtime.createScheduler(scheduler, { signal: ctx.signal }).catch((err: unknown) => {
        // Prepared by the attempt that died before marking the scheduler in-sync; on a first run it is someone else's.
        if (!(isRerun(ctx.operation) && isMaestroError(err, "already_exists"))) throw err;
      });
      await failpoint("create_scheduler/runtime-prepared");
      await s.schedulers.updateScheduler({ ...scheduler, state: "in-sync" }, { signal: ctx.signal });
      await ctx.history(`scheduler ${scheduler.name} created on runtime ${s.runtime.name}`);
    },
    // A scheduler whose creation failed must not linger half-made: Maestro removes it, and so do we — with what the
    // runtime prepared for it (namespace, working directory), which Maestro left behind.
    async rollback(ctx) {
      const scheduler = await s.schedulers.getScheduler(ctx.schedulerName).catch(() => undefined);
      if (scheduler) await s.runtime.deleteScheduler(scheduler);
      await s.schedulers.deleteScheduler(ctx.schedulerName).catch(() => undefined);
    },
  };
}
