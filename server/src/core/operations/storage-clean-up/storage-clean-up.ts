import { failpoint } from "../../failpoints.js";
import type { OperationDefinition } from "../definition.js";
import { asObject } from "../input.js";
import type { OperationServices } from "../services.js";

export const STORAGE_CLEAN_UP = "storage_clean_up";

/** Maestro's storage clean-up: forgets operations past their time to live so the history does not grow for ever. */
export function storageCleanUpOperation(s: OperationServices): OperationDefinition<Record<string, never>> {
  return {
    name: STORAGE_CLEAN_UP,
    retryable: true,
    parseInput: (input) => (asObject(input, STORAGE_CLEAN_UP), {}),
    // Another clean-up already queued will do the same work.
    shouldExecute: (_input, { pending }) => !pending.some((op) => op.definitionName === STORAGE_CLEAN_UP),
    async execute(ctx) {
      const removed = await s.operationStorage.cleanExpired(ctx.schedulerName, { signal: ctx.signal });
      await failpoint("storage_clean_up/cleaned");
      if (removed === 0) ctx.markNoAction();
      await ctx.history(`removed ${removed} expired operations`);
    },
  };
}
