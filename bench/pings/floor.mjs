#!/usr/bin/env node
// The floor for bench/pings (not a test): a bare node:http server that reads the body and answers {"success":true},
// driven by the same load generator and measured the same way (server CPU between the load child's marks, divided
// by successful requests). Usage, after `node bench/run.mjs pings` has bundled the load generator:
//   node bench/pings/floor.mjs .tmp/bench/pings/main.js [--redis]
// With --redis each request first runs one small Lua script on a throwaway redis-server through ioredis (auto-
// pipelined, as the server's client is): the floor of a ping, which needs one Redis round trip before it answers.
import { spawn, spawn as spawnChild } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const body = '{"success":true}';
const withRedis = process.argv.includes("--redis");
const redis = withRedis ? await startRedis() : undefined;
const answer = (res) => {
  res.writeHead(200, ["content-type", "application/json; charset=utf-8", "content-length", String(body.length)]);
  res.end(body);
};
const server = http.createServer((req, res) => {
  let t = "";
  req.setEncoding("utf8");
  req.on("data", (c) => (t += c));
  req.on("end", () => {
    if (redis === undefined) return answer(res);
    redis.client.floorPing(req.url, t).then(
      () => answer(res),
      () => res.destroy(),
    );
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${server.address().port}`;
const dir = mkdtempSync(join(tmpdir(), "maestro-bench-floor-"));
const planFile = join(dir, "plan.json");
for (const concurrency of [16, 64, 256]) {
  const plan = {
    origin,
    method: "PUT",
    requests: Array.from({ length: 100 }, (_, i) => ({
      path: `/scheduler/bench/rooms/r${i}/ping`,
      authorization: "Bearer x",
      body: '{"status":"ready","runningMatches":0,"timestamp":1}',
    })),
    concurrency,
    warmupMs: 1000,
    durationMs: 4000,
    maxRequests: 2000000,
  };
  writeFileSync(planFile, JSON.stringify(plan));
  const child = spawn(process.execPath, [process.argv[2], "--load", planFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let start,
    used,
    last = "";
  createInterface({ input: child.stdout }).on("line", (l) => {
    if (l === "BENCH_MEASURE_START") start = process.cpuUsage();
    else if (l === "BENCH_MEASURE_END") used = process.cpuUsage(start);
    else if (l.trim()) last = l;
  });
  await new Promise((r) => child.on("close", r));
  const r = JSON.parse(last);
  console.log(
    `${withRedis ? "redis " : ""}c${concurrency}: ${Math.round(r.succeeded / r.seconds)}/s p99 ${r.p99Ms} ms, server CPU ${Math.round((used.user + used.system) / r.succeeded)} µs per request, load ${loadavg()[0].toFixed(1)}`,
  );
}
server.close();
rmSync(dir, { recursive: true, force: true });
redis?.stop();

async function startRedis() {
  const { default: Redis } = await import("ioredis");
  const port = await new Promise((resolve) => {
    const s = http.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const proc = spawnChild(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const client = new Redis({ port, host: "127.0.0.1", enableAutoPipelining: true, lazyConnect: false });
  client.defineCommand("floorPing", {
    numberOfKeys: 1,
    lua: "redis.call('HSET', KEYS[1], 'ping', ARGV[1]) return 'ok'",
  });
  await new Promise((resolve, reject) => {
    client.once("ready", resolve);
    setTimeout(() => reject(new Error("redis-server did not start")), 10_000).unref();
  });
  return {
    client,
    stop: () => {
      client.disconnect();
      proc.kill();
    },
  };
}
