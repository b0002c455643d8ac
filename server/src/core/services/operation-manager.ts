import { randomUUID } from "node:crypto";
import { finalOperationStatuses, type Operation, type OperationStage } from "../entities/operation.js";
import { MaestroError } from "../errors.js";
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
}

/** Abort handles of operations running in this process, so a cancel can reach them. */
export class RunningOperations {
  private readonly controllers = new Map<string, AbortController>();

  register(operationId: string, controller: AbortController): () => void {
    this.controllers.set(operationId, controller);
    return () => this.controllers.delete(operationId);
  }

  abort(operationId: string, reason: unknown): boolean {
    const controller = this.controllers.get(operationId);
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }
}

export class OperationCanceled extends Error {
  override readonly name = "OperationCanceled";
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
    const definition = this.deps.registry.get(definitionName);
    if (!definition) throw new MaestroError("invalid_argument", `unknown operation ${definitionName}`);
    const parsed = definition.parseInput(input);
    const now = this.deps.clock.now();
    const operation: Operation = {
      id: randomUUID(),
      schedulerName,
      definitionName,
      status: "pending",
      input: (parsed ?? {}) as Record<string, unknown>,
      createdAt: now,
      executionHistory: [{ createdAt: now, event: "Created" }],
    };
    await this.deps.operations.createOperation(operation, opts);
    await this.deps.queue.enqueue(schedulerName, operation.id, opts);
    return operation;
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

  /** Pending → canceled now; in progress → its AbortSignal fires and the worker ends it canceled; final → conflict. */
  async cancel(schedulerName: string, id: string, opts: CallOptions = {}): Promise<void> {
    const op = await this.get(schedulerName, id, opts);
    if (finalOperationStatuses.includes(op.status)) {
      throw new MaestroError("conflict", `cannot cancel operation since status "${op.status}" is a final status`);
    }
    if (op.status === "pending") {
      await this.deps.operations.updateStatus(schedulerName, id, "canceled", opts);
      await this.deps.operations.appendHistory(
        schedulerName,
        id,
        { createdAt: this.deps.clock.now(), event: "Operation canceled by the user" },
        opts,
      );
      return;
    }
    if (this.running.abort(id, new OperationCanceled("operation canceled by the user"))) return;
    if (!this.deps.cancelSignals) {
      throw new MaestroError("unavailable", `operation ${id} is not running in this process; retry shortly`);
    }
    // Running on another replica: the replica that runs it aborts it and records `canceled`.
    await this.deps.cancelSignals.publish(schedulerName, id, opts);
  }

  private async leaseOf(op: Operation, opts: CallOptions): Promise<Operation["lease"]> {
    const ttl = await this.deps.leases.getLease(op.schedulerName, op.id, opts);
    return ttl ? { operationId: op.id, ttl } : undefined;
  }
}
