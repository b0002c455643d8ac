#!/usr/bin/env node
// RSS of the embedded default (not a test): `maestro start` (the built CLI, all modules, PGlite under a new data
// directory) until /readyz answers, then its RSS and peak RSS (VmRSS / VmHWM from /proc, Linux only); stopped and
// started again on the same directory for a later start's figures. Node runs as `npm start` runs it
// (`--max-semi-space-size=8`; `-- --plain-node` without). Run after `npm run build` (or npm start's build:js):
// node bench/run.mjs embedded-rss
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../server/dist/cli.js", import.meta.url));
const nodeArgs = process.argv.includes("--plain-node") ? [] : ["--max-semi-space-size=8"];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function mib(pid, field) {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return Math.round(Number(line?.match(/(\d+)/)?.[1] ?? 0) / 1024);
}

async function start(dataDir) {
  const [management, rooms, internal] = [await freePort(), await freePort(), await freePort()];
  const began = Date.now();
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      cli,
      "start",
      "--data-dir",
      dataDir,
      "--management-port",
      String(management),
      "--rooms-port",
      String(rooms),
    ].concat(["--internal-port", String(internal)]),
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, MAESTRO_LOG_LEVEL: "warn" } },
  );
  for (;;) {
    if (child.exitCode !== null) throw new Error(`maestro exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${management}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() - began > 180_000) throw new Error("maestro did not become ready in 180 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  const readyMs = Date.now() - began;
  // Settled: the first health-controller and metrics cycles have run, and V8's memory reducer (about 8 s after the
  // start-up's allocations stop) has given back the young generation.
  await new Promise((r) => setTimeout(r, 12_000));
  const figures = { readyMs, rssMiB: mib(child.pid, "VmRSS"), peakMiB: mib(child.pid, "VmHWM") };
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("close", resolve));
  return figures;
}

const dataDir = mkdtempSync(join(tmpdir(), "maestro-bench-embedded-rss-"));
try {
  const rows = [
    { start: "first (new data directory)", ...(await start(dataDir)) },
    { start: "later (same directory)", ...(await start(dataDir)) },
  ];
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  const how = nodeArgs.join(" ") || "no node flags";
  console.log(`\nembedded-rss: maestro start (all modules, PGlite), idle, ${how}; load average ${load}\n`);
  console.log("| start | ready after ms | RSS MiB | peak RSS MiB |\n|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.start} | ${r.readyMs} | ${r.rssMiB} | ${r.peakMiB} |`);
  console.log(`BENCH_RESULT ${JSON.stringify({ scenario: "embedded-rss", rows })}`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
