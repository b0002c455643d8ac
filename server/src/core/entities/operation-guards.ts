import { MaestroError } from "../errors.js";
import { finalOperationStatuses, type OperationStatusName } from "./operation.js";

// The errors every OperationStorage/LeaseStorage adapter gives for a refused guarded write, so callers can tell them
// apart by code: conflict = the status was not the expected one; failed_precondition = the writer's lease is gone.

export function staleLease(operationId: string, token: number): MaestroError {
  return new MaestroError(
    "failed_precondition",
    `lease token ${token} of operation ${operationId} is stale: the lease expired or was taken over`,
  );
}

export function statusConflict(
  operationId: string,
  current: OperationStatusName,
  wanted: OperationStatusName,
  expected: OperationStatusName | undefined,
): MaestroError {
  const why = finalOperationStatuses.includes(current)
    ? `"${current}" is a final status`
    : `it is "${current}", not "${expected}"`;
  return new MaestroError("conflict", `operation ${operationId} cannot become "${wanted}": ${why}`);
}

/** Why a status write must be refused, or undefined when it may proceed. */
export function statusWriteRefusal(
  current: OperationStatusName,
  expected: OperationStatusName | undefined,
): "final" | "unexpected" | undefined {
  if (finalOperationStatuses.includes(current)) return "final";
  if (expected !== undefined && current !== expected) return "unexpected";
  return undefined;
}
