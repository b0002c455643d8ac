import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { reapLeftovers } from "../../src/adapters/runtime/process/reaper.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import { freePort } from "./free-port.js";
import { startedUrls } from "./started-urls.js";
import { eventually } from "./test-maestro.js";

export { freePort };

const cli = fileURLToPath(new URL("../../bin/maestro.js", import.meta.url));

export interface MaestroCli {
  child: ChildProcess;
  managementUrl: string;
  roomsUrl: string;
  internalUrl: string;
  output(): string;
  /** SIGTERM and wait for the exit; removes the data directory. */
  stop(): Promise<void>;
}

/**
 * Runs `maestro start <modules>` as its own process with `--set` settings, on ports the OS gives it (read back from its
 * start line), and waits until its internal API answers /readyz. Ports may be given to make other processes point at
 * this one before it starts.
 */
export async function startMaestroCli(
  modules: string[],
  settings: Record<string, string | number>,
  ports: {
    management?: number;
    rooms?: number;
    dataDir?: string /** More environment (e.g. NODE_DEBUG). */;
    env?: Record<string, string>;
  } = {},
): Promise<MaestroCli> {
  // A given data directory is the caller's (e.g. to restart on it): stop() leaves it.
  const dataDir = ports.dataDir ?? (await mkdtemp(join(tmpdir(), "maestro-cli-")));
  const management = ports.management ?? 0;
  const rooms = ports.rooms ?? 0;
  // A test stopping Maestro mid-operation should not wait for the production drain budget.
  const sets = Object.entries({ "shutdown.drainTimeoutMs": 2_000, ...settings }).flatMap(([k, v]) => [
    "--set",
    `${k}=${v}`,
  ]);
  let output = "";
  const child = spawn(
    process.execPath,
    [
      cli,
      "start",
      ...modules,
      "--data-dir",
      dataDir,
      "--management-port",
      `${management}`,
      "--rooms-port",
      `${rooms}`,
      "--internal-port",
      "0",
      ...sets,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, MAESTRO_LOG_FORMAT: "json", ...ports.env } },
  );
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const urls = await eventually(
    async () => {
      const started = child.exitCode === null ? startedUrls(output) : undefined;
      const ready = started?.internalApi
        ? await fetch(`${started.internalApi}/readyz`).then(
            (r) => r.ok,
            () => false,
          )
        : false;
      return ready ? started : undefined;
    },
    { what: `maestro start ${modules.join(" ")}`, timeoutMs: 30_000 },
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${output}`);
  });
  // A module the process does not run has no address of its own; the port asked for is the best answer then.
  return {
    child,
    managementUrl: urls.managementApi ?? `http://127.0.0.1:${management}`,
    roomsUrl: urls.roomsApi ?? `http://127.0.0.1:${rooms}`,
    internalUrl: urls.internalApi ?? "",
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      // A server killed by its test (kill -9) left its rooms' processes running, as a crash does; the next server on
      // this data directory would stop them, and a test that starts none must: they are processes it caused.
      await reapLeftovers(join(dataDir, "rooms"), silentLogger);
      if (ports.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
