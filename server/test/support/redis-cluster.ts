import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestRedisCluster {
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`: what Maestro's settings take. */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

/**
 * Starts a throwaway Redis Cluster of three masters (no replicas) on loopback from the installed binaries: three
 * `redis-server --cluster-enabled yes` with their own ports and directories, joined by `redis-cli --cluster create`.
 * Resolves once every node reports `cluster_state:ok`. Call once per test file, stop() in afterAll.
 */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const server = findBinary("redis-server");
  const cli = findBinary("redis-cli");
  const dir = await mkdtemp(join(tmpdir(), "maestro-redis-cluster-"));
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) c.kill("SIGKILL");
  };
  process.once("exit", killAll);
  const stop = async () => {
    process.removeListener("exit", killAll);
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    while (ports.length < 3) {
      const port = await clusterPort(ports);
      const child = spawn(
        server,
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(dir, `nodes-${port}.conf`),
          "--cluster-node-timeout",
          "5000",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          dir,
        ],
        { stdio: "ignore" },
      );
      children.push(child);
      if (await answers(cli, port, child)) ports.push(port);
      else {
        // The port (or its bus port) was taken meanwhile: try another.
        children.pop();
        await stopChild(child);
      }
    }
    await run(cli, [
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ]);
    const deadline = Date.now() + 30_000;
    for (const port of ports) {
      for (;;) {
        const info = await run(cli, ["-p", String(port), "cluster", "info"]).then(
          (r) => r.stdout,
          () => "",
        );
        if (info.includes("cluster_state:ok")) break;
        if (Date.now() > deadline) throw new Error(`redis cluster node ${port} not ok within 30 s:\n${info}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`, ports, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A port free on loopback whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: number[]): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (taken.includes(port) || taken.includes(port + 10_000) || taken.includes(port - 10_000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function answers(cli: string, port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const pong = await run(cli, ["-p", String(port), "ping"]).then(
      (r) => r.stdout.trim() === "PONG",
      () => false,
    );
    if (pong) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function findBinary(name: string): string {
  const dirs = (process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== "");
  const found = dirs.map((d) => join(d, name)).find((file) => existsSync(file));
  if (found === undefined) throw new Error(`${name} not found on PATH: run scripts/services to install redis`);
  return found;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
