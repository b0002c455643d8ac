import { performance } from "node:perf_hooks";
import type { Histogram } from "prom-client";
import { MaestroError } from "../../core/errors.js";
import type { MaestroMetrics } from "./maestro-metrics.js";

/** Codes that are answers about the data (missing, conflicting), not a storage failure. */
const domainCodes = new Set(["not_found", "already_exists", "conflict", "failed_precondition", "invalid_argument"]);

/**
 * Wraps a storage port so every promise-returning method records its latency and failures, without the core or the
 * adapter knowing. Methods listed in `skip` (blocking waits such as a queue's `next`) and methods returning anything
 * other than a promise (watch iterators, sync getters) pass through untouched.
 */
export function timedStorage<T extends object>(
  metrics: MaestroMetrics,
  storage: string,
  backend: string,
  target: T,
  skip: readonly string[] = [],
): T {
  // Keyed by the method itself, not its name: a method replaced on the target (tests, late binding) is wrapped anew.
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string" || skip.includes(prop) || prop === "constructor") {
        return value;
      }
      let fn = wrapped.get(value);
      if (!fn) {
        fn = timedMethod(
          value as (...args: unknown[]) => unknown,
          obj,
          metrics.storageLatency.labels(storage, backend, prop),
          metrics.storageFails.labels(storage, backend, prop),
        );
        wrapped.set(value, fn);
      }
      return fn;
    },
  });
}

function timedMethod(
  method: (...args: unknown[]) => unknown,
  self: object,
  latency: Histogram.Internal<string>,
  fails: { inc(): void },
): (...args: unknown[]) => unknown {
  const failed = (err: unknown) => {
    if (!(err instanceof MaestroError && (domainCodes.has(err.code) || err.code === "canceled")) && !isAbort(err)) {
      fails.inc();
    }
  };
  return (...args: unknown[]) => {
    const start = performance.now();
    let result: unknown;
    try {
      result = method.apply(self, args);
    } catch (err) {
      failed(err);
      throw err;
    }
    if (!isThenable(result)) return result;
    return result.then(
      (v) => {
        latency.observe(performance.now() - start);
        return v;
      },
      (err: unknown) => {
        latency.observe(performance.now() - start);
        failed(err);
        throw err;
      },
    );
  };
}

function isThenable(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}
