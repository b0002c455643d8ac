/** Operation statuses; numeric values are Maestro's. */
export const OperationStatus = {
  pending: 0,
  in_progress: 1,
  canceled: 2,
  finished: 3,
  evicted: 4,
  error: 5,
} as const;
export type OperationStatusName = keyof typeof OperationStatus;

export const finalOperationStatuses: readonly OperationStatusName[] = ["canceled", "finished", "evicted", "error"];

export interface OperationEvent {
  createdAt: Date;
  event: string;
}

export interface Operation {
  id: string;
  schedulerName: string;
  definitionName: string;
  status: OperationStatusName;
  /** The definition's input, as JSON. */
  input: Record<string, unknown>;
  createdAt: Date;
  executionHistory: OperationEvent[];
  lease?: OperationLease | undefined;
}

export interface OperationLease {
  operationId: string;
  ttl: Date;
  /** The replica holding the lease, when known. */
  owner?: string | undefined;
}

/** The history event recovery writes when it re-queues a retryable operation whose worker stopped mid-way. */
export const REQUEUED_EVENT = "Operation lease expired (its worker stopped); re-queued to run again";

/** The history event of a retryable operation its worker handed back to the queue as it stopped. */
export const INTERRUPTED_EVENT = "Operation interrupted: its worker is stopping; queued to run again";

/** Whether this run repeats one a stopped worker left unfinished (what it did may already be there). */
export function isRerun(op: Pick<Operation, "executionHistory">): boolean {
  return op.executionHistory.some((e) => e.event === REQUEUED_EVENT || e.event === INTERRUPTED_EVENT);
}

export type OperationStage = "pending" | "active" | "final";

export function operationStage(status: OperationStatusName): OperationStage {
  if (status === "pending") return "pending";
  if (status === "in_progress") return "active";
  return "final";
}
