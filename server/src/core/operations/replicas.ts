import type { Scheduler } from "../entities/scheduler.js";
import { MaestroError } from "../errors.js";
import type { CallOptions } from "../ports/call-options.js";
import type { OperationContext } from "./definition.js";
import type { OperationServices } from "./services.js";
import { readTarget, writeTarget } from "./targets.js";

/**
 * Changes roomsReplicas of the active version in place by `delta` (a scaling action, not a new version). Runs inside
 * the scheduler's operation queue, so it never races another change of the same scheduler. The first run writes the
 * value it sets to the operation's history before setting it; a re-run of the same operation sets that value again
 * instead of moving roomsReplicas by `delta` a second time.
 */
export async function adjustRoomsReplicas(
  s: Pick<OperationServices, "schedulers">,
  ctx: OperationContext,
  scheduler: Scheduler,
  delta: number,
  opts: CallOptions,
): Promise<Scheduler> {
  const earlier = readTarget(ctx.operation, "roomsReplicas");
  if (earlier) {
    if (scheduler.roomsReplicas === earlier.to) return scheduler;
    // Not where this operation left it: something else changed it since, and that change stands.
    if (scheduler.roomsReplicas !== earlier.from) return scheduler;
    return setReplicas(s, scheduler, earlier.to, opts);
  }
  if (scheduler.autoscaling?.enabled) {
    throw new MaestroError(
      "failed_precondition",
      `scheduler ${scheduler.name} is autoscaled: change autoscaling.min/max instead`,
    );
  }
  const roomsReplicas = scheduler.roomsReplicas + delta;
  if (roomsReplicas < 0) {
    throw new MaestroError(
      "failed_precondition",
      `cannot remove ${-delta} rooms: roomsReplicas is ${scheduler.roomsReplicas}`,
    );
  }
  await writeTarget(ctx, "roomsReplicas", { from: scheduler.roomsReplicas, to: roomsReplicas });
  return setReplicas(s, scheduler, roomsReplicas, opts);
}

async function setReplicas(
  s: Pick<OperationServices, "schedulers">,
  scheduler: Scheduler,
  roomsReplicas: number,
  opts: CallOptions,
): Promise<Scheduler> {
  const updated = { ...scheduler, roomsReplicas };
  await s.schedulers.updateScheduler(updated, opts);
  return updated;
}
