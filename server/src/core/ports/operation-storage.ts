import type { Operation, OperationEvent, OperationStage, OperationStatusName } from "../entities/operation.js";
import type { CallOptions } from "./call-options.js";

export interface OperationStorage {
  createOperation(op: Operation, opts?: CallOptions): Promise<void>;
  /** Undefined when absent. */
  getOperation(schedulerName: string, id: string, opts?: CallOptions): Promise<Operation | undefined>;
  /** Sets the status; throws not_found. */
  updateStatus(schedulerName: string, id: string, status: OperationStatusName, opts?: CallOptions): Promise<void>;
  /** Appends one history entry; throws not_found. */
  appendHistory(schedulerName: string, id: string, event: OperationEvent, opts?: CallOptions): Promise<void>;
  /** Operations of a stage, oldest first. */
  listOperations(schedulerName: string, stage: OperationStage, opts?: CallOptions): Promise<Operation[]>;
  /** Removes one operation record; no error when absent (used to drop health checks that took no action). */
  deleteOperation(schedulerName: string, id: string, opts?: CallOptions): Promise<void>;
  /**
   * Forgets operations whose time to live has passed (high-volume kinds such as add_rooms keep 24 h) and whatever
   * index entries they left; returns how many went. The storage_clean_up operation calls it.
   */
  cleanExpired(schedulerName: string, opts?: CallOptions): Promise<number>;
  /** Removes every operation record of the scheduler. */
  deleteOperations(schedulerName: string, opts?: CallOptions): Promise<void>;
}

/**
 * Per-scheduler FIFO of operation ids. `next` blocks until an id is available or the signal aborts; the id stays
 * reserved (not lost if the worker dies) until `ack`.
 */
export interface OperationQueue {
  enqueue(schedulerName: string, operationId: string, opts?: CallOptions & { priority?: boolean }): Promise<void>;
  next(schedulerName: string, opts: Required<CallOptions>): Promise<string>;
  ack(schedulerName: string, operationId: string, opts?: CallOptions): Promise<void>;
  /** Ids waiting, in the order they will run (reserved first). */
  pendingIds(schedulerName: string, opts?: CallOptions): Promise<string[]>;
  /** Drops the whole queue of a scheduler. */
  clear(schedulerName: string, opts?: CallOptions): Promise<void>;
}

export interface LeaseStorage {
  /** Throws already_exists when a lease for this operation is held. */
  grantLease(schedulerName: string, operationId: string, ttlMs: number, opts?: CallOptions): Promise<Date>;
  renewLease(schedulerName: string, operationId: string, ttlMs: number, opts?: CallOptions): Promise<Date>;
  revokeLease(schedulerName: string, operationId: string, opts?: CallOptions): Promise<void>;
  getLease(schedulerName: string, operationId: string, opts?: CallOptions): Promise<Date | undefined>;
}
