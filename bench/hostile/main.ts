// Figures for hostile clients (issue 16), loopback only and bounded: server memory under a flood of tokenless large
// bodies on every protocol, and the server's open file descriptors under slowloris (connections that never finish
// their request head). A `maestro start` child process with a write token is the target; its RSS and fd count are read
// from /proc. Usage: node bench/run.mjs hostile [-- bodies-per-protocol MiB-per-body sockets]  (default 40 100 1500)
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { connect, type Socket } from "node:net";
import { cpus, loadavg } from "node:os";
import { startMaestroProcess } from "../support/maestro-process.js";

const BODIES = Number(process.argv[2] ?? 40);
const MIB_PER_BODY = Number(process.argv[3] ?? 100);
const SOCKETS = Number(process.argv[4] ?? 1500);
const HEADERS_TIMEOUT_MS = 10_000;

const maestro = await startMaestroProcess({
  "managementApi.writeTokens": "bench-secret",
  "limits.headersTimeoutMs": HEADERS_TIMEOUT_MS,
});
const pid = maestro.child.pid!;
const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const fds = () => readdirSync(`/proc/${pid}/fd`).length;
const { hostname, port } = new URL(maestro.managementUrl);
const rows: Record<string, string | number>[] = [];

/** Streams `mib` MiB of junk with a declared length, tokenless, until the server answers or cuts the connection. */
function flood(path: string, contentType: string, mib: number, declared: boolean): Promise<number> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const headers: Record<string, string | number> = { "content-type": contentType };
    if (declared) headers["content-length"] = mib * chunk.length;
    const req = http.request({ host: hostname, port, path, method: "POST", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(-1));
    let sent = 0;
    const pump = () => {
      while (sent < mib) {
        sent++;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

async function sampled<T>(work: Promise<T>): Promise<{ result: T; peakMiB: number }> {
  let peak = rssMiB();
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB());
  }, 50);
  const result = await work;
  clearInterval(timer);
  return { result, peakMiB: Math.max(peak, rssMiB()) };
}

try {
  const targets = [
    ["Connect", "/maestro.v1.SchedulersService/CreateScheduler", "application/json"],
    ["gRPC-Web", "/maestro.v1.SchedulersService/CreateScheduler", "application/grpc-web+proto"],
    ["REST", "/schedulers", "application/json"],
  ] as const;
  for (const declared of [true, false]) {
    for (const [name, path, type] of targets) {
      const started = Date.now();
      const idle = rssMiB();
      // Four at a time: the probe's 4 × 400 MB took the server from 0.5 to 4.1 GB.
      const { result, peakMiB } = await sampled(
        (async () => {
          const statuses: number[] = [];
          for (let i = 0; i < BODIES; i += 4) {
            const batch = Math.min(4, BODIES - i);
            statuses.push(
              ...(await Promise.all(Array.from({ length: batch }, () => flood(path, type, MIB_PER_BODY, declared)))),
            );
          }
          return statuses;
        })(),
      );
      const answers = [...new Set(result)].sort().join("/");
      rows.push({
        figure: `${name}: ${BODIES} tokenless ${MIB_PER_BODY} MiB bodies, ${declared ? "declared length" : "chunked"}, 4 at a time`,
        value: `RSS ${Math.round(idle)} → peak ${Math.round(peakMiB)} MiB; answers ${answers}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
      });
    }
  }

  const before = fds();
  const sockets: Socket[] = [];
  for (let i = 0; i < SOCKETS; i++) {
    const s = connect({ host: hostname, port: Number(port) });
    s.on("error", () => {});
    s.on("connect", () => s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    sockets.push(s);
  }
  const drip = setInterval(() => {
    for (const s of sockets) if (s.writable) s.write("X-Slow: 1\r\n");
  }, 1_000);
  const t0 = Date.now();
  let peak = before;
  const series: string[] = [];
  let healthy = 0;
  let healthChecks = 0;
  for (let second = 1; second <= Math.ceil(HEADERS_TIMEOUT_MS / 1000) + 5; second++) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = fds();
    peak = Math.max(peak, now);
    if (second % 3 === 0 || second === 1) series.push(`${second}s:${now}`);
    healthChecks++;
    const ok = await fetch(`${maestro.managementUrl}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) healthy++;
  }
  clearInterval(drip);
  const open = sockets.filter((s) => !s.destroyed).length;
  for (const s of sockets) s.destroy();
  rows.push({
    figure: `slowloris: ${SOCKETS} connections dripping a header line per second (limits.headersTimeoutMs ${HEADERS_TIMEOUT_MS / 1000} s)`,
    value: `server fds ${before} → peak ${peak}; ${series.join(" ")}; still open after ${Math.round((Date.now() - t0) / 1000)} s: ${open}; /healthz answered ${healthy}/${healthChecks}`,
  });
} finally {
  await maestro.stop();
}

const note = `${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end (machine shared with other work)`;
console.log(`BENCH_RESULT ${JSON.stringify({ scenario: "hostile", rows, note })}`);
