import type {
  Operation,
  OperationEvent,
  OperationStage,
  OperationStatusName,
} from "../../../core/entities/operation.js";
import { operationStage } from "../../../core/entities/operation.js";
import { staleLease, statusConflict, statusWriteRefusal } from "../../../core/entities/operation-guards.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type Clock, systemClock } from "../../../core/ports/clock.js";
import type {
  OperationStorage,
  OperationWriteGuard,
  SchedulerDeletion,
} from "../../../core/ports/operation-storage.js";
import { throwIfAborted } from "./abort.js";
import type { MemoryLeaseStorage } from "./memory-lease-storage.js";

interface StoredOperation {
  operation: Operation;
  /** Creation order, the tiebreak for operations created within the same millisecond. */
  seq: number;
}

/** OperationStorage in process memory. Operation ids are unique per scheduler: creating one twice is already_exists. */
export class MemoryOperationStorage implements OperationStorage {
  private readonly operations = new Map<string, Map<string, StoredOperation>>();
  /** Noted deletions by `<scheduler> <operation id>`. */
  private readonly deletions = new Map<string, SchedulerDeletion>();
  private seq = 0;

  /**
   * `ttlSecondsFor` gives how long each kind of operation is kept (undefined = for ever), as the Redis adapter does;
   * `leases` is the lease storage whose tokens fence writes (a fenced write without it is refused).
   */
  constructor(
    private readonly options: {
      ttlSecondsFor?: (definitionName: string) => number | undefined;
      clock?: Clock;
      leases?: MemoryLeaseStorage;
    } = {},
  ) {}

  async cleanExpired(schedulerName: string, opts?: CallOptions): Promise<number> {
    throwIfAborted(opts);
    const ttlFor = this.options.ttlSecondsFor;
    const now = (this.options.clock ?? systemClock).now().getTime();
    const operations = this.operations.get(schedulerName);
    if (!ttlFor || !operations) return 0;
    let removed = 0;
    for (const [id, { operation }] of operations) {
      const ttl = ttlFor(operation.definitionName);
      if (ttl !== undefined && operation.createdAt.getTime() + ttl * 1000 <= now) {
        operations.delete(id);
        removed++;
      }
    }
    return removed;
  }

  async createOperation(op: Operation, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    let operations = this.operations.get(op.schedulerName);
    if (operations === undefined) {
      operations = new Map();
      this.operations.set(op.schedulerName, operations);
    }
    if (operations.has(op.id)) throw new MaestroError("already_exists", `operation ${op.id} already exists`);
    operations.set(op.id, { operation: structuredClone(op), seq: this.seq++ });
  }

  async getOperation(schedulerName: string, id: string, opts?: CallOptions): Promise<Operation | undefined> {
    throwIfAborted(opts);
    const stored = this.operations.get(schedulerName)?.get(id);
    return stored === undefined ? undefined : structuredClone(stored.operation);
  }

  async updateStatus(
    schedulerName: string,
    id: string,
    status: OperationStatusName,
    opts?: OperationWriteGuard,
  ): Promise<void> {
    throwIfAborted(opts);
    const { operation } = this.require(schedulerName, id);
    if (statusWriteRefusal(operation.status, opts?.expected)) {
      throw statusConflict(id, operation.status, status, opts?.expected);
    }
    this.checkFence(schedulerName, id, opts?.fence);
    operation.status = status;
  }

  async appendHistory(
    schedulerName: string,
    id: string,
    event: OperationEvent,
    opts?: CallOptions & { fence?: number | undefined },
  ): Promise<void> {
    throwIfAborted(opts);
    const stored = this.require(schedulerName, id);
    this.checkFence(schedulerName, id, opts?.fence);
    stored.operation.executionHistory.push(structuredClone(event));
  }

  private checkFence(schedulerName: string, id: string, fence: number | undefined): void {
    if (fence === undefined) return;
    if (!this.options.leases?.holds(schedulerName, id, fence)) throw staleLease(id, fence);
  }

  async listOperations(schedulerName: string, stage: OperationStage, opts?: CallOptions): Promise<Operation[]> {
    throwIfAborted(opts);
    return [...(this.operations.get(schedulerName)?.values() ?? [])]
      .filter((stored) => operationStage(stored.operation.status) === stage)
      .sort((a, b) => a.operation.createdAt.getTime() - b.operation.createdAt.getTime() || a.seq - b.seq)
      .map((stored) => structuredClone(stored.operation));
  }

  async deleteOperation(schedulerName: string, id: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    this.operations.get(schedulerName)?.delete(id);
  }

  async deleteOperations(schedulerName: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    this.operations.delete(schedulerName);
  }

  async noteSchedulerDeletion(schedulerName: string, id: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    this.deletions.set(`${schedulerName} ${id}`, { schedulerName, operationId: id });
  }

  async listSchedulerDeletions(opts?: CallOptions): Promise<SchedulerDeletion[]> {
    throwIfAborted(opts);
    return [...this.deletions.values()].map((d) => ({ ...d }));
  }

  async forgetSchedulerDeletion(schedulerName: string, id: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    this.deletions.delete(`${schedulerName} ${id}`);
  }

  private require(schedulerName: string, id: string): StoredOperation {
    const stored = this.operations.get(schedulerName)?.get(id);
    if (stored === undefined) throw MaestroError.notFound(`operation ${id}`);
    return stored;
  }
}
