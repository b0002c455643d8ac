import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startedUrls } from "../../server/test/support/started-urls.js";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const cliPath = join(repoRoot, "server/bin/maestro.js"); // the command users run (npx maestro)
export const gameRoomPath = join(repoRoot, "examples/game-room/dist/main.js");
export const maestroctlPath = join(repoRoot, "sdk-management/bin/maestroctl.js");
export const matchmakerPath = join(repoRoot, "examples/matchmaker/dist/main.js");

export { freePort, freeStablePort } from "../../server/test/support/free-port.js";

export interface MaestroProcess {
  child: ChildProcess;
  managementUrl: string;
  roomsUrl: string;
  dataDir: string;
  output(): string;
  stop(): Promise<number | null>;
}

/**
 * Starts `maestro start` (the built CLI, as a user would) on free ports and waits until it answers /readyz.
 * `cwd` is where relative room commands resolve (the process runtime runs rooms in Maestro's working directory).
 */
export async function startMaestroProcess(args: string[] = [], opts: { cwd?: string } = {}): Promise<MaestroProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), "maestro-e2e-"));
  let output = "";
  const child = spawn(
    process.execPath,
    [
      cliPath,
      "start",
      "--data-dir",
      dataDir,
      // Ports from the OS, read back from the start line (see startedUrls for why not picked beforehand).
      "--management-port",
      "0",
      "--rooms-port",
      "0",
      "--internal-port",
      "0",
      ...args,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      // A test stopping Maestro mid-operation should not wait for the production drain budget (25 s).
      env: {
        ...process.env,
        MAESTRO_LOG_LEVEL: "info",
        MAESTRO_LOG_FORMAT: "json",
        MAESTRO_SHUTDOWN_DRAINTIMEOUTMS: "2000",
      },
      cwd: opts.cwd,
    },
  );
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const deadline = Date.now() + 30_000;
  let started: ReturnType<typeof startedUrls>;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`maestro exited with ${child.exitCode}:\n${output}`);
    started = startedUrls(output);
    const ok =
      started?.managementApi !== undefined &&
      (await fetch(`${started.managementApi}/readyz`).then(
        (r) => r.ok,
        () => false,
      ));
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`maestro did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    managementUrl: started?.managementApi ?? "",
    roomsUrl: started?.roomsApi ?? "",
    dataDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
      return child.exitCode;
    },
  };
}

export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}
