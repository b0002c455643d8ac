import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createMaestroRoom,
  type ErrorContext,
  type MaestroRoom,
  type MaestroRoomConfig,
  type MaestroRoomError,
  type TerminationContext,
} from "../src/index.js";
import { eventually, type FakeRoomsApi, spawnNode, startFakeRoomsApi } from "../src/testing.js";

let api: FakeRoomsApi;
const rooms: MaestroRoom[] = [];

beforeEach(async () => {
  api = await startFakeRoomsApi();
});

afterEach(async () => {
  await Promise.all(rooms.splice(0).map((room) => room.close()));
  await api.close();
});

function newRoom(overrides: Partial<MaestroRoomConfig> = {}): MaestroRoom {
  const room = createMaestroRoom({
    roomsApiUrl: api.url,
    schedulerName: "arena",
    roomId: "room-1",
    handleSignals: false,
    exitOnTermination: false,
    pingIntervalMs: 600_000,
    ...overrides,
  });
  rooms.push(room);
  return room;
}

const statuses = (): Array<string | undefined> => api.requestsOf("ping").map((r) => r.body.status);

describe("termination in process", () => {
  it("on a handled signal: terminating, hooks, terminated, handlers removed, closed", async () => {
    const listenersBefore = process.listenerCount("SIGUSR2");
    const seen: TerminationContext[] = [];
    const room = newRoom({ handleSignals: ["SIGUSR2"], drainTimeoutMs: 30_000 });
    expect(process.listenerCount("SIGUSR2")).toBe(listenersBefore + 1);
    room.onTermination(async (context) => {
      seen.push(context);
      // The room is already terminating while hooks run: ready is ignored, player events still go out.
      expect(statuses().at(-1)).toBe("terminating");
      await room.ready();
      await room.playerLeft("p1");
    });
    await room.occupied({ runningMatches: 2 });

    // Node delivers OS signals as process events; emitting one runs the SDK's real listener.
    process.emit("SIGUSR2", "SIGUSR2");
    expect(room.lifecycle).toBe("terminating");
    await room.closed;

    expect(statuses()).toEqual(["occupied", "terminating", "terminated"]);
    expect(api.requestsOf("ping").at(-1)?.body.runningMatches).toBe(2);
    expect(api.requestsOf("playerevent")).toHaveLength(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.reason).toBe("SIGUSR2");
    expect(seen[0]?.signal.aborted).toBe(false);
    expect(seen[0]!.deadline.getTime()).toBeGreaterThan(Date.now());
    expect(process.listenerCount("SIGUSR2")).toBe(listenersBefore);
    expect(room.lifecycle).toBe("closed");
  });

  it("stops waiting for hooks at the drain deadline and fires their signal", async () => {
    const errors: Array<[MaestroRoomError, ErrorContext]> = [];
    const room = newRoom({ drainTimeoutMs: 50, onError: (e, c) => errors.push([e, c]) });
    let cooperativeSawAbort = false;
    room.onTermination(async ({ signal }) => {
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      cooperativeSawAbort = signal.aborted;
      throw signal.reason;
    });
    room.onTermination(() => new Promise<void>(() => {})); // never finishes
    await room.ready();

    await room.terminate();
    expect(statuses()).toEqual(["ready", "terminating", "terminated"]);
    expect(cooperativeSawAbort).toBe(true);
    // Only the hook that ignored the deadline is reported; the one that stopped on the signal is not a failure.
    expect(errors.map(([e, c]) => [e.code, c.during])).toEqual([["hook_failed", "termination"]]);
    expect(errors[0]?.[0].message).toMatch(/1 termination hook\(s\) still running/);
  });

  it("reports a throwing hook and still finishes", async () => {
    const errors: MaestroRoomError[] = [];
    const room = newRoom({ onError: (e) => errors.push(e), onTermination: () => Promise.reject(new Error("boom")) });
    await room.terminate();
    expect(statuses()).toEqual(["terminating", "terminated"]);
    expect(errors.map((e) => e.code)).toEqual(["hook_failed"]);
    expect(errors[0]?.message).toContain("boom");
  });

  it("keeps pinging terminating while draining", async () => {
    const room = newRoom({ pingIntervalMs: 20 });
    let release!: () => void;
    room.onTermination(() => new Promise<void>((resolve) => (release = resolve)));
    const done = room.terminate();
    await api.waitFor((r) => r.body.status === "terminating", { count: 3 });
    release();
    await done;
    expect(statuses().at(-1)).toBe("terminated");
  });

  it("close() during the drain cuts it short and still reports terminated; terminate is idempotent", async () => {
    const room = newRoom();
    let hookSawAbort = false;
    room.onTermination(async ({ signal }) => {
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      hookSawAbort = signal.aborted;
    });
    const first = room.terminate();
    expect(room.terminate()).toBe(first);
    await api.waitFor((r) => r.body.status === "terminating");
    await room.close();
    await first;
    expect(hookSawAbort).toBe(true);
    expect(statuses()).toEqual(["terminating", "terminated"]);
  });

  it("a failed terminating ping does not stop the sequence", async () => {
    const errors: MaestroRoomError[] = [];
    const room = newRoom({ onError: (e) => errors.push(e) });
    api.failNext(1);
    await room.terminate();
    expect(api.requestsOf("ping").map((r) => [r.body.status, r.responseStatus])).toEqual([
      ["terminating", 500],
      ["terminated", 200],
    ]);
    expect(errors.map((e) => e.code)).toEqual(["request_failed"]);
  });
});

describe("termination of a real process (built SDK)", () => {
  it.each(["room-process.mjs", "room-process.cjs"])(
    "%s: SIGTERM → terminating, terminated, exit code 0",
    async (fixture) => {
      const script = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
      const proc = spawnNode(script, [], {
        MAESTRO_ROOMS_API_URL: api.url,
        MAESTRO_SCHEDULER_NAME: "arena",
        MAESTRO_ROOM_ID: `proc-${fixture}`,
        MAESTRO_ROOM_TOKEN: "proc-token",
        MAESTRO_PORT_GAME: "31234",
      });
      try {
        await api.waitFor((r) => r.body.status === "ready");
        await eventually(() => proc.stdout().includes("ready"), { what: "child to log ready" });
        expect(proc.stdout()).toContain('ports {"game":31234}');

        proc.child.kill("SIGTERM");
        const exit = await proc.exited;

        expect(exit, proc.stderr()).toEqual({ code: 0, signal: null });
        const pings = api.requestsOf("ping");
        expect(pings.every((r) => r.roomId === `proc-${fixture}`)).toBe(true);
        expect(pings.every((r) => r.headers["authorization"] === "Bearer proc-token")).toBe(true);
        const lifecycle = pings.map((r) => r.body.status).filter((s, i, all) => s !== all[i - 1]);
        expect(lifecycle).toEqual(["ready", "terminating", "terminated"]);
        expect(proc.stdout()).toMatch(/draining SIGTERM until \S+ aborted=false/);
        expect(proc.stdout()).toContain("closed");
      } finally {
        proc.child.kill("SIGKILL");
      }
    },
  );
});

describe("reconnection of a real process (built SDK)", () => {
  it("keeps retrying while the rooms API is down, resumes with the same status and token, then drains on SIGTERM", async () => {
    const script = fileURLToPath(new URL("./fixtures/room-process.mjs", import.meta.url));
    const proc = spawnNode(script, [], {
      MAESTRO_ROOMS_API_URL: api.url,
      MAESTRO_SCHEDULER_NAME: "arena",
      MAESTRO_ROOM_ID: "proc-reconnect",
      MAESTRO_ROOM_TOKEN: "reconnect-token",
    });
    const port = api.port;
    try {
      await api.waitFor((r) => r.body.status === "ready");
      await api.close();
      // The default error handler warns once per failure streak: proof the process saw the API go away.
      await eventually(() => proc.stderr().includes("keep-alive ping failed, retrying with backoff"), {
        what: "the room to notice the rooms API is down",
      });
      expect(proc.child.exitCode).toBeNull();

      api = await startFakeRoomsApi({ port });
      const resumed = await api.waitFor((r) => r.kind === "ping");
      expect(resumed.body.status).toBe("ready");
      expect(resumed.roomId).toBe("proc-reconnect");
      expect(resumed.headers["authorization"]).toBe("Bearer reconnect-token");

      proc.child.kill("SIGTERM");
      const exit = await proc.exited;
      expect(exit, proc.stderr()).toEqual({ code: 0, signal: null });
      const lifecycle = api
        .requestsOf("ping")
        .map((r) => r.body.status)
        .filter((s, i, all) => s !== all[i - 1]);
      expect(lifecycle).toEqual(["ready", "terminating", "terminated"]);
    } finally {
      proc.child.kill("SIGKILL");
    }
  });
});
