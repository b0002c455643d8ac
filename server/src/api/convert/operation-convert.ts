import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ListOperationItemSchema, OperationSchema } from "@maestro/proto";
import type { Operation } from "../../core/entities/operation.js";

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
    input: op.input as never,
    executionHistory: op.executionHistory.map((e) => ({ createdAt: timestampFromDate(e.createdAt), event: e.event })),
  });
}
