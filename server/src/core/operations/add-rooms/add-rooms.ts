import { failpoint } from "../../failpoints.js";
import type { OperationDefinition } from "../definition.js";
import { asObject, positiveInt } from "../input.js";
import { adjustRoomsReplicas } from "../replicas.js";
import type { OperationServices } from "../services.js";

export const ADD_ROOMS = "add_rooms";

export interface AddRoomsInput {
  amount: number;
  /** Also raise roomsReplicas by `amount` (the add-rooms API), so the health controller keeps the new rooms. */
  adjustReplicas?: boolean | undefined;
}

/**
 * Creates up to `addLimit` rooms in concurrent batches. Fails when more creations failed than succeeded, so a broken
 * spec surfaces as an operation error instead of a silent shortfall.
 */
export function addRoomsOperation(s: OperationServices): OperationDefinition<AddRoomsInput> {
  return {
    name: ADD_ROOMS,
    parseInput(input) {
      const o = asObject(input, ADD_ROOMS);
      return { amount: positiveInt(o.amount, "amount"), adjustReplicas: o.adjustReplicas === true };
    },
    async execute(ctx, { amount, adjustReplicas }) {
      const opts = { signal: ctx.signal };
      let scheduler = await s.schedulers.getScheduler(ctx.schedulerName, opts);
      if (adjustReplicas) {
        scheduler = await adjustRoomsReplicas(s, scheduler, amount, opts);
        await ctx.history(`roomsReplicas raised to ${scheduler.roomsReplicas}`);
        await failpoint("add_rooms/replicas-adjusted");
      }
      const target = Math.min(amount, s.limits.addLimit);
      let created = 0;
      const errors: string[] = [];
      for (let done = 0; done < target && !ctx.signal.aborted; done += s.limits.addBatchSize) {
        const batch = Math.min(s.limits.addBatchSize, target - done);
        const results = await Promise.allSettled(
          Array.from({ length: batch }, async () => {
            const created = await s.roomManager.createRoom(scheduler, opts);
            await failpoint("add_rooms/room-created");
            return created;
          }),
        );
        for (const r of results) {
          if (r.status === "fulfilled") created++;
          else errors.push(r.reason instanceof Error ? r.reason.message : String(r.reason));
        }
      }
      await ctx.history(`added ${created} rooms` + (errors.length ? `, ${errors.length} failed: ${errors[0]}` : ""));
      if (errors.length > created) throw new Error(`${errors.length} of ${target} rooms failed: ${errors[0]}`);
    },
  };
}
