import { abortableSleep } from "../../delay.js";
import { MaestroError } from "../../errors.js";
import type { OperationDefinition } from "../definition.js";
import { asObject } from "../input.js";

export const TEST_OPERATION = "test_operation";

/**
 * Maestro's test operation: sleeps `sleepSeconds` (stopping at once when canceled). It exercises the engine (leases,
 * cancel, recovery, replicas) without touching rooms. It cannot be created through the API.
 */
export function testOperation(): OperationDefinition<{ sleepSeconds: number }> {
  return {
    name: TEST_OPERATION,
    parseInput(input) {
      const o = asObject(input, TEST_OPERATION);
      const s = o.sleepSeconds ?? 0;
      if (typeof s !== "number" || !(s >= 0)) {
        throw MaestroError.invalid([{ field: "sleepSeconds", message: "must be a number of seconds ≥ 0" }]);
      }
      return { sleepSeconds: s };
    },
    async execute(ctx, { sleepSeconds }) {
      await abortableSleep(sleepSeconds * 1000, ctx.signal);
      await ctx.history(`slept ${sleepSeconds}s`);
    },
  };
}
