import type { Operation } from "../entities/operation.js";
import { MaestroError } from "../errors.js";
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
}

/**
 * Ends operations left `in_progress` by a worker that died (Maestro has no such routine: they stayed in progress
 * forever). Called by a worker before it starts on a scheduler, i.e. after it took the scheduler over: an operation
 * whose lease has expired is re-queued when its definition is retryable, otherwise rolled back and marked `error`.
 * Returns what was recovered.
 */
export async function recoverAbandonedOperations(
  schedulerName: string,
  deps: OperationRecoveryDeps,
  signal: AbortSignal,
): Promise<{ requeued: string[]; failed: string[] }> {
  const result = { requeued: [] as string[], failed: [] as string[] };
  const active = await deps.operations.listOperations(schedulerName, "active", { signal });
  for (const op of active) {
    if (await deps.leases.getLease(schedulerName, op.id, { signal })) continue; // its worker is alive
    const history = (event: string) =>
      deps.operations.appendHistory(schedulerName, op.id, { createdAt: deps.clock.now(), event }, { signal });
    const definition = deps.registry.get(op.definitionName);
    await deps.leases.revokeLease(schedulerName, op.id).catch(() => undefined);
    if (definition?.retryable) {
      await history("Operation lease expired (its worker stopped); re-queued to run again");
      await deps.operations.updateStatus(schedulerName, op.id, "pending", { signal });
      const queued = await deps.queue.pendingIds(schedulerName, { signal });
      if (!queued.includes(op.id)) await deps.queue.enqueue(schedulerName, op.id, { signal, priority: true });
      result.requeued.push(op.id);
      continue;
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
    await deps.operations.updateStatus(schedulerName, op.id, "error", { signal });
    await history("Operation finished");
    result.failed.push(op.id);
  }
  if (result.requeued.length + result.failed.length > 0) {
    deps.logger.warn({ scheduler: schedulerName, ...result }, "recovered operations abandoned by a stopped worker");
  }
  return result;
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
