import { monitorEventLoopDelay } from "node:perf_hooks";
import { Gauge, type Registry } from "prom-client";

/**
 * prom-client's event-loop lag gauges (nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds) on a sampler
 * of our own. prom-client samples the loop every 10 ms, waking an idle process 100 times a second: most of the CPU an
 * idle API burned. Node's sampler records the time between its ticks, so prom-client's figures carry its 10 ms period
 * (an idle loop reads p50 ≈ 0.010 s); these carry none, so they read the lag itself and a sampling period can be
 * chosen for cost without shifting every figure by it. A stall as long as the period or longer is always recorded
 * (the tick due during it comes late by most of it); shorter ones are caught in proportion to their length.
 */
export function registerEventLoopLag(registry: Registry, periodMs: number): void {
  const histogram = monitorEventLoopDelay({ resolution: periodMs });
  histogram.enable();
  const periodNs = periodMs * 1e6;
  const lagSeconds = (intervalNs: number) => Math.max(0, intervalNs - periodNs) / 1e9;
  // Each scrape reports the ticks since the previous one, as prom-client does. A registry collects its metrics in the
  // order they were registered: the first of the seven takes the scrape's reading, the others report from it.
  let reading: Record<string, number> = {};
  const read = () => {
    const empty = histogram.count === 0;
    reading = {
      min: empty ? 0 : lagSeconds(histogram.min),
      max: empty ? 0 : lagSeconds(histogram.max),
      mean: empty ? 0 : lagSeconds(histogram.mean),
      stddev: empty ? 0 : histogram.stddev / 1e9,
      p50: empty ? 0 : lagSeconds(histogram.percentile(50)),
      p90: empty ? 0 : lagSeconds(histogram.percentile(90)),
      p99: empty ? 0 : lagSeconds(histogram.percentile(99)),
    };
    histogram.reset();
  };
  const gauges: [string, string, "min" | "max" | "average"][] = [
    ["min", "The minimum recorded event loop delay.", "min"],
    ["max", "The maximum recorded event loop delay.", "max"],
    ["mean", "The mean of the recorded event loop delays.", "average"],
    ["stddev", "The standard deviation of the recorded event loop delays.", "average"],
    ["p50", "The 50th percentile of the recorded event loop delays.", "average"],
    ["p90", "The 90th percentile of the recorded event loop delays.", "average"],
    ["p99", "The 99th percentile of the recorded event loop delays.", "average"],
  ];
  for (const [key, help, aggregator] of gauges) {
    const name = `nodejs_eventloop_lag_${key}_seconds`;
    registry.removeSingleMetric(name);
    new Gauge({
      name,
      help,
      aggregator,
      registers: [registry],
      collect() {
        if (key === "min") read();
        this.set(reading[key] ?? 0);
      },
    });
  }
}
