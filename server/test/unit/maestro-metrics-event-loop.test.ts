import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { MaestroMetrics } from "../../src/adapters/metrics/maestro-metrics.js";

/** One sample's value from Prometheus text exposition. */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} not exposed`);
  return Number(line.split(" ")[1]);
}

/** Holds the event loop (and this thread) for `ms`, as a synchronous hot loop or a huge JSON parse would. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// The lag histogram samples the loop with a timer (slower than prom-client's default, to spare idle CPU): a stall
// longer than that period must still be recorded, whenever it starts.
describe("event-loop lag metrics", () => {
  it("record a 300 ms stall of the event loop in nodejs_eventloop_lag_max_seconds", async () => {
    const metrics = new MaestroMetrics();
    // A scrape resets the histogram (and its sampler, which records from its second tick on): what the next scrape
    // reports is what happened since. Give the sampler ticks enough to be recording again before the stall.
    await metrics.render();
    await sleep(500);
    stall(300);
    // The sampling timer that came due during the stall fires now, late by most of it.
    await sleep(20);
    const text = await metrics.render();
    expect(sample(text, "nodejs_eventloop_lag_max_seconds")).toBeGreaterThanOrEqual(0.15);
    expect(sample(text, "nodejs_eventloop_lag_p99_seconds")).toBeGreaterThan(0);
    // Lag, not the time between the sampler's ticks: the quickest tick of an otherwise idle loop lags by next to
    // nothing, whatever the sampling period (prom-client's own figures carry the period: ≥ 0.010 s).
    expect(sample(text, "nodejs_eventloop_lag_min_seconds")).toBeLessThan(0.01);
  });

  it("exposes every default lag gauge once, next to the other default metrics", async () => {
    const text = await new MaestroMetrics().render();
    for (const key of ["", "_min", "_max", "_mean", "_stddev", "_p50", "_p90", "_p99"]) {
      const name = `nodejs_eventloop_lag${key}_seconds`;
      expect(text.split("\n").filter((l) => l.startsWith(`# TYPE ${name} gauge`))).toHaveLength(1);
    }
    expect(text).toContain("nodejs_heap_size_used_bytes ");
    expect(text).toContain("process_cpu_seconds_total ");
  });
});
