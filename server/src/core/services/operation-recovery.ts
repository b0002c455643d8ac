import { type Operation, REQUEUED_EVENT } from "../entities/operation.js";
import { isMaestroError, MaestroError } from "../errors.js";
import type { OperationContext, OperationRegistry } from "../operations/definition.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { LeaseStorage, OperationQueue, OperationStorage } from "../ports/operation-storage.js";

export interface OperationRecoveryDeps {
  operations: OperationStorage;
  queue: OperationQueue;
  leases: LeaseStorage;
  registry: OperationRegistry;
  clock: Clock;
  logger: Logger;
  /** This replica's name, recorded as the holder of the lease recovery takes. */
  owner?: string | undefined;
  /** TTL of the lease recovery holds while it rolls an operation back (default 60 s). */
  leaseTtlMs?: number | undefined;
}

/**
 * Ends operations left `in_progress` by a worker that lost its lease (it died, hung or was cut off; Maestro has no
 * such routine: they stayed in progress forever). The scheduler's owner calls it when it takes the scheduler over and
 * then periodically. For each in-progress operation with no live lease it first takes the lease itself: that hands
 * out a newer fencing token, so whatever the old holder still tries to write is refused from then on, and two
 * recoveries never handle the same operation. Then the operation is re-queued when its definition is retryable, or
 * rolled back and marked `error`. Returns what was recovered.
 */
export async function recoverAbandonedOperations(
  schedulerName: string,
  deps: OperationRecoveryDeps,
  signal: AbortSignal,
): Promise<{ requeued: string[]; failed: string[] }> {
  const result = { requeued: [] as string[], failed: [] as string[] };
  const active = await deps.operations.listOperations(schedulerName, "active", { signal });
  for (const op of active) {
    let fence: number;
    try {
      ({ token: fence } = await deps.leases.grantLease(schedulerName, op.id, deps.leaseTtlMs ?? 60_000, {
        signal,
        owner: deps.owner,
      }));
    } catch (err) {
      if (isMaestroError(err, "already_exists")) continue; // its worker is alive
      throw err;
    }
    try {
      if (await recoverOne(op, fence, deps, signal)) result.requeued.push(op.id);
      else result.failed.push(op.id);
    } catch (err) {
      // Ended meanwhile (its worker wrote a final status just before its lease lapsed): nothing left to recover.
      if (!isMaestroError(err, "conflict")) throw err;
    } finally {
      await deps.leases.revokeLease(schedulerName, op.id, { token: fence }).catch(() => undefined);
    }
  }
  // A worker that died between taking an operation off the queue and starting it left it pending and unqueued: no
  // worker would ever see it again. Young ones may be between their creation and their enqueue, so they are left.
  const pending = await deps.operations.listOperations(schedulerName, "pending", { signal });
  const stale = deps.clock.now().getTime() - UNQUEUED_AFTER_MS;
  if (pending.some((op) => op.createdAt.getTime() < stale)) {
    const queued = new Set(await deps.queue.pendingIds(schedulerName, { signal }));
    for (const op of pending) {
      if (op.createdAt.getTime() >= stale || queued.has(op.id)) continue;
      await deps.queue.enqueue(schedulerName, op.id, { signal });
      result.requeued.push(op.id);
    }
  }
  if (result.requeued.length + result.failed.length > 0) {
    deps.logger.warn({ scheduler: schedulerName, ...result }, "recovered operations abandoned by a stopped worker");
  }
  return result;
}

/** How old a pending operation missing from the queue must be before recovery queues it again. */
const UNQUEUED_AFTER_MS = 10_000;

/** True when re-queued, false when ended `error`. */
async function recoverOne(
  op: Operation,
  fence: number,
  deps: OperationRecoveryDeps,
  signal: AbortSignal,
): Promise<boolean> {
  const { schedulerName } = op;
  const history = (event: string) =>
    deps.operations.appendHistory(schedulerName, op.id, { createdAt: deps.clock.now(), event }, { signal, fence });
  const definition = deps.registry.get(op.definitionName);
  if (definition?.retryable) {
    await deps.operations.updateStatus(schedulerName, op.id, "pending", { signal, fence, expected: "in_progress" });
    await history(REQUEUED_EVENT);
    // Released before it is queued: a worker picking it up must be able to take the lease.
    await deps.leases.revokeLease(schedulerName, op.id, { signal, token: fence });
    const queued = await deps.queue.pendingIds(schedulerName, { signal });
    if (!queued.includes(op.id)) await deps.queue.enqueue(schedulerName, op.id, { signal, priority: true });
    return true;
  }
  await history("Operation lease expired: its worker stopped while running it");
  if (definition?.rollback) {
    let input: unknown = op.input;
    try {
      input = definition.parseInput(op.input);
    } catch {
      // rollback gets the stored input as it is
    }
    await rollback({ ...op, input: input as Operation["input"] }, definition.rollback, history, deps.logger);
  }
  await deps.operations.updateStatus(schedulerName, op.id, "error", { signal, fence, expected: "in_progress" });
  await history("Operation finished");
  return false;
}

async function rollback(
  op: Operation,
  run: (ctx: OperationContext, input: never, error: unknown) => Promise<void>,
  history: (event: string) => Promise<void>,
  logger: Logger,
): Promise<void> {
  await history("Starting operation rollback");
  const ctx: OperationContext = {
    operation: op,
    schedulerName: op.schedulerName,
    signal: new AbortController().signal,
    history,
    markNoAction: () => {},
  };
  try {
    await run(ctx, op.input as never, new MaestroError("unavailable", "worker stopped"));
    await history("Operation rollback finished with success");
  } catch (err) {
    logger.error({ err, operationId: op.id }, "rollback of an abandoned operation failed");
    await history(`Operation rollback failed, reason: ${err instanceof Error ? err.message : String(err)}`);
  }
}
