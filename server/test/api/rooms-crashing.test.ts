import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CRASHED_DIR,
  CRASHED_LOGS_KEPT,
  keepCrashedLog,
  readRoomLog,
} from "../../src/adapters/runtime/process/crashed-logs.js";
import {
  eventually,
  http,
  PINGING_ROOM,
  schedulerBody,
  startTestMaestro,
  type TestMaestro,
} from "../support/test-maestro.js";

/**
 * A scheduler whose rooms crash (a typo in the room command) must not look healthy: the reason reaches get, list and
 * info, and goes away once a version whose rooms come up is applied.
 */
let maestro: TestMaestro;
const S = "crashing";
const api = (method: string, path: string, body?: unknown) => http(maestro.managementUrl, method, path, body);
const CRASHING = ["node", "-e", "console.error(\"Error: Cannot find module '/srv/gmae.js'\"); process.exit(1)"];

function withCommand(command: string[]) {
  const body = schedulerBody(S, { roomsReplicas: 2 });
  const spec = body.spec as { containers: Record<string, unknown>[] };
  spec.containers[0] = { ...spec.containers[0], command };
  return body;
}

beforeAll(async () => {
  maestro = await startTestMaestro();
});
afterAll(async () => {
  await maestro?.stop();
});

describe("rooms crashing", () => {
  it("shows the crashes and the last exit reason in get, list and info", async () => {
    expect((await api("POST", "/schedulers", withCommand(CRASHING))).status).toBe(200);
    const crashing = await eventually(
      async () => (await api("GET", `/schedulers/${S}`)).json.scheduler?.roomsCrashing,
      {
        what: "roomsCrashing on the scheduler",
        timeoutMs: 30_000,
      },
    );
    expect(crashing).toMatchObject({
      crashes: expect.any(Number),
      lastReason: expect.stringContaining("exit code 1: Error: Cannot find module '/srv/gmae.js'"),
      lastRoomId: expect.stringMatching(new RegExp(`^${S}-`)),
      lastCrashAt: expect.any(String),
    });
    const listed = (await api("GET", "/schedulers")).json.schedulers.find((s: { name: string }) => s.name === S);
    expect(listed.roomsCrashing.lastReason).toContain("Cannot find module");
    const info = (await api("GET", "/schedulers/info?game=test-game")).json.schedulers.find(
      (s: { name: string }) => s.name === S,
    );
    expect(info.roomsCrashing.lastReason).toContain("Cannot find module");

    // The crashed room is gone, but its log is kept and readable.
    const log = await eventually(
      async () => {
        const res = await api("GET", `/schedulers/${S}/rooms/${crashing.lastRoomId}/log?tailLines=5`);
        return res.status === 200 && res.json.crashed ? res.json : undefined;
      },
      { what: "the crashed room's kept log" },
    );
    expect(log.log).toContain("Error: Cannot find module '/srv/gmae.js'");
    expect((await api("GET", `/schedulers/${S}/rooms/${crashing.lastRoomId}`)).status).toBe(404);
    expect((await api("GET", `/schedulers/${S}/rooms/no-such-room/log`)).status).toBe(404);
    expect((await api("GET", `/schedulers/${S}/rooms/..%2F..%2Fetc/log`)).status).toBe(404);
    expect((await api("GET", `/schedulers/${S}/rooms/${crashing.lastRoomId}/log?tailLines=0`)).status).toBe(400);
  });

  it("clears once a version whose rooms come up is applied", async () => {
    const fixed = await api("POST", `/schedulers/${S}`, withCommand(PINGING_ROOM));
    expect(fixed.status, JSON.stringify(fixed.json)).toBe(200);
    await eventually(
      async () => {
        const s = (await api("GET", `/schedulers/${S}`)).json.scheduler;
        const rooms = (await api("GET", `/schedulers/${S}/rooms`)).json.rooms ?? [];
        return s?.spec.version !== "v1.0.0" &&
          s?.roomsCrashing === undefined &&
          rooms.some((r: { status: string }) => r.status === "ready")
          ? s
          : undefined;
      },
      { what: "the new version's rooms up and no crash record", timeoutMs: 60_000 },
    );
  });
});

describe("kept logs of crashed rooms", () => {
  it("keeps the last few, newest first, and reads a tail of lines", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "maestro-crashed-"));
    try {
      const schedulerDir = join(dataDir, "s");
      for (let i = 0; i < CRASHED_LOGS_KEPT + 2; i++) {
        const roomDir = join(schedulerDir, `s-${i}`);
        await mkdir(roomDir, { recursive: true });
        await writeFile(join(roomDir, "room.log"), `start ${i}\nline\ncrash ${i}\n`);
        await keepCrashedLog(schedulerDir, `s-${i}`, roomDir);
        // Distinct times, as crashes seconds apart have.
        await utimes(join(schedulerDir, CRASHED_DIR, `s-${i}.log`), new Date(), new Date(Date.now() + i * 1000));
        await rm(roomDir, { recursive: true });
      }
      const kept = (await readdir(join(schedulerDir, CRASHED_DIR))).sort();
      expect(kept).toHaveLength(CRASHED_LOGS_KEPT);
      expect(kept).not.toContain("s-0.log");
      expect(await readRoomLog(dataDir, "s", `s-${CRASHED_LOGS_KEPT + 1}`, 2)).toEqual({
        log: `line\ncrash ${CRASHED_LOGS_KEPT + 1}\n`,
        crashed: true,
      });
      await expect(readRoomLog(dataDir, "s", "../s", 2)).rejects.toThrow(/not found/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
