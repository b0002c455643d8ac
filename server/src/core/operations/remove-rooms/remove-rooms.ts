import { busyStatuses, type RemovalGuard } from "../../entities/room-removal.js";
import { MaestroError } from "../../errors.js";
import { failpoint } from "../../failpoints.js";
import type { OperationDefinition } from "../definition.js";
import { asObject, positiveInt } from "../input.js";
import { adjustRoomsReplicas } from "../replicas.js";
import type { OperationServices } from "../services.js";
import { fixTarget, stayingRooms } from "../targets.js";
import { roomsByDeletionPriority } from "./deletion-priority.js";

export const REMOVE_ROOMS = "remove_rooms";

export interface RemoveRoomsInput {
  amount?: number | undefined;
  roomsIds?: string[] | undefined;
  reason: string;
  /** Also lower roomsReplicas by `amount` (the remove-rooms API), so the health controller does not re-add them. */
  adjustReplicas?: boolean | undefined;
  /**
   * Which named rooms may go (rooms chosen by `amount` are always `idle`): `any` (default: removal by id), `idle`
   * (rolling updates: never a room in a match), or `expiredAt` epoch ms (the health controller's expired rooms: not
   * one allocated since it judged them).
   */
  guard?: "any" | "idle" | { expiredAt: number } | undefined;
}

/** Removes the named rooms, or `amount` rooms chosen by deletion priority (capped at `removeLimit`). */
export function removeRoomsOperation(s: OperationServices): OperationDefinition<RemoveRoomsInput> {
  return {
    name: REMOVE_ROOMS,
    // A re-run after its worker stopped completes the request: named rooms already gone count as removed, and by
    // amount it reaches the roomsReplicas and room count the first run fixed (targets.ts), never removing more.
    retryable: true,
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
        guard: parseGuard(o.guard),
      };
    },
    async execute(ctx, input) {
      const opts = { signal: ctx.signal };
      const now = s.clock.now();
      const idle: RemovalGuard = { kind: "idle", now, allocationTtlMs: s.timeouts.allocationTtlMs };
      const named = input.roomsIds ?? [];
      const namedGuard: RemovalGuard =
        input.guard === "idle"
          ? idle
          : typeof input.guard === "object"
            ? { kind: "allocatedBefore", since: new Date(input.guard.expiredAt) }
            : { kind: "any" };
      let removed = 0;
      let kept = 0;
      const remove = async (ids: readonly string[], guard: RemovalGuard): Promise<unknown[]> => {
        const results = await Promise.allSettled(
          ids.map((id) => s.roomManager.deleteRoom(ctx.schedulerName, id, input.reason, { ...opts, guard })),
        );
        for (const r of results) {
          if (r.status === "fulfilled") {
            if (r.value) removed += 1;
            else kept += 1;
          }
        }
        return results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
      };
      const failures = await remove(named, namedGuard);
      if (input.amount !== undefined) {
        let scheduler = await s.schedulers.getScheduler(ctx.schedulerName, opts);
        if (input.adjustReplicas) {
          scheduler = await adjustRoomsReplicas(s, ctx, scheduler, -input.amount, opts);
          await ctx.history(`roomsReplicas lowered to ${scheduler.roomsReplicas}`);
          await failpoint("remove_rooms/replicas-adjusted");
        }
        // Scaling never takes a room in a match: those are not candidates, and a candidate allocated after this read
        // is refused by the claim (atomic with the allocation), so the next candidate goes in its place.
        const rooms = await s.rooms.listRooms(ctx.schedulerName, opts);
        const candidates = roomsByDeletionPriority(
          rooms.filter((r) => !busyStatuses.includes(r.status) && !named.includes(r.id)),
          scheduler,
          { now, pingTimeoutMs: s.timeouts.pingMs },
        ).map((r) => r.id);
        const limit = Math.min(input.amount, s.limits.removeLimit);
        const staying = await stayingRooms(s, ctx.schedulerName, opts);
        const goal = await fixTarget(ctx, "rooms", () => ({ from: staying, to: Math.max(0, staying - limit) }));
        let wanted = Math.min(limit, Math.max(0, staying - goal.to));
        while (wanted > 0 && candidates.length > 0) {
          const before = removed;
          failures.push(...(await remove(candidates.splice(0, wanted), idle)));
          wanted -= removed - before;
          if (removed === before && failures.length > 0) break;
        }
      }
      await ctx.history(
        `removed ${removed} rooms (reason: ${input.reason})` +
          (kept > 0 ? `; kept ${kept} rooms that got into a match meanwhile` : ""),
      );
      if (failures.length > 0) {
        const first = failures[0];
        throw new Error(
          `${failures.length} rooms could not be removed: ${first instanceof Error ? first.message : first}`,
        );
      }
    },
  };
}

function parseGuard(value: unknown): RemoveRoomsInput["guard"] {
  if (value === undefined || value === "any" || value === "idle") return value;
  if (typeof value === "object" && value !== null && Number.isFinite((value as { expiredAt?: unknown }).expiredAt)) {
    return { expiredAt: (value as { expiredAt: number }).expiredAt };
  }
  throw MaestroError.invalid([{ field: "guard", message: 'must be "any", "idle" or {"expiredAt": <epoch ms>}' }]);
}
