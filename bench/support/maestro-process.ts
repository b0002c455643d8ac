// `maestro start` as a child process of a bench, on free ports: the built CLI (server/dist/cli.js, run from the
// repository root as bench/run.mjs does), its output passed through to the bench's own.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../server/test/support/free-port.js";

export interface MaestroProcess {
  child: ChildProcess;
  managementUrl: string;
  roomsUrl: string;
  internalUrl: string;
  /** SIGTERM unless it already exited, wait for the exit, remove its data directory. */
  stop(): Promise<void>;
}

/** Starts `maestro start [flags] --set k=v…` and resolves once its internal API answers /readyz. */
export async function startMaestroProcess(
  settings: Record<string, string | number>,
  flags: string[] = [],
  opts: {
    dataDir?: string;
    /** Node flags before the CLI (e.g. `--cpu-prof`). */
    nodeArgs?: string[];
    /** Another build's CLI (to compare two builds side by side), else server/dist/cli.js. */
    cli?: string;
  } = {},
): Promise<MaestroProcess> {
  // A given data directory is the caller's (to restart on it): stop() leaves it.
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "maestro-bench-"));
  const [m, r, i] = [await freePort(), await freePort(), await freePort()];
  // Only a bench's teardown waits for the drain: the production budget would just add time after the figures.
  const sets = Object.entries({ "shutdown.drainTimeoutMs": 2_000, ...settings }).flatMap(([k, v]) => [
    "--set",
    `${k}=${v}`,
  ]);
  const ports = ["--management-port", `${m}`, "--rooms-port", `${r}`, "--internal-port", `${i}`];
  const cli = opts.cli ?? join(process.cwd(), "server/dist/cli.js");
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), cli, "start", "--data-dir", dataDir, ...ports, ...flags, ...sets],
    {
      stdio: ["ignore", "inherit", "inherit"],
      // As deploy/Dockerfile runs it (its RSS figures depend on it).
      env: { ...process.env, MALLOC_ARENA_MAX: "2" },
    },
  );
  const internalUrl = `http://127.0.0.1:${i}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`maestro start exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
    const ready = await fetch(`${internalUrl}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, managementUrl: `http://127.0.0.1:${m}`, roomsUrl: `http://127.0.0.1:${r}`, internalUrl, stop };
}
