import type { Scheduler } from "../entities/scheduler.js";
import { MaestroError } from "../errors.js";
import type { CallOptions } from "../ports/call-options.js";
import type { OperationServices } from "./services.js";

/**
 * Changes roomsReplicas of the active version in place (a scaling action, not a new version). Runs inside the
 * scheduler's operation queue, so it never races another change of the same scheduler.
 */
export async function adjustRoomsReplicas(
  s: Pick<OperationServices, "schedulers">,
  scheduler: Scheduler,
  delta: number,
  opts: CallOptions,
): Promise<Scheduler> {
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
  const updated = { ...scheduler, roomsReplicas };
  await s.schedulers.updateScheduler(updated, opts);
  return updated;
}
