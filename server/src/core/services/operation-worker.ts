import { delay } from "../delay.js";
import { INTERRUPTED_EVENT, type Operation, type OperationStatusName } from "../entities/operation.js";
import { isMaestroError, MaestroError } from "../errors.js";
import { failpoint } from "../failpoints.js";
import type { OperationContext, OperationRegistry } from "../operations/definition.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Lease, LeaseStorage, OperationQueue, OperationStorage } from "../ports/operation-storage.js";
import { OperationCanceled, OperationLeaseLost, type RunningOperations, WorkerStopping } from "./operation-manager.js";

export interface OperationWorkerDeps {
  operations: OperationStorage;
  queue: OperationQueue;
  leases: LeaseStorage;
  registry: OperationRegistry;
  running: RunningOperations;
  clock: Clock;
  logger: Logger;
  leaseTtlMs: number;
  /** How often the lease of the running operation is renewed (default a third of its TTL). */
  leaseRenewIntervalMs?: number | undefined;
  /** This replica's name, recorded as the holder of the leases it takes. */
  owner?: string | undefined;
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
   * Runs until the signal aborts; an operation in flight at that point ends `canceled` after its rollback, or, when it
   * is safe to repeat, goes back to the queue (still reserved) for the next worker. When
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
    const { operations, registry, clock, leases } = this.deps;
    const s = this.schedulerName;
    if (stopTaking.aborted) return false;
    const op = await operations.getOperation(s, id);
    if (op?.status !== "pending") return true; // canceled while queued, or already handled
    const log = this.log.child({ operationId: id, operation: op.definitionName });
    // Unfenced: only for the steps before the lease is taken, each ending in a compare-and-set from pending.
    const unfencedHistory = (event: string) => operations.appendHistory(s, id, { createdAt: clock.now(), event });
    const endPending = async (status: OperationStatusName, event: string) => {
      try {
        await operations.updateStatus(s, id, status, { expected: "pending" });
      } catch (err) {
        if (isMaestroError(err, "conflict")) return; // canceled meanwhile: that is its one final state
        throw err;
      }
      await unfencedHistory(event);
    };

    const definition = registry.get(op.definitionName);
    if (!definition) {
      await endPending("evicted", `Operation evicted: no definition named ${op.definitionName}`);
      return true;
    }
    let input: unknown;
    try {
      input = definition.parseInput(op.input);
    } catch (err) {
      await endPending("evicted", `Operation evicted: invalid input: ${MaestroError.from(err).message}`);
      return true;
    }
    if (stopTaking.aborted) return false;
    if (definition.shouldExecute) {
      const pending = await operations.listOperations(s, "pending");
      if (!definition.shouldExecute(input, { pending: pending.filter((p) => p.id !== id) })) {
        await endPending("evicted", "Operation evicted: it should not execute now");
        return true;
      }
    }

    let lease: Lease;
    try {
      lease = await leases.grantLease(s, id, this.deps.leaseTtlMs, { owner: this.deps.owner });
    } catch (err) {
      // Someone else holds it (Maestro fails the operation too); left pending it would sit in the list forever.
      await endPending("error", `Operation execution failed: could not take the operation lease: ${describe(err)}`);
      return true;
    }
    const fence = lease.token;
    const history = (event: string) => operations.appendHistory(s, id, { createdAt: clock.now(), event }, { fence });
    const controller = new AbortController();
    // Registered before the status says in_progress, so a cancel that sees in_progress always finds it here.
    const unregister = this.deps.running.register(id, controller);
    try {
      await operations.updateStatus(s, id, "in_progress", { expected: "pending", fence });
    } catch (err) {
      unregister();
      await leases.revokeLease(s, id, { token: fence }).catch((e) => log.warn({ err: e }, "revoke failed"));
      if (isMaestroError(err, "conflict")) return true; // canceled between the read and now: it never runs
      // Still pending (storage unreachable, or the lease lapsed at once): keep it reserved and try it again shortly.
      log.warn({ err }, "could not start the operation; retrying");
      await delay(1000, workerSignal);
      return false;
    }
    await history("Starting operation");
    const onWorkerStop = () => controller.abort(new WorkerStopping("worker is shutting down"));
    workerSignal.addEventListener("abort", onWorkerStop, { once: true });
    // A stop during the awaits above fired before the listener existed.
    if (workerSignal.aborted) onWorkerStop();
    const stopRenewing = this.keepLease(id, fence, controller, log);

    let noAction = false;
    const ctx: OperationContext = {
      operation: op,
      schedulerName: s,
      signal: controller.signal,
      history,
      markNoAction: () => {
        noAction = true;
      },
    };
    let status: OperationStatusName = "finished";
    try {
      let failed = false;
      let failure: unknown;
      try {
        await failpoint("operation/leased", definition.name);
        await definition.execute(ctx, input);
        await failpoint("operation/executed", definition.name);
      } catch (err) {
        failed = true;
        failure = err;
      }
      // From here no cancel is acknowledged, so one that was is seen on the signal now and the operation ends canceled.
      unregister();
      if (!failed && controller.signal.aborted) {
        failed = true;
        failure = controller.signal.reason;
      }
      if (failed) {
        const err = failure;
        if (controller.signal.reason instanceof OperationLeaseLost) throw controller.signal.reason;
        // Safe to run again: the next worker completes it (it stays reserved in the queue: not acked).
        if (controller.signal.reason instanceof WorkerStopping && definition.retryable) {
          await history(INTERRUPTED_EVENT);
          await operations.updateStatus(s, id, "pending", { expected: "in_progress", fence });
          await leases.revokeLease(s, id, { token: fence }).catch((e) => log.warn({ err: e }, "revoke failed"));
          log.warn({ err }, "worker stopping: operation handed back to the queue");
          return false;
        }
        const canceled = controller.signal.aborted && controller.signal.reason instanceof OperationCanceled;
        status = canceled ? "canceled" : "error";
        const reason = canceled ? (controller.signal.reason as Error).message : describe(err);
        await history(canceled ? `Operation canceled: ${reason}` : `Operation execution failed: ${reason}`);
        log.warn({ err, status }, "operation did not finish");
        await this.rollback(ctx, definition, input, err, history, log);
      }
      if (status === "finished" && noAction) {
        await operations.deleteOperation(s, id);
      } else {
        await operations.updateStatus(s, id, status, { expected: "in_progress", fence });
        await history("Operation finished");
      }
    } catch (err) {
      // Fenced out: the lease expired or another replica took the operation over; whatever it decided stands.
      if (!(err instanceof OperationLeaseLost || isMaestroError(err, "failed_precondition"))) throw err;
      log.warn({ err }, "lost the operation lease; leaving the operation to the replica that recovers it");
      return true;
    } finally {
      stopRenewing();
      unregister();
      workerSignal.removeEventListener("abort", onWorkerStop);
    }
    await leases.revokeLease(s, id, { token: fence }).catch((err) => log.warn({ err }, "revoke failed"));
    return true;
  }

  /**
   * Renews the lease every renew interval. A renewal refused (the lease expired or was taken over), or none that
   * succeeded for a whole TTL (storage unreachable: the lease has lapsed by now), aborts the operation with
   * OperationLeaseLost. Returns the function that stops renewing.
   */
  private keepLease(id: string, token: number, controller: AbortController, log: Logger): () => void {
    const ttl = this.deps.leaseTtlMs;
    let renewedAt = performance.now();
    const lost = (why: string, err?: unknown) => {
      if (controller.signal.aborted) return;
      log.warn({ err }, `operation lease lost: ${why}; aborting the operation here`);
      controller.abort(new OperationLeaseLost(`operation lease lost: ${why}`));
    };
    const timer = setInterval(
      () => {
        const startedAt = performance.now();
        this.deps.leases
          .renewLease(this.schedulerName, id, token, ttl)
          .then(() => {
            renewedAt = startedAt;
          })
          .catch((err) => {
            if (isMaestroError(err, "failed_precondition")) lost("the lease expired or was taken over", err);
            else if (performance.now() - renewedAt >= ttl) lost(`no renewal succeeded for ${ttl} ms`, err);
            else log.warn({ err }, "lease renewal failed; retrying");
          });
      },
      this.deps.leaseRenewIntervalMs ?? Math.ceil(ttl / 3),
    );
    return () => clearInterval(timer);
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
