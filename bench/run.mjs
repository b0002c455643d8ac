#!/usr/bin/env node
// One runner over the benchmark scenarios (figures, not tests). A scenario is bench/<name>/main.ts or main.mjs; a .ts
// entry is bundled with tsup into .tmp/bench/<name>/main.js (storage and Kubernetes clients stay external, the Redis
// Lua scripts and SQL migrations are copied next to it). The scenario's stdout is passed through; it prints one line
// `BENCH_RESULT {"scenario":"<name>","rows":[{...}],"skipped"?:"<reason>"}` (the last such line counts).
// Usage (after `npm run build`): node bench/run.mjs [scenario ...] [--timeout=<s>] [-- scenario args]; all
// scenarios when none is named.
// Writes .tmp/bench/results.json and prints one combined table.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const benchDir = join(root, "bench");
const outRoot = join(root, ".tmp/bench");
const luaDir = join(root, "server/src/adapters/storage/redis/scripts");
const migrationsDir = join(root, "server/src/adapters/storage/sql/migrations");
/**
 * Left to Node's resolution from the root node_modules: the storage and Kubernetes clients (always), and every runtime
 * dependency of the workspace packages, since bundling CommonJS packages into an ES module breaks their `require`s.
 */
const externals = [
  ...new Set([
    "ioredis",
    "pg",
    "@electric-sql/pglite",
    "@kubernetes/client-node",
    ...["server", "proto", "sdk-room", "sdk-management"].flatMap((pkg) => {
      const file = join(root, pkg, "package.json");
      return existsSync(file) ? Object.keys(JSON.parse(readFileSync(file, "utf8")).dependencies ?? {}) : [];
    }),
  ]),
];
/** Scenarios other engineers add; listed so that a run says "missing" rather than silently skipping them. */
const known = [
  "pings",
  "allocate",
  "operations",
  "embedded",
  "health-controller",
  "rss",
  "rss-modules",
  "management-reads",
  "scale-process",
  "scale-k8s",
  "hostile",
  "dead-rooms",
  "autoscaler-reaction",
  "embedded-rss",
];

const argv = process.argv.slice(2);
const dash = argv.indexOf("--");
/** Arguments after `--` go to every scenario run (e.g. `node bench/run.mjs rss -- 20000`). */
const scenarioArgs = dash === -1 ? [] : argv.slice(dash + 1);
const own = dash === -1 ? argv : argv.slice(0, dash);
const timeoutFlag = own.find((a) => a.startsWith("--timeout="));
const requested = own.filter((a) => !a.startsWith("--"));
const present = readdirSync(benchDir).filter((d) => statSync(join(benchDir, d)).isDirectory() && entryOf(d));
/** Run only when named: they need something from outside the repository (vs-maestro: the Go Maestro's binary). */
const namedOnly = ["vs-maestro"];
const names =
  requested.length > 0 ? requested : [...new Set([...known, ...present])].filter((n) => !namedOnly.includes(n));

function entryOf(name) {
  for (const file of ["main.ts", "main.mjs"]) {
    const path = join(benchDir, name, file);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** A scenario still running after this long is stopped and reported failed (--timeout=<seconds>, default 600). */
const timeoutMs = Number(timeoutFlag?.slice("--timeout=".length) ?? 600) * 1000;

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => {
      process.stdout.write(`timeout: stopping after ${timeoutMs / 1000} s\n`);
      child.kill("SIGTERM");
    }, timeoutMs);
    let last;
    createInterface({ input: child.stdout }).on("line", (line) => {
      process.stdout.write(`${line}\n`);
      // The last result line wins; log lines a scenario's shutdown prints after it do not hide it.
      if (line.startsWith("BENCH_RESULT ")) last = line;
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), last });
    });
  });
}

async function scenario(name) {
  const entry = entryOf(name);
  if (!entry) return { scenario: name, status: "missing" };
  const outDir = join(outRoot, name);
  let main = entry;
  if (entry.endsWith(".ts")) {
    mkdirSync(outDir, { recursive: true });
    const tsup = join(root, "node_modules/.bin/tsup");
    const args = [
      entry,
      "--no-config",
      "--format",
      "esm",
      "--out-dir",
      outDir,
      "--silent",
      ...externals.flatMap((e) => ["--external", e]),
    ];
    const built = await run(tsup, args);
    if (built.code !== 0) return { scenario: name, status: "failed", error: `tsup exited ${built.code}` };
    // Read at run time next to the bundle, as in server/dist.
    cpSync(luaDir, join(outDir, "scripts"), { recursive: true });
    cpSync(migrationsDir, join(outDir, "migrations"), { recursive: true });
    main = join(outDir, "main.js");
  }
  const started = performance.now();
  const { code, last } = await run(process.execPath, [main, ...scenarioArgs]);
  const durationMs = Math.round(performance.now() - started);
  const parsed = last?.startsWith("BENCH_RESULT ") ? safeParse(last.slice("BENCH_RESULT ".length)) : undefined;
  if (code !== 0 || !parsed) {
    const why = code !== 0 ? `exited ${code}` : "no BENCH_RESULT line in its output";
    return { scenario: name, status: "failed", error: why, durationMs };
  }
  if (parsed.skipped) return { scenario: name, status: "skipped", skipped: parsed.skipped, rows: [], durationMs };
  return { scenario: name, status: "ok", rows: parsed.rows ?? [], durationMs };
}

function safeParse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One table per scenario: a row per measured case, a column per figure (the union of the rows' keys). */
function table(results) {
  const cell = (v) => {
    if (v === undefined) return "";
    if (v !== null && typeof v === "object") return Object.keys(v).length === 0 ? "-" : JSON.stringify(v);
    return typeof v === "number" ? v.toLocaleString("en-US", { maximumFractionDigits: 2 }) : String(v);
  };
  const blocks = [];
  for (const r of results) {
    if (r.status !== "ok") {
      blocks.push(`${r.scenario}: ${r.status}${r.skipped || r.error ? ` (${r.skipped ?? r.error})` : ""}`);
      continue;
    }
    const keys = [...new Set(r.rows.flatMap((row) => Object.keys(row)))];
    const lines = [keys, ...r.rows.map((row) => keys.map((k) => cell(row[k])))];
    const widths = keys.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
    const fmt = (l) => `| ${l.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    blocks.push(
      [
        `${r.scenario}:`,
        fmt(lines[0]),
        `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
        ...lines.slice(1).map(fmt),
      ].join("\n"),
    );
  }
  return blocks.join("\n\n");
}

const results = [];
for (const name of names) {
  process.stdout.write(`\n== ${name} ==\n`);
  const result = await scenario(name);
  if (result.status === "missing") process.stdout.write(`missing: no bench/${name}/main.ts or main.mjs\n`);
  results.push(result);
}
mkdirSync(outRoot, { recursive: true });
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  results,
};
writeFileSync(join(outRoot, "results.json"), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`\n${table(results)}\n\nwritten: .tmp/bench/results.json\n`);
process.exitCode = results.some((r) => r.status === "failed") ? 1 : 0;
