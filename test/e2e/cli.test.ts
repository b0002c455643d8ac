import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { api, cliPath, gameRoomPath, startMaestroProcess, waitFor } from "../support/maestro-process.js";
import { roomPids } from "../support/processes.js";

function maestro(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("maestro command line", () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), "maestro-cli-"));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("documents its commands and settings", () => {
    const help = maestro(["--help"]);
    expect(help.code).toBe(0);
    for (const cmd of ["start", "migrate", "settings"]) expect(help.stdout).toContain(cmd);
    const startHelp = maestro(["start", "--help"]);
    expect(startHelp.stdout).toContain("--insecure-rooms-api");
    const settings = maestro(["settings"]);
    expect(settings.stdout).toContain(
      "workers.healthControllerIntervalMs  [MAESTRO_WORKERS_HEALTHCONTROLLERINTERVALMS]",
    );
  });

  it("refuses bad configuration with the setting, the rule and where the value came from", async () => {
    const dataDir = await tempDir();
    const bad = maestro(["start", "--data-dir", dataDir, "--set", "workers.syncIntervalMs=-5"], {
      MAESTRO_MANAGEMENTAPI_PORT: "abc",
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('managementApi.port: must be a number (got "abc" from MAESTRO_MANAGEMENTAPI_PORT)');
    expect(bad.stderr).toContain('workers.syncIntervalMs: must be at least 1 (got "-5" from command line)');
    const unknownModule = maestro(["start", "--data-dir", dataDir, "matchmaker"]);
    expect(unknownModule.code).toBe(2);
    expect(unknownModule.stderr).toContain("unknown module matchmaker");
    const split = maestro(["start", "--data-dir", dataDir, "worker"]);
    expect(split.code).toBe(2);
    expect(split.stderr).toContain("state lives in this process");
  });

  it("applies migrations with `maestro migrate`", async () => {
    const dataDir = await tempDir();
    const first = maestro(["migrate", "--data-dir", dataDir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("migrations applied (pglite)");
    expect(maestro(["migrate", "--data-dir", dataDir]).code).toBe(0);
  });

  it("stops its rooms on SIGTERM, keeps schedulers across restarts, and refuses a second server on the same data", async () => {
    const first = await startMaestroProcess(["--set", "workers.healthControllerIntervalMs=1000"]);
    const dataDir = first.dataDir;
    const scheduler = "restart-me";
    const created = await api(first.managementUrl, "POST", "/schedulers", {
      name: scheduler,
      game: "cli",
      maxSurge: "1",
      roomsReplicas: 2,
      portRange: { start: 45000, end: 45999 },
      spec: {
        terminationGracePeriod: 5,
        containers: [
          {
            name: "game-room",
            image: "local",
            imagePullPolicy: "Never",
            command: [process.execPath, gameRoomPath],
            requests: { memory: "64Mi", cpu: "100m" },
            limits: { memory: "128Mi", cpu: "200m" },
            ports: [{ name: "game", protocol: "tcp", port: 7000 }],
          },
        ],
      },
    });
    expect(created.status).toBe(200);
    const ready = async (url: string) =>
      (await api(url, "GET", "/schedulers/info")).json.schedulers.find((s: { name: string }) => s.name === scheduler)
        ?.roomsReady === 2;
    await waitFor(() => ready(first.managementUrl), "2 ready rooms");

    const again = maestro([
      "start",
      "--data-dir",
      dataDir,
      "--management-port",
      "0",
      "--rooms-port",
      "0",
      "--internal-port",
      "0",
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is in use by another maestro");
    expect(roomPids(first.roomsUrl, scheduler)).toHaveLength(2);

    // Stop without removing the data directory, then start a new server on it.
    first.child.kill("SIGTERM");
    const code = await new Promise<number | null>((r) => first.child.once("exit", (c) => r(c)));
    expect(code, first.output()).toBe(0);
    expect(roomPids(first.roomsUrl, scheduler)).toEqual([]);

    const second = await startMaestroProcess([
      "--data-dir",
      dataDir,
      "--set",
      "workers.healthControllerIntervalMs=1000",
    ]);
    try {
      const kept = await api(second.managementUrl, "GET", `/schedulers/${scheduler}`);
      expect(kept.json.scheduler).toMatchObject({ name: scheduler, state: "in-sync", roomsReplicas: 2 });
      await waitFor(() => ready(second.managementUrl), "rooms back after restart");
    } finally {
      await second.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
    expect(roomPids(second.roomsUrl, scheduler)).toEqual([]);
  });
});
