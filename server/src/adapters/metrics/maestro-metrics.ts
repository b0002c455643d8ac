import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { registerEventLoopLag } from "./event-loop-lag.js";

/** Maestro's latency buckets (milliseconds) for operations, forwarders and HTTP. */
export const latencyBucketsMs = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/** Storage calls are mostly sub-millisecond on memory and a few ms on Redis: finer buckets at the low end. */
export const storageBucketsMs = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

export type ForwardOutcome = "success" | "failure" | "timeout" | "shed";

/** What the forwarders report per delivery (structurally the core's ForwardingStats). */
export interface ForwardingStats {
  delivered(forwarder: string, event: string, outcome: ForwardOutcome, durationMs: number): void;
}

/** Records one answered request of one API. */
export type HttpRecorder = (method: string, route: string, code: number, durationMs: number) => void;

type Child = { counter: Counter.Internal; histogram: Histogram.Internal<string> };

/** How often the event-loop lag gauges sample the loop (see registerEventLoopLag): 10 wake-ups a second. */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * prom-client's own lag sampler is replaced by registerEventLoopLag's; it cannot be left out of the default metrics,
 * so its period is made one that never comes (2^31 − 1 ms, about 24.8 days).
 */
const UNUSED_SAMPLER_MS = 2_147_483_647;

/**
 * One Prometheus registry per process and the metrics every module reports into. Label children are cached by key so
 * that hot paths (pings, storage calls) do not rebuild label objects on each call. Documented in docs/metrics.md.
 */
export class MaestroMetrics implements ForwardingStats {
  readonly registry = new Registry();

  readonly storageLatency = new Histogram({
    name: "maestro_storage_operation_latency",
    help: "Storage call latency in milliseconds, by storage port, backend and method.",
    labelNames: ["storage", "backend", "operation"] as const,
    buckets: storageBucketsMs,
    registers: [this.registry],
  });
  readonly storageFails = new Counter({
    name: "maestro_storage_fails_total",
    help: "Storage calls that failed (backend unreachable or internal error), by storage port, backend and method.",
    labelNames: ["storage", "backend", "operation"] as const,
    registers: [this.registry],
  });

  readonly operationExecution = new Histogram({
    name: "maestro_worker_operation_execution_latency",
    help: "Operation execution time in milliseconds, by operation name and outcome.",
    labelNames: ["game", "scheduler", "operation", "success"] as const,
    buckets: latencyBucketsMs,
    registers: [this.registry],
  });
  readonly operationRollback = new Histogram({
    name: "maestro_worker_operation_rollback_latency",
    help: "Operation rollback time in milliseconds, by operation name and outcome.",
    labelNames: ["game", "scheduler", "operation", "success"] as const,
    buckets: latencyBucketsMs,
    registers: [this.registry],
  });
  readonly operationEvicted = new Counter({
    name: "maestro_worker_operation_evicted_total",
    help: "Operations that ended evicted without running, by reason.",
    labelNames: ["game", "scheduler", "operation", "reason"] as const,
    registers: [this.registry],
  });

  private readonly httpRequests = new Counter({
    name: "maestro_http_requests_total",
    help: "HTTP requests answered, by API, method, route template and status code.",
    labelNames: ["service", "method", "route", "code"] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: "maestro_http_request_duration_ms",
    help: "HTTP request duration in milliseconds, by API, method, route template and status code.",
    labelNames: ["service", "method", "route", "code"] as const,
    buckets: latencyBucketsMs,
    registers: [this.registry],
  });
  private readonly forwarderEvents = new Counter({
    name: "maestro_forwarder_events_total",
    help: "Events delivered to forwarders, by forwarder, event and outcome (success, failure, timeout, shed).",
    labelNames: ["forwarder", "event", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly forwarderDuration = new Histogram({
    name: "maestro_forwarder_event_duration_ms",
    help: "Forwarder delivery time in milliseconds, by forwarder, event and outcome.",
    labelNames: ["forwarder", "event", "outcome"] as const,
    buckets: latencyBucketsMs,
    registers: [this.registry],
  });

  private readonly httpRecorders = new Map<string, HttpRecorder>();
  private readonly forwardChildren = new Map<string, Map<string, Map<ForwardOutcome, Child>>>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    // Process figures (RSS, heap, event-loop lag, GC) under their usual names, for dashboards that expect them.
    if (opts.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: UNUSED_SAMPLER_MS });
      registerEventLoopLag(this.registry, EVENT_LOOP_SAMPLE_MS);
    }
  }

  /** One answered HTTP request; `route` is the route template (bounded), never the raw URL. */
  httpRequest(service: string, method: string, route: string, code: number, durationMs: number): void {
    this.httpRecorder(service)(method, route, code, durationMs);
  }

  /**
   * The recorder of one API. Children are found through nested maps keyed by the strings the request already holds,
   * so recording a request allocates nothing once its label combination has been seen.
   */
  httpRecorder(service: string): HttpRecorder {
    const existing = this.httpRecorders.get(service);
    if (existing) return existing;
    const byRoute = new Map<string, Map<string, Map<number, Child>>>();
    const recorder: HttpRecorder = (method, route, code, durationMs) => {
      let byMethod = byRoute.get(route);
      if (!byMethod) {
        byMethod = new Map();
        byRoute.set(route, byMethod);
      }
      let byCode = byMethod.get(method);
      if (!byCode) {
        byCode = new Map();
        byMethod.set(method, byCode);
      }
      let child = byCode.get(code);
      if (!child) {
        const c = String(code);
        child = {
          counter: this.httpRequests.labels(service, method, route, c),
          histogram: this.httpDuration.labels(service, method, route, c),
        };
        byCode.set(code, child);
      }
      child.counter.inc();
      child.histogram.observe(durationMs);
    };
    this.httpRecorders.set(service, recorder);
    return recorder;
  }

  delivered(forwarder: string, event: string, outcome: ForwardOutcome, durationMs: number): void {
    // Nested lookups on the caller's strings: no key is built per delivery (room events may follow every ping).
    let byEvent = this.forwardChildren.get(forwarder);
    if (!byEvent) {
      byEvent = new Map();
      this.forwardChildren.set(forwarder, byEvent);
    }
    let byOutcome = byEvent.get(event);
    if (!byOutcome) {
      byOutcome = new Map();
      byEvent.set(event, byOutcome);
    }
    let child = byOutcome.get(outcome);
    if (!child) {
      child = {
        counter: this.forwarderEvents.labels(forwarder, event, outcome),
        histogram: this.forwarderDuration.labels(forwarder, event, outcome),
      };
      byOutcome.set(outcome, child);
    }
    child.counter.inc();
    child.histogram.observe(durationMs);
  }

  /**
   * Drops the per-scheduler series (operation latencies, evictions) of schedulers not in `live`, so a deleted
   * scheduler stops being reported instead of lingering until the process restarts.
   */
  async forgetSchedulersExcept(live: ReadonlySet<string>): Promise<void> {
    for (const metric of [this.operationExecution, this.operationRollback, this.operationEvicted]) {
      const { values } = await metric.get();
      const gone = new Map<string, Record<string, string>>();
      for (const { labels } of values) {
        const scheduler = labels.scheduler;
        if (typeof scheduler !== "string" || live.has(scheduler)) continue;
        const { le: _bucket, ...own } = labels as Record<string, string>;
        gone.set(JSON.stringify(own), own);
      }
      for (const labels of gone.values()) metric.remove(labels as never);
    }
  }

  /** Prometheus text exposition of everything in this process's registry. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
