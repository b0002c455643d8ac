import { finalOperationStatuses, type Operation } from "../entities/operation.js";
import type { Scheduler } from "../entities/scheduler.js";
import { isMaestroError } from "../errors.js";
import type { OperationRegistry } from "../operations/definition.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { LeaseStorage, OperationStorage } from "../ports/operation-storage.js";
import type { SchedulerStorage } from "../ports/scheduler-storage.js";

export interface DeletionRecoveryDeps {
  operations: OperationStorage;
  leases: LeaseStorage;
  schedulers: Pick<SchedulerStorage, "getScheduler">;
  registry: OperationRegistry;
  clock: Clock;
  logger: Logger;
  /** This replica's name, recorded as the holder of the lease recovery takes. */
  owner?: string | undefined;
  /** TTL of the lease held while an operation is finished (default 60 s). */
  leaseTtlMs?: number | undefined;
}

/** The history line of a deletion finished here rather than by the worker that ran it. */
export const FINISHED_BY_RECOVERY_EVENT =
  "Operation finished by recovery: its worker stopped after the scheduler was deleted";

/**
 * Finishes delete_scheduler operations whose worker stopped after it removed the scheduler's record (the deletion's
 * last step) and before it reported. Operations are otherwise recovered by their scheduler's owner, and a scheduler
 * that no longer exists has none: delete_scheduler notes itself (noteSchedulerDeletion) before removing the record,
 * and every worker replica calls this periodically. Taking the operation's lease makes exactly one of them finish it,
 * and fences out whatever its old worker might still write. What the deletion's last step would have cleared (health
 * checks queued meanwhile) is cleared by running the operation once more: with the scheduler gone that is all it does.
 * A scheduler created since under the same name is left alone. Returns the ids it finished.
 */
export async function finishDeletedSchedulers(deps: DeletionRecoveryDeps, signal: AbortSignal): Promise<string[]> {
  const finished: string[] = [];
  for (const { schedulerName, operationId } of await deps.operations.listSchedulerDeletions({ signal })) {
    const forget = () => deps.operations.forgetSchedulerDeletion(schedulerName, operationId, { signal });
    const op = await deps.operations.getOperation(schedulerName, operationId, { signal });
    if (op === undefined || finalOperationStatuses.includes(op.status)) {
      await forget();
      continue;
    }
    const scheduler = await deps.schedulers.getScheduler(schedulerName, { signal }).catch((err: unknown) => {
      if (isMaestroError(err, "not_found")) return undefined;
      throw err;
    });
    // Still being deleted: its owner runs the operation, or recovers it.
    if (scheduler?.state === "terminating") continue;
    let fence: number;
    try {
      ({ token: fence } = await deps.leases.grantLease(schedulerName, operationId, deps.leaseTtlMs ?? 60_000, {
        signal,
        owner: deps.owner,
      }));
    } catch (err) {
      if (isMaestroError(err, "already_exists")) continue; // its worker is alive and about to report
      throw err;
    }
    try {
      if (await finishOne(schedulerName, operationId, scheduler, fence, deps, signal)) finished.push(operationId);
      await forget();
    } catch (err) {
      // Ended meanwhile (another replica finished it just before this one took the lease): nothing left to do.
      if (!isMaestroError(err, "conflict")) throw err;
      await forget();
    } finally {
      await deps.leases.revokeLease(schedulerName, operationId, { token: fence }).catch(() => undefined);
    }
  }
  if (finished.length > 0) {
    deps.logger.warn({ operations: finished }, "finished deletions whose worker stopped after deleting the scheduler");
  }
  return finished;
}

/** False when it had ended before the lease was taken. */
async function finishOne(
  schedulerName: string,
  operationId: string,
  scheduler: Scheduler | undefined,
  fence: number,
  deps: DeletionRecoveryDeps,
  signal: AbortSignal,
): Promise<boolean> {
  // Read again under the lease: a replica that held it a moment ago may have finished it.
  const op = await deps.operations.getOperation(schedulerName, operationId, { signal });
  if (op === undefined || finalOperationStatuses.includes(op.status)) return false;
  const history = (event: string) =>
    deps.operations.appendHistory(
      schedulerName,
      operationId,
      { createdAt: deps.clock.now(), event },
      { signal, fence },
    );
  if (scheduler === undefined) await runAgain(op, history, deps, signal);
  await history(FINISHED_BY_RECOVERY_EVENT);
  await deps.operations.updateStatus(schedulerName, operationId, "finished", { signal, fence, expected: op.status });
  await history("Operation finished");
  return true;
}

async function runAgain(
  op: Operation,
  history: (event: string) => Promise<void>,
  deps: DeletionRecoveryDeps,
  signal: AbortSignal,
): Promise<void> {
  const definition = deps.registry.get(op.definitionName);
  if (!definition) return;
  await definition.execute(
    { operation: op, schedulerName: op.schedulerName, signal, history, markNoAction: () => {} },
    definition.parseInput(op.input),
  );
}
