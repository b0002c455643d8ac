import { delay } from "../delay.js";
import type { Operation, OperationStatusName } from "../entities/operation.js";
import { MaestroError } from "../errors.js";
import type { OperationContext, OperationRegistry } from "../operations/definition.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { LeaseStorage, OperationQueue, OperationStorage } from "../ports/operation-storage.js";
import { OperationCanceled, type RunningOperations } from "./operation-manager.js";

export interface OperationWorkerDeps {
  operations: OperationStorage;
  queue: OperationQueue;
  leases: LeaseStorage;
  registry: OperationRegistry;
  running: RunningOperations;
  clock: Clock;
  logger: Logger;
  leaseTtlMs: number;
}

/** Executes one scheduler's operations, one at a time, in queue order. */
export class OperationWorker {
  private readonly log: Logger;

  constructor(
    readonly schedulerName: string,
    private readonly deps: OperationWorkerDeps,
  ) {
    this.log = deps.logger.child({ scheduler: schedulerName, component: "operation-worker" });
  }

  /**
   * Runs until the signal aborts; an operation in flight at that point ends `canceled` after its rollback. When
   * `draining` aborts, it takes no new operation and returns once the one in flight has finished (graceful shutdown).
   */
  async run(signal: AbortSignal, opts: { draining?: AbortSignal } = {}): Promise<void> {
    const stopTaking = opts.draining ? AbortSignal.any([signal, opts.draining]) : signal;
    while (!stopTaking.aborted) {
      let id: string;
      try {
        id = await this.deps.queue.next(this.schedulerName, { signal: stopTaking });
      } catch (err) {
        if (stopTaking.aborted) return;
        this.log.error({ err }, "reading the operation queue failed; retrying");
        await delay(1000, signal);
        continue;
      }
      let taken = true;
      try {
        taken = await this.runOne(id, signal, stopTaking);
      } catch (err) {
        this.log.error({ err, operationId: id }, "operation bookkeeping failed");
      } finally {
        // An operation not started because the worker is stopping stays reserved: the next worker runs it.
        if (taken) {
          await this.deps.queue.ack(this.schedulerName, id).catch((err) => this.log.error({ err }, "ack failed"));
        }
      }
    }
  }

  /** Runs one queued operation to a final status; false when the worker stopped before starting it. */
  private async runOne(id: string, workerSignal: AbortSignal, stopTaking: AbortSignal): Promise<boolean> {
    const { operations, registry, clock } = this.deps;
    if (stopTaking.aborted) return false;
    const op = await operations.getOperation(this.schedulerName, id);
    if (op?.status !== "pending") return true; // canceled while queued, or already handled
    const log = this.log.child({ operationId: id, operation: op.definitionName });
    const history = (event: string) =>
      operations.appendHistory(this.schedulerName, id, { createdAt: clock.now(), event });

    const definition = registry.get(op.definitionName);
    if (!definition) {
      await history(`Operation evicted: no definition named ${op.definitionName}`);
      await operations.updateStatus(this.schedulerName, id, "evicted");
      return true;
    }
    let input: unknown;
    try {
      input = definition.parseInput(op.input);
    } catch (err) {
      await history(`Operation evicted: invalid input: ${MaestroError.from(err).message}`);
      await operations.updateStatus(this.schedulerName, id, "evicted");
      return true;
    }
    if (stopTaking.aborted) return false;
    if (definition.shouldExecute) {
      const pending = await operations.listOperations(this.schedulerName, "pending");
      if (!definition.shouldExecute(input, { pending: pending.filter((p) => p.id !== id) })) {
        await history("Operation evicted: it should not execute now");
        await operations.updateStatus(this.schedulerName, id, "evicted");
        return true;
      }
    }

    await history("Starting operation");
    try {
      await this.deps.leases.grantLease(this.schedulerName, id, this.deps.leaseTtlMs);
    } catch (err) {
      // Someone else holds it (Maestro fails the operation too); left pending it would sit in the list forever.
      await history(`Operation execution failed: could not take the operation lease: ${describe(err)}`);
      await operations.updateStatus(this.schedulerName, id, "error");
      return true;
    }
    await operations.updateStatus(this.schedulerName, id, "in_progress");
    const controller = new AbortController();
    const onWorkerStop = () => controller.abort(new OperationCanceled("worker is shutting down"));
    workerSignal.addEventListener("abort", onWorkerStop, { once: true });
    // A stop during the awaits above fired before the listener existed.
    if (workerSignal.aborted) onWorkerStop();
    const unregister = this.deps.running.register(id, controller);
    const renew = setInterval(() => {
      this.deps.leases
        .renewLease(this.schedulerName, id, this.deps.leaseTtlMs)
        .catch((err) => log.warn({ err }, "lease renewal failed"));
    }, this.deps.leaseTtlMs / 2);

    let noAction = false;
    const ctx: OperationContext = {
      operation: op,
      schedulerName: this.schedulerName,
      signal: controller.signal,
      history,
      markNoAction: () => {
        noAction = true;
      },
    };
    let status: OperationStatusName = "finished";
    try {
      await definition.execute(ctx, input);
      if (controller.signal.aborted) throw controller.signal.reason;
    } catch (err) {
      const canceled = controller.signal.aborted && controller.signal.reason instanceof OperationCanceled;
      status = canceled ? "canceled" : "error";
      const reason = canceled ? (controller.signal.reason as Error).message : describe(err);
      await history(canceled ? `Operation canceled: ${reason}` : `Operation execution failed: ${reason}`);
      log.warn({ err, status }, "operation did not finish");
      await this.rollback(ctx, definition, input, err, history, log);
    } finally {
      clearInterval(renew);
      unregister();
      workerSignal.removeEventListener("abort", onWorkerStop);
    }
    await this.deps.leases.revokeLease(this.schedulerName, id).catch((err) => log.warn({ err }, "revoke failed"));
    if (status === "finished" && noAction) {
      await operations.deleteOperation(this.schedulerName, id);
      return true;
    }
    await operations.updateStatus(this.schedulerName, id, status);
    await history("Operation finished");
    return true;
  }

  private async rollback(
    ctx: OperationContext,
    definition: { rollback?: (ctx: OperationContext, input: never, error: unknown) => Promise<void> },
    input: unknown,
    error: unknown,
    history: (e: string) => Promise<void>,
    log: Logger,
  ): Promise<void> {
    if (!definition.rollback) return;
    await history("Starting operation rollback");
    try {
      // Rollback must run to completion even though the operation's own signal has fired.
      await definition.rollback({ ...ctx, signal: new AbortController().signal }, input as never, error);
      await history("Operation rollback finished with success");
    } catch (err) {
      log.error({ err }, "rollback failed");
      await history(`Operation rollback failed, reason: ${describe(err)}`);
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export type { Operation };
