import type { OperationDefinition } from "../definition.js";
import { asObject } from "../input.js";
import type { OperationServices } from "../services.js";

export const CREATE_SCHEDULER = "create_scheduler";

/** Prepares the runtime for a scheduler stored in state `creating`, then marks it `in-sync`. */
export function createSchedulerOperation(s: OperationServices): OperationDefinition<Record<string, never>> {
  return {
    name: CREATE_SCHEDULER,
    parseInput: (input) => (asObject(input, CREATE_SCHEDULER), {}),
    async execute(ctx) {
      const scheduler = await s.schedulers.getScheduler(ctx.schedulerName, { signal: ctx.signal });
      await s.runtime.createScheduler(scheduler, { signal: ctx.signal });
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
