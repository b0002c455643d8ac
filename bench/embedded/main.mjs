#!/usr/bin/env node
// Figures for the embedded default (not a test): time to N example game rooms ready, ping throughput and latency on
// the rooms API, server RSS, time to delete. Run after `npm run build`: node bench/run.mjs embedded
// (or node bench/embedded/main.mjs [rooms] [seconds]).
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOMS = Number(process.argv[2] ?? 40);
const PING_SECONDS = Number(process.argv[3] ?? 5);
const CONCURRENCY = 32;
const root = fileURLToPath(new URL("../../", import.meta.url));
const secret = "bench-secret-bench-secret";

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const gameRoom = join(root, "examples/game-room/dist/main.js");
if (!existsSync(gameRoom)) {
  console.log("examples/game-room is not built: run `npm run build` first");
  console.log(
    `BENCH_RESULT ${JSON.stringify({ scenario: "embedded", rows: [], skipped: "examples/game-room not built" })}`,
  );
  process.exit(0);
}
let result;
const dataDir = mkdtempSync(join(tmpdir(), "maestro-bench-"));
const [mgmt, rooms, internal] = [await freePort(), await freePort(), await freePort()];
const server = spawn(
  process.execPath,
  [
    join(root, "server/dist/cli.js"),
    "start",
    "--data-dir",
    dataDir,
    "--management-port",
    mgmt,
    "--rooms-port",
    rooms,
    "--internal-port",
    internal,
    "--log-level",
    "warn",
    "--set",
    `roomsApi.tokenSecret=${secret}`,
    "--set",
    "workers.healthControllerIntervalMs=1000",
  ],
  { stdio: ["ignore", "inherit", "inherit"] },
);
const M = `http://127.0.0.1:${mgmt}`;
const R = `http://127.0.0.1:${rooms}`;
try {
  while (
    !(await fetch(`${M}/readyz`).then(
      (r) => r.ok,
      () => false,
    ))
  )
    await sleep(50);
  const idleRss = rss(server.pid);
  const t0 = performance.now();
  const res = await fetch(`${M}/schedulers`, {
    method: "POST",
    body: JSON.stringify({
      name: "bench",
      game: "bench",
      maxSurge: "10%",
      roomsReplicas: ROOMS,
      portRange: { start: 43000, end: 44999 },
      spec: {
        terminationGracePeriod: "10",
        containers: [
          {
            name: "game-room",
            image: "local",
            imagePullPolicy: "IfNotPresent",
            command: [process.execPath, gameRoom],
            requests: { memory: "64Mi", cpu: "100m" },
            limits: { memory: "128Mi", cpu: "200m" },
            ports: [{ name: "game", protocol: "tcp", port: 7000 }],
          },
        ],
      },
    }),
  });
  if (!res.ok) throw new Error(`create failed: ${await res.text()}`);
  for (const deadline = performance.now() + 180_000; ; ) {
    const info = await (await fetch(`${M}/schedulers/info`)).json();
    if (info.schedulers[0]?.roomsReady === ROOMS) break;
    if (performance.now() > deadline) throw new Error(`rooms not all ready after 180 s: ${JSON.stringify(info)}`);
    await sleep(50);
  }
  const readyMs = performance.now() - t0;

  const ids = (await (await fetch(`${M}/schedulers/bench/rooms`)).json()).rooms.map((r) => r.id);
  const latencies = [];
  let failures = 0;
  const until = performance.now() + PING_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      for (let n = i; performance.now() < until; n += CONCURRENCY) {
        const id = ids[n % ids.length];
        const token = createHmac("sha256", secret).update(`bench\n${id}`).digest("base64url");
        const start = performance.now();
        const r = await fetch(`${R}/scheduler/bench/rooms/${id}/ping`, {
          method: "PUT",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: '{"status":"ready","timestamp":"1"}',
        });
        await r.arrayBuffer();
        if (r.ok) latencies.push(performance.now() - start);
        else failures++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const loadedRss = rss(server.pid);

  const t1 = performance.now();
  await fetch(`${M}/schedulers/bench`, { method: "DELETE" });
  while ((await fetch(`${M}/schedulers/bench`)).status !== 404) await sleep(50);
  const deleteMs = performance.now() - t1;

  console.log(`machine: ${(await import("node:os")).cpus().length} cores, node ${process.version}`);
  console.log(`rooms ready: ${ROOMS} example game rooms in ${(readyMs / 1000).toFixed(2)} s`);
  console.log(
    `pings: ${(latencies.length / PING_SECONDS).toFixed(0)}/s over ${PING_SECONDS}s, concurrency ${CONCURRENCY}, ` +
      `p50 ${pct(latencies, 50).toFixed(2)} ms, p99 ${pct(latencies, 99).toFixed(2)} ms, failures ${failures}`,
  );
  console.log(
    `server RSS: ${idleRss.toFixed(0)} MiB idle, ${loadedRss.toFixed(0)} MiB with ${ROOMS} rooms after pings`,
  );
  console.log(`delete scheduler (stop ${ROOMS} rooms): ${(deleteMs / 1000).toFixed(2)} s`);
  result = {
    scenario: "embedded",
    rows: [
      {
        case: `${ROOMS} example rooms, embedded default`,
        "ready s": Number((readyMs / 1000).toFixed(2)),
        "pings/s": Math.round(latencies.length / PING_SECONDS),
        "ping p50 ms": Number(pct(latencies, 50).toFixed(2)),
        "ping p99 ms": Number(pct(latencies, 99).toFixed(2)),
        "RSS idle MiB": Math.round(idleRss),
        "RSS loaded MiB": Math.round(loadedRss),
        "delete s": Number((deleteMs / 1000).toFixed(2)),
        errors: failures,
      },
    ],
  };
} finally {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
