import { isRerun } from "../../entities/operation.js";
import type { Scheduler } from "../../entities/scheduler.js";
import { isMajorChange, nextVersion } from "../../entities/scheduler-versioning.js";
import { isMaestroError } from "../../errors.js";
import { failpoint } from "../../failpoints.js";
import type { OperationContext, OperationDefinition } from "../definition.js";
import { asObject } from "../input.js";
import type { OperationServices } from "../services.js";
import { SWITCH_ACTIVE_VERSION } from "../switch-active-version/switch-active-version.js";
import { readTargetText, writeTarget } from "../targets.js";
import { type SchedulerJson, schedulerFromJson, schedulerToJson } from "./scheduler-input.js";
import { validateWithRoom } from "./validation-room.js";

export const CREATE_NEW_SCHEDULER_VERSION = "create_new_scheduler_version";

export const NEW_VERSION_ROLLBACK_REASON = "new_version_rollback";

export interface CreateNewSchedulerVersionInput {
  /** The whole new definition; its spec.version is replaced by the number this operation assigns. */
  scheduler: SchedulerJson;
}

/**
 * Stores a new version of the scheduler and enqueues switch_active_version to make it active. A major change (one that
 * alters the rooms) must first prove that a room of the new version becomes ready; a minor one is stored at once.
 */
export function createNewSchedulerVersionOperation(
  s: OperationServices,
): OperationDefinition<CreateNewSchedulerVersionInput> {
  return {
    name: CREATE_NEW_SCHEDULER_VERSION,
    parseInput(input) {
      const o = asObject(input, CREATE_NEW_SCHEDULER_VERSION);
      // Kept as JSON (stored and shown that way); reading it here refuses a malformed input before it is queued.
      return { scheduler: schedulerToJson(schedulerFromJson(o.scheduler, "scheduler", s.schedulerTypes)) };
    },
    // A re-run converges: a version its earlier run stored is switched to, never stored again under the next number.
    retryable: true,
    async execute(ctx, input) {
      const opts = { signal: ctx.signal };
      const rerun = isRerun(ctx.operation);
      if (rerun) {
        // The version an earlier run numbered (and may have stored).
        const earlier = readTargetText(ctx.operation, "version");
        const existing = (await s.schedulers.listVersions(ctx.schedulerName, opts)).map((v) => v.version);
        if (earlier !== undefined && existing.includes(earlier.to)) {
          await ctx.history(`version ${earlier.to} was stored by an earlier run of this operation`);
          await enqueueSwitch(ctx, earlier.to);
          return;
        }
        // The dead run's validation room, if it got that far (a killed process cannot delete it).
        await removeValidationRooms(ctx);
      }
      const requested = schedulerFromJson(input.scheduler, "scheduler", s.schedulerTypes);
      const current = await s.schedulers.getScheduler(ctx.schedulerName, opts);
      const major = isMajorChange(current, requested);
      const existing = (await s.schedulers.listVersions(ctx.schedulerName, opts)).map((v) => v.version);
      const version = nextVersion(existing, current.spec.version, major);
      const scheduler: Scheduler = {
        ...requested,
        name: current.name,
        game: current.game,
        state: "in-sync",
        spec: { ...requested.spec, version },
        rollbackVersion: current.spec.version,
        createdAt: s.clock.now(),
        lastDownscaleAt: current.lastDownscaleAt,
      };
      // Written under the lease before the version can exist: a re-run finds by it the version this run stored.
      await writeTarget(ctx, "version", { to: version, from: current.spec.version });
      if (major) await validateWithRoom(s, ctx, scheduler);
      else await ctx.history(`Minor version detected (${version}): no game room validation needed`);
      await failpoint("create_new_scheduler_version/validated");

      try {
        await s.schedulers.createSchedulerVersion(scheduler, opts);
      } catch (err) {
        // The earlier run, stalled past its lease rather than dead, stored it meanwhile: only these runs number versions.
        if (!(rerun && isMaestroError(err, "already_exists"))) throw err;
        await ctx.history(`version ${version} was stored by an earlier run of this operation`);
        await enqueueSwitch(ctx, version);
        return;
      }
      await failpoint("create_new_scheduler_version/version-stored");
      await ctx.history(`created version ${version} (previous active version ${current.spec.version})`);
      await enqueueSwitch(ctx, version);
    },
    // The validation loop deletes its room itself; this catches one left behind by a cancel or a failed delete.
    rollback: (ctx) => removeValidationRooms(ctx),
  };

  async function enqueueSwitch(ctx: OperationContext, version: string): Promise<void> {
    // A switch the dead run enqueued may run too: switching to the same version twice changes nothing.
    const op = await s.operationManager.enqueue(
      ctx.schedulerName,
      SWITCH_ACTIVE_VERSION,
      { newActiveVersion: version },
      { signal: ctx.signal },
    );
    await ctx.history(`enqueued switch active version operation with id: ${op.id}`);
  }

  async function removeValidationRooms(ctx: OperationContext): Promise<void> {
    const rooms = await s.rooms.listRooms(ctx.schedulerName);
    for (const room of rooms) {
      if (!room.isValidationRoom || room.status === "terminating" || room.status === "terminated") continue;
      await s.roomManager.deleteRoom(ctx.schedulerName, room.id, NEW_VERSION_ROLLBACK_REASON);
      await ctx.history(`deleted validation room ${room.id}`);
    }
  }
}
