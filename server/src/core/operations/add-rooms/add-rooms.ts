import { failpoint } from "../../failpoints.js";
import type { OperationDefinition } from "../definition.js";
import { asObject, positiveInt } from "../input.js";
import { adjustRoomsReplicas } from "../replicas.js";
import type { OperationServices } from "../services.js";
import { fixTarget, stayingRooms } from "../targets.js";

export const ADD_ROOMS = "add_rooms";

export interface AddRoomsInput {
  amount: number;
  /** Also raise roomsReplicas by `amount` (the add-rooms API), so the health controller keeps the new rooms. */
  adjustReplicas?: boolean | undefined;
}

/**
 * Creates up to `addLimit` rooms, `addBatchSize` at a time. Fails when more creations failed than succeeded, so a broken
 * spec surfaces as an operation error instead of a silent shortfall.
 */
export function addRoomsOperation(s: OperationServices): OperationDefinition<AddRoomsInput> {
  return {
    name: ADD_ROOMS,
    // A re-run after its worker stopped completes the request: it reaches the roomsReplicas and room count the first
    // run fixed (targets.ts), creating only the rooms still missing, never more than `amount`.
    retryable: true,
    parseInput(input) {
      const o = asObject(input, ADD_ROOMS);
      return { amount: positiveInt(o.amount, "amount"), adjustReplicas: o.adjustReplicas === true };
    },
    async execute(ctx, { amount, adjustReplicas }) {
      const opts = { signal: ctx.signal };
      let scheduler = await s.schedulers.getScheduler(ctx.schedulerName, opts);
      if (adjustReplicas) {
        scheduler = await adjustRoomsReplicas(s, ctx, scheduler, amount, opts);
        await ctx.history(`roomsReplicas raised to ${scheduler.roomsReplicas}`);
        await failpoint("add_rooms/replicas-adjusted");
      }
      const limit = Math.min(amount, s.limits.addLimit);
      const staying = await stayingRooms(s, ctx.schedulerName, opts);
      const goal = await fixTarget(ctx, "rooms", () => ({ from: staying, to: staying + limit }));
      const target = Math.min(limit, Math.max(0, goal.to - staying));
      let created = 0;
      let started = 0;
      const errors: string[] = [];
      // A pool of addBatchSize creators, each starting the next room as soon as its last one is done: batches that
      // waited for their slowest creation left the pool idle behind one slow API call (10,000 pods crept in at ~50/s).
      const creator = async () => {
        while (started < target && !ctx.signal.aborted) {
          started++;
          try {
            await s.roomManager.createRoom(scheduler, opts);
            await failpoint("add_rooms/room-created");
            created++;
          } catch (err) {
            errors.push(err instanceof Error ? err.message : String(err));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(s.limits.addBatchSize, target) }, creator));
      await ctx.history(`added ${created} rooms` + (errors.length ? `, ${errors.length} failed: ${errors[0]}` : ""));
      if (errors.length > created) throw new Error(`${errors.length} of ${target} rooms failed: ${errors[0]}`);
    },
  };
}
