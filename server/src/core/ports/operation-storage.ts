import type { Operation, OperationEvent, OperationStage, OperationStatusName } from "../entities/operation.js";
import type { CallOptions } from "./call-options.js";

/**
 * Conditions of a guarded operation write, checked atomically with it. `expected`: the status the operation must have
 * (compare-and-set; a mismatch throws `conflict` naming the current status). `fence`: the token of the lease the
 * writer holds; a lease that expired, was revoked or was taken over with a newer token throws `failed_precondition`.
 */
export interface OperationWriteGuard extends CallOptions {
  expected?: OperationStatusName | undefined;
  fence?: number | undefined;
}

export interface OperationStorage {
  createOperation(op: Operation, opts?: CallOptions): Promise<void>;
  /** Undefined when absent. */
  getOperation(schedulerName: string, id: string, opts?: CallOptions): Promise<Operation | undefined>;
  /**
   * Sets the status under the guard; throws not_found. A final status is never changed again (conflict), so an
   * operation ends in exactly one final state whoever writes last.
   */
  updateStatus(
    schedulerName: string,
    id: string,
    status: OperationStatusName,
    opts?: OperationWriteGuard,
  ): Promise<void>;
  /** Appends one history entry, refused like updateStatus when `fence` is stale; throws not_found. */
  appendHistory(
    schedulerName: string,
    id: string,
    event: OperationEvent,
    opts?: CallOptions & { fence?: number | undefined },
  ): Promise<void>;
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
  /**
   * Notes that operation `id` deletes its scheduler. delete_scheduler writes it before it removes the scheduler's
   * record: from then on the scheduler has no owner to recover the operation, so recovery on every worker finds it
   * here instead (the note outlives the scheduler's own keys). Noting it twice keeps one note.
   */
  noteSchedulerDeletion(schedulerName: string, id: string, opts?: CallOptions): Promise<void>;
  /** Every noted deletion, in no particular order. */
  listSchedulerDeletions(opts?: CallOptions): Promise<SchedulerDeletion[]>;
  /** Drops one note; no error when absent. */
  forgetSchedulerDeletion(schedulerName: string, id: string, opts?: CallOptions): Promise<void>;
}

/** A delete_scheduler operation noted by noteSchedulerDeletion. */
export interface SchedulerDeletion {
  schedulerName: string;
  operationId: string;
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

/** A held operation lease: who holds it, its fencing token and when it expires (by the storage's clock). */
export interface Lease {
  operationId: string;
  owner: string;
  /** Larger than every token granted before it for the same scheduler: a write carrying an older one is refused. */
  token: number;
  expiresAt: Date;
}

/**
 * Operation leases, fenced. Time is the storage's own (Redis TIME), so replicas with skewed clocks agree on expiry.
 * An expired lease counts as absent: it can be granted again (with a new token) and cannot be renewed.
 */
export interface LeaseStorage {
  /** Grants a lease to `owner` with a new token; throws already_exists when a live lease for this operation is held. */
  grantLease(
    schedulerName: string,
    operationId: string,
    ttlMs: number,
    opts?: CallOptions & { owner?: string | undefined },
  ): Promise<Lease>;
  /** Extends the lease held with `token`; throws failed_precondition when it expired or another token holds it. */
  renewLease(
    schedulerName: string,
    operationId: string,
    token: number,
    ttlMs: number,
    opts?: CallOptions,
  ): Promise<Lease>;
  /** Drops the lease; with `token`, only if that token holds it (a late revoke never frees a successor's lease). */
  revokeLease(
    schedulerName: string,
    operationId: string,
    opts?: CallOptions & { token?: number | undefined },
  ): Promise<void>;
  /** The live lease, if any. */
  getLease(schedulerName: string, operationId: string, opts?: CallOptions): Promise<Lease | undefined>;
}
