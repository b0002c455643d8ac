import {
  type Operation,
  type OperationEvent,
  OperationStatus,
  type OperationStatusName,
} from "../../../core/entities/operation.js";
import { MaestroError } from "../../../core/errors.js";

const statusByNumber = new Map<string, OperationStatusName>(
  Object.entries(OperationStatus).map(([name, value]) => [String(value), name as OperationStatusName]),
);

/** The status a stored number stands for; throws on a number Maestro does not define. */
export function statusName(stored: string): OperationStatusName {
  const name = statusByNumber.get(stored);
  if (name === undefined) throw new Error(`unknown operation status ${stored}`);
  return name;
}

export function statusNumber(status: OperationStatusName): string {
  return String(OperationStatus[status]);
}

/** One history entry as stored in the executionHistory JSON array. */
export function encodeEvent(event: OperationEvent): string {
  return JSON.stringify({ createdAt: event.createdAt.toISOString(), event: event.event });
}

/** Hash fields of an operation, as field/value pairs for HSET. The lease lives in its own set, not here. */
export function encodeOperation(op: Operation): string[] {
  return [
    "id",
    op.id,
    "schedulerName",
    op.schedulerName,
    "status",
    statusNumber(op.status),
    "definitionName",
    op.definitionName,
    "createdAt",
    op.createdAt.toISOString(),
    "input",
    JSON.stringify(op.input),
    "executionHistory",
    `[${op.executionHistory.map(encodeEvent).join(",")}]`,
  ];
}

/** Undefined for an empty hash (absent or expired); internal error for a hash this code did not write. */
export function decodeOperation(key: string, hash: Record<string, string>): Operation | undefined {
  if (Object.keys(hash).length === 0) return undefined;
  try {
    const { id, schedulerName, status, definitionName, createdAt, input, executionHistory } = hash;
    if (
      id === undefined ||
      schedulerName === undefined ||
      definitionName === undefined ||
      createdAt === undefined ||
      input === undefined ||
      executionHistory === undefined
    ) {
      throw new Error("missing fields");
    }
    const statusName = status === undefined ? undefined : statusByNumber.get(status);
    if (statusName === undefined) throw new Error(`unknown status ${status}`);
    const events = JSON.parse(executionHistory) as { createdAt: string; event: string }[];
    return {
      id,
      schedulerName,
      definitionName,
      status: statusName,
      input: JSON.parse(input) as Record<string, unknown>,
      createdAt: parseDate(createdAt),
      executionHistory: events.map((e) => ({ createdAt: parseDate(e.createdAt), event: e.event })),
    };
  } catch (e) {
    throw new MaestroError("internal", `malformed operation hash ${key}: ${e instanceof Error ? e.message : e}`, {
      cause: e,
    });
  }
}

function parseDate(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new Error(`bad date ${text}`);
  return date;
}
