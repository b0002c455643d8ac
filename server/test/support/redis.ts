import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "./free-port.js";

export interface TestRedis {
  /** `redis://127.0.0.1:PORT`, no auth. */
  url: string;
  port: number;
  /** The redis-server process (benches read its CPU time). */
  pid: number;
  /** SIGSTOP: the server keeps its connections open and answers nothing (a frozen Redis). */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  stop(): Promise<void>;
  /** SIGKILL, even while frozen: every connection drops at once with nothing answered (a crashed Redis). */
  kill(): Promise<void>;
}

/**
 * Starts a throwaway redis-server from PATH: 127.0.0.1 on a free port (or `port`, to bring a stopped one back), no
 * persistence, its own temp dir. Resolves once it answers PING. Call once per test file (beforeAll), stop() in afterAll.
 */
export async function startRedis(opts?: {
  port?: number;
  databases?: number;
  /** Keep the data in this directory (the caller's: stop() leaves it), written on every command, to restart with it. */
  persistIn?: string;
}): Promise<TestRedis> {
  const bin = findRedisServer();
  const dir = opts?.persistIn ?? (await mkdtemp(join(tmpdir(), "maestro-redis-")));
  const persistence = opts?.persistIn ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  for (let attempt = 0; ; attempt++) {
    const port = opts?.port ?? (await freePort());
    const child = spawn(
      bin,
      [
        ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence, "--dir", dir],
        ...(opts?.databases ? ["--databases", String(opts.databases)] : []),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const killSync = () => child.kill("SIGKILL");
    // A crashed test run must not leave a redis-server behind.
    process.once("exit", killSync);
    try {
      await waitForPing(port, child, 30_000);
    } catch (e) {
      process.removeListener("exit", killSync);
      await stopChild(child);
      // The port may have been taken between choosing and binding it; try another before giving up.
      if (attempt < 2 && opts?.port === undefined) continue;
      if (!opts?.persistIn) await rm(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start: ${e instanceof Error ? e.message : String(e)}\n${output}`);
    }
    let stopped = false;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      pid: child.pid ?? 0,
      freeze: () => child.kill("SIGSTOP"),
      thaw: () => child.kill("SIGCONT"),
      async stop() {
        if (stopped) return;
        stopped = true;
        child.kill("SIGCONT");
        process.removeListener("exit", killSync);
        await stopChild(child);
        if (!opts?.persistIn) await rm(dir, { recursive: true, force: true });
      },
      async kill() {
        if (stopped) return;
        stopped = true;
        process.removeListener("exit", killSync);
        const exited = new Promise((resolve) => child.once("exit", resolve));
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGKILL");
          await exited;
        }
        if (!opts?.persistIn) await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

function findRedisServer(): string {
  const dirs = (process.env["PATH"] ?? "").split(delimiter).filter((dir) => dir !== "");
  const found = dirs.map((dir) => join(dir, "redis-server")).find((file) => existsSync(file));
  if (found === undefined) {
    throw new Error("redis-server not found on PATH: run scripts/services to install redis-server");
  }
  return found;
}

async function waitForPing(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode})`);
    }
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`no PONG on port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One inline PING over a raw socket, so the helper does not depend on the client under test. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
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
