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

export type OperationStage = "pending" | "active" | "final";

export function operationStage(status: OperationStatusName): OperationStage {
  if (status === "pending") return "pending";
  if (status === "in_progress") return "active";
  return "final";
}
