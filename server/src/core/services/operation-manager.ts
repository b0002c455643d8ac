import { randomUUID } from "node:crypto";
import { finalOperationStatuses, type Operation, type OperationStage } from "../entities/operation.js";
import { isMaestroError, MaestroError } from "../errors.js";
import type { OperationRegistry } from "../operations/definition.js";
import type { CallOptions } from "../ports/call-options.js";
import type { CancelSignals } from "../ports/cancel-signals.js";
import type { Clock } from "../ports/clock.js";
import type { LeaseStorage, OperationQueue, OperationStorage } from "../ports/operation-storage.js";

export interface OperationManagerDeps {
  /** Reaches a running operation in another process; without it only this process's operations can be canceled. */
  cancelSignals?: CancelSignals | undefined;
  operations: OperationStorage;
  queue: OperationQueue;
  leases: LeaseStorage;
  registry: OperationRegistry;
  clock: Clock;
  /** How long a cancel sent to another replica waits for that replica's acknowledgement (default 5 s). */
  cancelAckTimeoutMs?: number | undefined;
}

/** Abort handles of operations running in this process, so a cancel can reach them. */
export class RunningOperations {
  private readonly controllers = new Map<string, AbortController>();

  register(operationId: string, controller: AbortController): () => void {
    this.controllers.set(operationId, controller);
    // Only its own entry: the same operation may run here again (re-queued) under a new controller.
    return () => {
      if (this.controllers.get(operationId) === controller) this.controllers.delete(operationId);
    };
  }

  abort(operationId: string, reason: unknown): boolean {
    const controller = this.controllers.get(operationId);
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }
}

export class OperationCanceled extends Error {
  override readonly name: string = "OperationCanceled";
}

/**
 * Abort reason of an operation whose worker stops (shutdown past the drain, ownership lost): an operation safe to
 * repeat goes back to the queue for the next worker instead of ending `canceled`.
 */
export class WorkerStopping extends OperationCanceled {
  override readonly name = "WorkerStopping";
}

/**
 * Abort reason of an operation whose replica lost its lease (renewal refused or impossible for a whole TTL): another
 * replica may run or recover it now, so this one stops without writing anything more for it.
 */
export class OperationLeaseLost extends Error {
  override readonly name = "OperationLeaseLost";
}

/** Creates operations (stored, then queued), reads them, and cancels them. */
export class OperationManager {
  constructor(
    private readonly deps: OperationManagerDeps,
    readonly running = new RunningOperations(),
  ) {}

  async enqueue(
    schedulerName: string,
    definitionName: string,
    input: unknown,
    opts: CallOptions & { priority?: boolean } = {},
  ): Promise<Operation> {
    const operation = this.build(schedulerName, definitionName, input, randomUUID(), this.deps.clock.now());
    await this.deps.operations.createOperation(operation, opts);
    await this.deps.queue.enqueue(schedulerName, operation.id, opts);
    return operation;
  }

  /**
   * Creates and queues the operation with the given id unless it exists; an existing one still pending but missing
   * from the queue is queued again. Safe to repeat and to race with itself: the one operation of that id runs once.
   * `created` says whether anything was written.
   */
  async enqueueIdempotent(
    schedulerName: string,
    definitionName: string,
    input: unknown,
    opts: CallOptions & { id: string; createdAt?: Date | undefined },
  ): Promise<{ operation: Operation; created: boolean }> {
    const operation = this.build(
      schedulerName,
      definitionName,
      input,
      opts.id,
      opts.createdAt ?? this.deps.clock.now(),
    );
    try {
      await this.deps.operations.createOperation(operation, opts);
    } catch (err) {
      if (!isMaestroError(err, "already_exists")) throw err;
      const existing = await this.get(schedulerName, opts.id, opts);
      if (existing.status !== "pending") return { operation: existing, created: false };
      if ((await this.deps.queue.pendingIds(schedulerName, opts)).includes(opts.id)) {
        return { operation: existing, created: false };
      }
      await this.deps.queue.enqueue(schedulerName, opts.id, opts);
      return { operation: existing, created: true };
    }
    await this.deps.queue.enqueue(schedulerName, operation.id, opts);
    return { operation, created: true };
  }

  private build(schedulerName: string, definitionName: string, input: unknown, id: string, now: Date): Operation {
    const definition = this.deps.registry.get(definitionName);
    if (!definition) throw new MaestroError("invalid_argument", `unknown operation ${definitionName}`);
    const parsed = definition.parseInput(input);
    return {
      id,
      schedulerName,
      definitionName,
      status: "pending",
      input: (parsed ?? {}) as Record<string, unknown>,
      createdAt: now,
      executionHistory: [{ createdAt: now, event: "Created" }],
    };
  }

  /**
   * Enqueues a health_controller run unless one is already waiting: periodic ticks and wake-ups must not pile up
   * behind a slow operation (Maestro enqueued one per tick regardless).
   */
  async enqueueHealthController(schedulerName: string, opts: CallOptions = {}): Promise<Operation | undefined> {
    const pending = await this.deps.operations.listOperations(schedulerName, "pending", opts);
    if (pending.some((op) => op.definitionName === "health_controller")) return undefined;
    return this.enqueue(schedulerName, "health_controller", {}, opts);
  }

  async get(schedulerName: string, id: string, opts: CallOptions = {}): Promise<Operation> {
    const op = await this.deps.operations.getOperation(schedulerName, id, opts);
    if (!op) throw MaestroError.notFound(`operation ${id} of scheduler ${schedulerName}`);
    if (op.status === "in_progress") op.lease = await this.leaseOf(op, opts);
    return op;
  }

  async list(schedulerName: string, stage: OperationStage, opts: CallOptions = {}): Promise<Operation[]> {
    const ops = await this.deps.operations.listOperations(schedulerName, stage, opts);
    if (stage === "active") {
      for (const op of ops) op.lease = await this.leaseOf(op, opts);
    }
    return ops;
  }

  /**
   * Pending → canceled, as a compare-and-set against the worker's pending → in_progress (exactly one of them wins). In
   * progress → the replica running it aborts it and acknowledges; the worker then ends it `canceled` after its
   * rollback. No acknowledgement → `unavailable` naming why, so a cancel never "succeeds" without reaching the
   * operation. Final → conflict.
   */
  async cancel(schedulerName: string, id: string, opts: CallOptions = {}): Promise<void> {
    let op = await this.get(schedulerName, id, opts);
    // A worker may take it (or a recovery re-queue it) between a read and the write: retry on what it is now.
    for (let attempt = 0; op.status === "pending" && attempt < 3; attempt++) {
      try {
        await this.deps.operations.updateStatus(schedulerName, id, "canceled", { ...opts, expected: "pending" });
      } catch (err) {
        if (!isMaestroError(err, "conflict")) throw err;
        op = await this.get(schedulerName, id, opts);
        continue;
      }
      await this.deps.operations.appendHistory(
        schedulerName,
        id,
        { createdAt: this.deps.clock.now(), event: "Operation canceled by the user" },
        opts,
      );
      return;
    }
    if (op.status === "pending") {
      throw new MaestroError("unavailable", `operation ${id} kept changing status while being canceled; retry`);
    }
    if (finalOperationStatuses.includes(op.status)) {
      throw new MaestroError("conflict", `cannot cancel operation since status "${op.status}" is a final status`);
    }
    if (this.running.abort(id, new OperationCanceled("operation canceled by the user"))) return;
    if (!this.deps.cancelSignals) {
      throw new MaestroError("unavailable", `operation ${id} is not running in this process; retry shortly`);
    }
    const waitMs = this.deps.cancelAckTimeoutMs ?? 5_000;
    if (await this.deps.cancelSignals.request(schedulerName, id, { ...opts, waitMs })) return;
    const now = await this.get(schedulerName, id, opts);
    if (now.status === "canceled") return;
    if (finalOperationStatuses.includes(now.status)) {
      throw new MaestroError(
        "conflict",
        `cannot cancel operation: it ended "${now.status}" before the cancel reached the replica running it`,
      );
    }
    const holder = now.lease?.owner ? ` (${now.lease.owner})` : "";
    throw new MaestroError(
      "unavailable",
      `cancel of operation ${id} was not acknowledged within ${waitMs} ms: the replica running it${holder} did not ` +
        "answer; if that replica is gone the operation is recovered when its lease expires. Retry the cancel",
    );
  }

  private async leaseOf(op: Operation, opts: CallOptions): Promise<Operation["lease"]> {
    const lease = await this.deps.leases.getLease(op.schedulerName, op.id, opts);
    return lease ? { operationId: op.id, ttl: lease.expiresAt, owner: lease.owner || undefined } : undefined;
  }
}
