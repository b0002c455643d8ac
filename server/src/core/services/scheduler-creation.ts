import { createHash } from "node:crypto";
import type { Scheduler } from "../entities/scheduler.js";
import { isMaestroError } from "../errors.js";
import { CREATE_SCHEDULER } from "../operations/create-scheduler/create-scheduler.js";
import type { CallOptions } from "../ports/call-options.js";
import type { SchedulerStorage } from "../ports/scheduler-storage.js";
import type { OperationManager } from "./operation-manager.js";

/**
 * The id of a scheduler's create_scheduler operation, derived from what is stored with the scheduler (its name and
 * creation instant). The scheduler row (SQL) and its operation (Redis or memory) cannot be written in one
 * transaction; a deterministic id makes the enqueue idempotent, so whoever completes it — the API call that stored the
 * scheduler, or the reconciler after that call died — produces the same one operation. A scheduler deleted and created
 * again under the same name gets a new id.
 */
export function createSchedulerOperationId(scheduler: Pick<Scheduler, "name" | "createdAt">): string {
  const hex = createHash("sha256")
    .update(`${CREATE_SCHEDULER}\u0000${scheduler.name}\u0000${scheduler.createdAt.getTime()}`)
    .digest("hex");
  // Shaped as an RFC 9562 UUID (version 8: custom), like every other operation id.
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Completes the creation of a scheduler stored in state `creating` whose create_scheduler operation is missing or
 * not queued (the process that stored it died in between): stores and queues it, idempotently. Returns true when
 * something had to be done, false when the scheduler is still being created but its operation is in place, and
 * undefined once there is nothing left to complete (created, or gone): a scheduler never returns to `creating`, so the
 * caller stops asking. The scheduler's owner runs it at takeover and periodically.
 */
export async function completeSchedulerCreation(
  schedulerName: string,
  deps: { schedulers: SchedulerStorage; operations: OperationManager },
  opts: CallOptions = {},
): Promise<boolean | undefined> {
  let scheduler: Scheduler;
  try {
    scheduler = await deps.schedulers.getScheduler(schedulerName, opts);
  } catch (err) {
    if (isMaestroError(err, "not_found")) return undefined; // deleted meanwhile: nothing to complete
    throw err;
  }
  if (scheduler.state !== "creating") return undefined;
  const { created } = await deps.operations.enqueueIdempotent(
    schedulerName,
    CREATE_SCHEDULER,
    {},
    { ...opts, id: createSchedulerOperationId(scheduler), createdAt: scheduler.createdAt },
  );
  return created;
}
