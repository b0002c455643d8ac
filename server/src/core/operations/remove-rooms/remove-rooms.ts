import { MaestroError } from "../../errors.js";
import type { OperationDefinition } from "../definition.js";
import { asObject, positiveInt } from "../input.js";
import { adjustRoomsReplicas } from "../replicas.js";
import type { OperationServices } from "../services.js";
import { roomsByDeletionPriority } from "./deletion-priority.js";

export const REMOVE_ROOMS = "remove_rooms";

export interface RemoveRoomsInput {
  amount?: number | undefined;
  roomsIds?: string[] | undefined;
  reason: string;
  /** Also lower roomsReplicas by `amount` (the remove-rooms API), so the health controller does not re-add them. */
  adjustReplicas?: boolean | undefined;
}

/** Removes the named rooms, or `amount` rooms chosen by deletion priority (capped at `removeLimit`). */
export function removeRoomsOperation(s: OperationServices): OperationDefinition<RemoveRoomsInput> {
  return {
    name: REMOVE_ROOMS,
    parseInput(input) {
      const o = asObject(input, REMOVE_ROOMS);
      const ids = o.roomsIds ?? o.rooms_ids;
      if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== "string"))) {
        throw MaestroError.invalid([{ field: "roomsIds", message: "must be a list of room ids" }]);
      }
      if (ids === undefined && o.amount === undefined) {
        throw MaestroError.invalid([{ field: "amount", message: "is required when roomsIds is not given" }]);
      }
      return {
        amount: o.amount === undefined ? undefined : positiveInt(o.amount, "amount"),
        roomsIds: ids as string[] | undefined,
        reason: typeof o.reason === "string" && o.reason ? o.reason : "scale_down",
        adjustReplicas: o.adjustReplicas === true,
      };
    },
    async execute(ctx, input) {
      const opts = { signal: ctx.signal };
      let ids = input.roomsIds ?? [];
      if (input.amount !== undefined) {
        let scheduler = await s.schedulers.getScheduler(ctx.schedulerName, opts);
        if (input.adjustReplicas) {
          scheduler = await adjustRoomsReplicas(s, scheduler, -input.amount, opts);
          await ctx.history(`roomsReplicas lowered to ${scheduler.roomsReplicas}`);
        }
        const rooms = await s.rooms.listRooms(ctx.schedulerName, opts);
        const picked = roomsByDeletionPriority(rooms, scheduler, {
          now: s.clock.now(),
          pingTimeoutMs: s.timeouts.pingMs,
        }).slice(0, Math.min(input.amount, s.limits.removeLimit));
        ids = [...new Set([...ids, ...picked.map((r) => r.id)])];
      }
      const results = await Promise.allSettled(
        ids.map((id) => s.roomManager.deleteRoom(ctx.schedulerName, id, input.reason, opts)),
      );
      const failed = results.filter((r) => r.status === "rejected");
      await ctx.history(`removed ${ids.length - failed.length} rooms (reason: ${input.reason})`);
      if (failed.length > 0) {
        const first = (failed[0] as PromiseRejectedResult).reason;
        throw new Error(
          `${failed.length} rooms could not be removed: ${first instanceof Error ? first.message : first}`,
        );
      }
    },
  };
}
