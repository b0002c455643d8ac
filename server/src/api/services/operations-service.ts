import type { ServiceImpl } from "@connectrpc/connect";
import type { OperationsService } from "@maestro/proto";
import type { OperationStage } from "../../core/entities/operation.js";
import { MaestroError } from "../../core/errors.js";
import type { OperationManager } from "../../core/services/operation-manager.js";
import { operationItemToPb, operationToPb } from "../convert/operation-convert.js";
import { handle } from "../errors.js";

const stages: readonly OperationStage[] = ["pending", "active", "final"];
const DEFAULT_PAGE_SIZE = 15;
const MAX_PAGE_SIZE = 100;

/** Maestro's listing rules: stage required; ordering by createdAt only; pagination only for the final stage. */
export function operationsService(operations: OperationManager): Partial<ServiceImpl<typeof OperationsService>> {
  return {
    listOperations: (req, ctx) =>
      handle(async () => {
        const stage = req.stage as OperationStage;
        if (!stages.includes(stage)) {
          throw MaestroError.invalid([{ field: "stage", message: `must be one of ${stages.join(", ")}` }]);
        }
        const descending = parseOrder(req.orderBy);
        const paginated = req.page !== undefined || req.perPage !== undefined;
        if (paginated && stage !== "final") {
          throw MaestroError.invalid([{ field: "page", message: "pagination is only allowed for the final stage" }]);
        }
        const ops = await operations.list(req.schedulerName, stage, { signal: ctx.signal });
        // Storage lists oldest first; its order breaks ties between operations created in the same millisecond.
        const order = new Map(ops.map((o, i) => [o.id, i]));
        ops.sort(
          (a, b) =>
            (a.createdAt.getTime() - b.createdAt.getTime() || order.get(a.id)! - order.get(b.id)!) *
            (descending ? -1 : 1),
        );
        if (stage !== "final") {
          return { operations: ops.map(operationItemToPb), total: ops.length, pageSize: ops.length };
        }
        const page = req.page ?? 1;
        const perPage = req.perPage ?? DEFAULT_PAGE_SIZE;
        if (page < 1) throw MaestroError.invalid([{ field: "page", message: "must be at least 1" }]);
        if (perPage < 1 || perPage > MAX_PAGE_SIZE) {
          throw MaestroError.invalid([{ field: "perPage", message: `must be between 1 and ${MAX_PAGE_SIZE}` }]);
        }
        const slice = ops.slice((page - 1) * perPage, page * perPage);
        return { operations: slice.map(operationItemToPb), page, pageSize: perPage, total: ops.length };
      }),
    getOperation: (req, ctx) =>
      handle(async () => ({
        operation: operationToPb(await operations.get(req.schedulerName, req.operationId, { signal: ctx.signal })),
      })),
    cancelOperation: (req, ctx) =>
      handle(async () => {
        await operations.cancel(req.schedulerName, req.operationId, { signal: ctx.signal });
        return {};
      }),
  };
}

function parseOrder(orderBy: string): boolean {
  if (!orderBy) return true;
  const [field, direction = "desc", ...rest] = orderBy.trim().split(/\s+/);
  if (field !== "createdAt" || rest.length > 0 || (direction !== "asc" && direction !== "desc")) {
    throw MaestroError.invalid([
      { field: "orderBy", message: 'must be "createdAt", "createdAt asc" or "createdAt desc"' },
    ]);
  }
  return direction === "desc";
}
