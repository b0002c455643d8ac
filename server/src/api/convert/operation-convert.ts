import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ListOperationItemSchema, OperationSchema } from "@maestro/proto";
import type { Operation } from "../../core/entities/operation.js";

/**
 * An operation input as a Struct can hold it: a definition may leave optional fields undefined (remove_rooms without
 * roomsIds), which a Struct Value cannot encode, so they go the way JSON would drop them.
 */
function jsonObject(input: Record<string, unknown> | undefined): JsonObject {
  return JSON.parse(JSON.stringify(input ?? {})) as JsonObject;
}

/** Fields shared by the list item and the full operation. */
function summary(op: Operation) {
  return {
    id: op.id,
    status: op.status,
    definitionName: op.definitionName,
    lease: op.lease && { ttl: op.lease.ttl.toISOString() },
    schedulerName: op.schedulerName,
    createdAt: timestampFromDate(op.createdAt),
  };
}

export function operationItemToPb(op: Operation) {
  return create(ListOperationItemSchema, summary(op));
}

export function operationToPb(op: Operation) {
  return create(OperationSchema, {
    ...summary(op),
    input: jsonObject(op.input),
    executionHistory: op.executionHistory.map((e) => ({ createdAt: timestampFromDate(e.createdAt), event: e.event })),
  });
}
