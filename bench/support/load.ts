// The load generator of the rooms API benchmarks. It runs in a child process of its own (the same bundle started
// with `--load <plan.json>`), so its CPU is not the server's event loop; it still shares the machine's cores.
import { readFileSync } from "node:fs";
import { KeepAliveConnection, requestBytes } from "./keep-alive-client.js";

export interface LoadPlan {
  origin: string;
  method: "PUT" | "POST" | "GET";
  /**
   * Requests cycle through these (path, authorization header or "", body). With `ifNoneMatch` the request is
   * conditional and an empty 304 is the success expected (a poller whose copy is current).
   */
  requests: { path: string; authorization: string; body: string; ifNoneMatch?: string }[];
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Stop a level early after this many measured requests (allocations use up rooms). */
  maxRequests: number;
}

export interface LoadResult {
  concurrency: number;
  requests: number;
  /** Requests answered in all, warm-up included. */
  answered: number;
  /** Measured requests answered 2xx (and, when the answer has a `success` field, with `success: true`). */
  succeeded: number;
  /**
   * Server process CPU time (user + system) over the measured window only, divided by the succeeded requests, in
   * microseconds (set by the parent, which is the server process).
   */
  serverCpuUsPerRequest?: number;
  /** V8 collections in an in-process server over the same window, per 1,000 successes (set by the parent). */
  gcPer1k?: { scavenges: number; full: number; ms: number };
  /** The load generator's own CPU time over the same window per succeeded request, in microseconds. */
  loadCpuUsPerRequest?: number;
  /** redis-server's CPU time over the same window per succeeded request, in microseconds (when the bench has one). */
  redisCpuUsPerRequest?: number;
  /** Measured answers that are not successes: by status, `success:false` for a 2xx saying it failed. */
  errors: Record<string, number>;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Runs one plan on keep-alive connections (one per concurrent caller) and measures each answered request. */
export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const origin = new URL(plan.origin);
  const host = origin.hostname.replace(/^\[|\]$/g, "");
  const port = Number(origin.port || 80);
  // Each request's bytes are built once: the load generator's CPU is taken from the server being measured.
  const encoded = plan.requests.map((r) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (r.authorization) headers.authorization = r.authorization;
    if (r.ifNoneMatch) headers["if-none-match"] = r.ifNoneMatch;
    return requestBytes(origin.host, plan.method, r.path, headers, plan.method === "GET" ? undefined : r.body);
  });
  const latencies = new Float64Array(Math.max(plan.maxRequests, 1));
  const errors: Record<string, number> = {};
  let next = 0;
  let measured = 0;
  let answered = 0;
  let succeeded = 0;
  let measuring = false;
  let stop = false;
  const one = async (connection: KeepAliveConnection) => {
    const i = next++ % plan.requests.length;
    const r = plan.requests[i]!;
    const start = process.hrtime.bigint();
    const res = await connection.request(encoded[i]!);
    const text = res.body;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    answered += 1;
    if (!measuring) return;
    if (res.status === 304 && r.ifNoneMatch) succeeded += 1;
    else if (res.status >= 300) errors[res.status] = (errors[res.status] ?? 0) + 1;
    // Maestro's ping and forwarding answers say `success`; a 200 saying false is not a ping that counted.
    else if (text.includes('"success":false')) errors["success:false"] = (errors["success:false"] ?? 0) + 1;
    else succeeded += 1;
    if (measured < latencies.length) latencies[measured] = ms;
    measured += 1;
    if (measured >= plan.maxRequests) stop = true;
  };
  const connections = Array.from({ length: plan.concurrency }, () => new KeepAliveConnection(host, port));
  const caller = async (connection: KeepAliveConnection) => {
    while (!stop) await one(connection);
  };
  const callers = connections.map(caller);
  await new Promise((r) => setTimeout(r, plan.warmupMs));
  measuring = true;
  // The parent (the server process) reads its own CPU time when it sees these marks: only the measured window counts.
  mark(MEASURE_START);
  const cpuFrom = process.cpuUsage();
  const started = process.hrtime.bigint();
  const timer = setTimeout(() => {
    stop = true;
  }, plan.durationMs);
  await Promise.all(callers);
  mark(MEASURE_END);
  const cpu = process.cpuUsage(cpuFrom);
  clearTimeout(timer);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const c of connections) c.close();
  const sorted = latencies.slice(0, Math.min(measured, latencies.length)).sort();
  const pct = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
  return {
    concurrency: plan.concurrency,
    requests: measured,
    answered,
    succeeded,
    errors,
    loadCpuUsPerRequest: Math.round((cpu.user + cpu.system) / Math.max(succeeded, 1)),
    seconds: round(seconds),
    perSecond: Math.round(measured / seconds),
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
  };
}

export const MEASURE_START = "BENCH_MEASURE_START";
export const MEASURE_END = "BENCH_MEASURE_END";

function mark(line: string): void {
  if (markMeasuredWindow) process.stdout.write(`${line}\n`);
}

/** Set by the child entry: a load run inside the server's own process has no parent to tell. */
let markMeasuredWindow = false;

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Child-process entry: `--load <plan.json>` runs the plan and prints its result as one JSON line. */
export async function loadChildMain(planPath: string): Promise<void> {
  const plan = JSON.parse(readFileSync(planPath, "utf8")) as LoadPlan;
  markMeasuredWindow = true;
  const result = await runLoad(plan);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
