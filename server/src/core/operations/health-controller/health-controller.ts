import type { RoomsCrashing, Scheduler } from "../../entities/scheduler.js";
import { deepEqual } from "../../entities/scheduler-versioning.js";
import { MaestroError } from "../../errors.js";
import { failpoint } from "../../failpoints.js";
import type { CallOptions } from "../../ports/call-options.js";
import { ADD_ROOMS } from "../add-rooms/add-rooms.js";
import type { OperationDefinition } from "../definition.js";
import { asObject } from "../input.js";
import { roomsByDeletionPriority } from "../remove-rooms/deletion-priority.js";
import { REMOVE_ROOMS } from "../remove-rooms/remove-rooms.js";
import type { OperationServices } from "../services.js";
import { classifyRooms } from "./classify-rooms.js";
import { CrashBackoff } from "./crash-backoff.js";
import { rollingUpdateStep } from "./rolling-update.js";

export const HEALTH_CONTROLLER = "health_controller";

/**
 * Reconciles a scheduler's rooms: drops records the other store lacks, replaces expired rooms, and enqueues at most one
 * add_rooms or remove_rooms (at the head of the queue) to reach the desired number of rooms.
 */
export function healthControllerOperation(
  s: OperationServices,
  backoff = new CrashBackoff(),
): OperationDefinition<Record<string, never>> {
  return {
    name: HEALTH_CONTROLLER,
    // It only looks and enqueues: running it again after a crash is harmless.
    retryable: true,
    parseInput: (input) => (asObject(input, HEALTH_CONTROLLER), {}),
    async execute(ctx) {
      const opts = { signal: ctx.signal };
      const name = ctx.schedulerName;
      let scheduler = await s.schedulers.getScheduler(name, opts).catch((err: unknown) => {
        // Deleted between the tick and this run: nothing left to keep healthy.
        if (err instanceof MaestroError && err.code === "not_found") return undefined;
        throw err;
      });
      if (!scheduler || scheduler.state === "terminating") {
        ctx.markNoAction();
        return;
      }
      const [rooms, instances] = await Promise.all([
        s.rooms.listRooms(name, opts),
        s.instances.listInstances(name, opts),
      ]);
      const c = classifyRooms(rooms, instances, {
        now: s.clock.now(),
        timeouts: s.timeouts,
        occupiedTimeoutMs: scheduler.occupiedTimeout ? scheduler.occupiedTimeout * 1000 : undefined,
      });
      const actions: string[] = [];

      for (const id of c.orphanRoomIds) await s.roomManager.cleanRoomState(name, id, opts);
      // An instance without a room record is a room nobody manages any more: stop it on the runtime too.
      for (const id of c.orphanInstanceIds) await s.roomManager.deleteRoom(name, id, "orphan_instance", opts);
      if (c.orphanRoomIds.length + c.orphanInstanceIds.length > 0) {
        actions.push(`cleaned ${c.orphanRoomIds.length + c.orphanInstanceIds.length} nonexistent rooms`);
        await failpoint("health_controller/cleaned");
      }
      if (c.expired.length > 0) {
        const roomsIds = c.expired.map((r) => r.id);
        await s.operationManager.enqueue(
          name,
          REMOVE_ROOMS,
          // A room allocated after this judgement (a stale room a matchmaker just got) is left to the next check.
          { roomsIds, reason: "expired_room", guard: { expiredAt: s.clock.now().getTime() } },
          { ...opts, priority: true },
        );
        actions.push(`removing ${roomsIds.length} expired rooms`);
      }

      const now = s.clock.now().getTime();
      const byId = new Map(instances.map((i) => [i.id, i]));
      // A room that came up since the last crash proves a fix, before this cycle's crashes are counted.
      for (const room of c.available) {
        if (room.status !== "pending" && room.status !== "unready")
          backoff.observeHealthy(name, room.createdAt.getTime());
      }
      const crashed = c.expired.filter((r) => r.status === "error" || byId.get(r.id)?.status.type === "error");
      if (crashed.length > 0) {
        const last = crashed[crashed.length - 1]!;
        const reason = byId.get(last.id)?.status.description || "room in error";
        backoff.crashed(
          name,
          crashed.map((r) => r.id),
          reason,
          now,
          { id: last.id, version: last.version },
        );
      }

      scheduler = await recordCrashes(s, scheduler, backoff.record(name), opts);

      const available = c.available.length;
      let desired = scheduler.roomsReplicas;
      let downscale: { allowed: boolean; heldBack?: string | undefined } = { allowed: true };
      let scaled: ((o: typeof opts) => Promise<void>) | undefined;
      let policyNote = "";
      if (scheduler.autoscaling?.enabled) {
        const decision = await s.autoscaler.evaluate(scheduler, rooms, available, s.clock.now(), opts);
        desired = decision.desired;
        downscale = { allowed: decision.canDownscale, heldBack: decision.heldBack };
        scaled = decision.scaled;
        if (decision.reason) policyNote = ` (${decision.reason})`;
      }
      const priority = { ...opts, priority: true };
      const addRooms = async (amount: number, what: string) => {
        const wait = backoff.waiting(name, now);
        if (wait) {
          actions.push(
            `waiting ${Math.ceil(wait.remainingMs / 1000)}s before adding rooms: ${wait.crashes} rooms crashed, ` +
              `last: ${wait.lastError}`,
          );
          return false;
        }
        await s.operationManager.enqueue(name, ADD_ROOMS, { amount }, priority);
        actions.push(`adding ${amount} ${what}`);
        return true;
      };
      const rolling = rollingUpdateStep(c.available, scheduler.spec.version, desired, scheduler.maxSurge, (rooms) =>
        roomsByDeletionPriority(rooms, scheduler, { now: s.clock.now(), pingTimeoutMs: s.timeouts.pingMs }),
      );
      if (rolling) {
        actions.push(`rolling update to ${scheduler.spec.version}`);
        if (rolling.remove.length > 0) {
          const roomsIds = rolling.remove.map((r) => r.id);
          await s.operationManager.enqueue(
            name,
            REMOVE_ROOMS,
            // Rooms in a match are replaced once their match ends, never under it.
            { roomsIds, reason: "rolling_update_replace", guard: "idle" },
            priority,
          );
          actions.push(`replacing ${roomsIds.length} rooms of older versions`);
        }
        if (rolling.add > 0) await addRooms(rolling.add, `rooms of ${scheduler.spec.version}`);
      } else if (available < desired) {
        if ((await addRooms(desired - available, "rooms")) && scaled) await scaled(opts);
      } else if (available > desired && downscale.allowed) {
        const amount = available - desired;
        if (scheduler.autoscaling?.enabled) {
          await s.schedulers.updateScheduler({ ...scheduler, lastDownscaleAt: s.clock.now() }, opts);
        }
        await s.operationManager.enqueue(name, REMOVE_ROOMS, { amount, reason: "scale_down" }, priority);
        if (scaled) await scaled(opts);
        actions.push(`removing ${amount} rooms`);
      }
      if (actions.length === 0) ctx.markNoAction();
      // Armed tests want the step after an enqueue, not every idle tick.
      else await failpoint("health_controller/enqueued");
      const held = available > desired && !downscale.allowed ? ` (downscale held: ${downscale.heldBack})` : "";
      await ctx.history(
        `${available} available rooms, ${desired} desired${policyNote}${held}` +
          (actions.length ? `; ${actions.join("; ")}` : "; no action"),
      );
    },
  };
}

/**
 * Keeps the scheduler's roomsCrashing in step with the crash record, so get/list/info and the dashboard show why rooms
 * do not come up (a typo in the command leaves the scheduler in-sync with no room running).
 */
async function recordCrashes(
  s: OperationServices,
  scheduler: Scheduler,
  record: ReturnType<CrashBackoff["record"]>,
  opts: CallOptions,
): Promise<Scheduler> {
  // Crashes of another version's rooms say nothing about the active one (a fix was just applied).
  const current = record && record.lastVersion === scheduler.spec.version ? record : undefined;
  const roomsCrashing: RoomsCrashing | undefined = current && {
    crashes: current.crashes,
    lastReason: current.lastError,
    lastRoomId: current.lastRoomId,
    lastCrashAtMs: current.lastCrashAt,
  };
  if (deepEqual(roomsCrashing, scheduler.roomsCrashing)) return scheduler;
  const updated = { ...scheduler, roomsCrashing };
  await s.schedulers.updateScheduler(updated, opts);
  return updated;
}
