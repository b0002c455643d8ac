import { performance } from "node:perf_hooks";
import type { AnyOperationDefinition } from "../../core/operations/definition.js";
import type { OperationStorage } from "../../core/ports/operation-storage.js";
import type { MaestroMetrics } from "./maestro-metrics.js";

/** Finds a scheduler's game for the `game` label (cached: operations are not a hot path, but not free either). */
export type GameOf = (schedulerName: string) => Promise<string>;

/** Times an operation definition's execute and rollback into the execution/rollback latency histograms. */
export function timedOperation(
  metrics: MaestroMetrics,
  gameOf: GameOf,
  definition: AnyOperationDefinition,
): AnyOperationDefinition {
  const observe = async (
    histogram: MaestroMetrics["operationExecution"],
    scheduler: string,
    start: number,
    ok: boolean,
  ) => {
    const ms = performance.now() - start;
    const game = await gameOf(scheduler).catch(() => "");
    histogram.labels(game, scheduler, definition.name, String(ok)).observe(ms);
  };
  const timed: AnyOperationDefinition = {
    name: definition.name,
    ...(definition.retryable === undefined ? {} : { retryable: definition.retryable }),
    // Methods are re-bound: definitions may be objects whose methods use `this`.
    parseInput: (input) => definition.parseInput(input),
    async execute(ctx, input) {
      const start = performance.now();
      try {
        await definition.execute(ctx, input);
        await observe(metrics.operationExecution, ctx.schedulerName, start, true);
      } catch (err) {
        await observe(metrics.operationExecution, ctx.schedulerName, start, false);
        throw err;
      }
    },
  };
  if (definition.shouldExecute) timed.shouldExecute = (input, c) => definition.shouldExecute?.(input, c) ?? true;
  const rollback = definition.rollback;
  if (rollback) {
    timed.rollback = async (ctx, input, error) => {
      const start = performance.now();
      try {
        await rollback.call(definition, ctx, input, error);
        await observe(metrics.operationRollback, ctx.schedulerName, start, true);
      } catch (err) {
        await observe(metrics.operationRollback, ctx.schedulerName, start, false);
        throw err;
      }
    };
  }
  return timed;
}

/** Reasons the operation worker writes when it evicts ("Operation evicted: <why>"), mapped to bounded label values. */
function evictionReason(event: string): string {
  if (event.includes("no definition")) return "unknown_definition";
  if (event.includes("invalid input")) return "invalid_input";
  if (event.includes("should not execute")) return "should_not_execute";
  return "other";
}

/**
 * Counts evictions by watching the operation storage: once the worker's compare-and-set from pending to evicted has
 * succeeded it appends one "Operation evicted: <why>" line, so that line marks each eviction exactly once (a cancel
 * that won the race writes no such line). Keeps the core free of metrics code.
 */
export function countingEvictions(
  metrics: MaestroMetrics,
  gameOf: GameOf,
  storage: OperationStorage,
): OperationStorage {
  return new Proxy(storage, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (prop === "appendHistory") {
        return async (schedulerName: string, id: string, event: { event: string }, ...rest: unknown[]) => {
          await (value as (...a: unknown[]) => Promise<void>).call(obj, schedulerName, id, event, ...rest);
          if (!event.event.startsWith("Operation evicted")) return;
          const op = await obj.getOperation(schedulerName, id).catch(() => undefined);
          const game = await gameOf(schedulerName).catch(() => "");
          const reason = evictionReason(event.event);
          metrics.operationEvicted.labels(game, schedulerName, op?.definitionName ?? "unknown", reason).inc();
        };
      }
      return typeof value === "function" ? value.bind(obj) : value;
    },
  });
}
