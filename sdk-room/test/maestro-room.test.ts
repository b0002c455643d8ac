import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createMaestroRoom,
  type ErrorContext,
  MaestroRoom,
  type MaestroRoomConfig,
  MaestroRoomError,
} from "../src/index.js";
import { type FakeRoomsApi, type RecordedRequest, startFakeRoomsApi } from "../src/testing.js";

let api: FakeRoomsApi;
const rooms: MaestroRoom[] = [];

beforeEach(async () => {
  api = await startFakeRoomsApi();
});

afterEach(async () => {
  await Promise.all(rooms.splice(0).map((room) => room.close()));
  await api.close();
  vi.restoreAllMocks();
});

function newRoom(overrides: Partial<MaestroRoomConfig> = {}): MaestroRoom {
  const room = createMaestroRoom({
    roomsApiUrl: api.url,
    schedulerName: "arena",
    roomId: "arena-room-1",
    handleSignals: false,
    // Long by default so only tests about the loop see keep-alive pings.
    pingIntervalMs: 600_000,
    ...overrides,
  });
  rooms.push(room);
  return room;
}

const isPing = (status?: string) => (r: RecordedRequest) => r.kind === "ping" && (!status || r.body.status === status);

describe("status pings", () => {
  it("sends ready as a PUT with the documented body, path and headers", async () => {
    const room = newRoom({ token: "room-secret" });
    await room.ready();

    expect(api.requests).toHaveLength(1);
    const ping = api.requests[0]!;
    expect(ping.method).toBe("PUT");
    expect(ping.path).toBe("/scheduler/arena/rooms/arena-room-1/ping");
    expect(ping.headers["authorization"]).toBe("Bearer room-secret");
    expect(ping.headers["content-type"]).toBe("application/json");
    expect(ping.body).toEqual({ status: "ready", runningMatches: 0, metadata: {}, timestamp: expect.any(String) });
    const sentSeconds = Number(ping.body.timestamp);
    expect(Number.isInteger(sentSeconds)).toBe(true);
    expect(Math.abs(sentSeconds - Date.now() / 1000)).toBeLessThan(300);
    expect(room.status).toBe("ready");
  });

  it("sends no authorization header without a token and escapes path segments", async () => {
    const room = newRoom({ schedulerName: "my scheduler", roomId: "room/1" });
    await room.ready();
    const ping = api.requests[0]!;
    expect(ping.headers["authorization"]).toBeUndefined();
    expect(ping.path).toBe("/scheduler/my%20scheduler/rooms/room%2F1/ping");
    expect(ping.schedulerName).toBe("my scheduler");
    expect(ping.roomId).toBe("room/1");
  });

  it("reports occupied with running matches and metadata", async () => {
    const room = newRoom();
    await room.occupied();
    await room.occupied({ runningMatches: 3, metadata: { map: "dust" } });
    await room.ping("ready");
    const bodies = api.requestsOf("ping").map((r) => [r.body.status, r.body.runningMatches, r.body.metadata]);
    expect(bodies).toEqual([
      ["occupied", 1, {}],
      ["occupied", 3, { map: "dust" }],
      // Metadata sticks until replaced, so keep-alives and later statuses keep describing the room.
      ["ready", 0, { map: "dust" }],
    ]);
  });

  it("setMatches reports occupied with the count, and ready at zero", async () => {
    const room = newRoom();
    expect(room.runningMatches).toBe(0);
    await room.setMatches(2, { metadata: { mode: "duel" } });
    expect(room.runningMatches).toBe(2);
    await room.setMatches(3);
    await room.setMatches(0);
    await expect(room.setMatches(1.5)).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(room.setMatches(-1)).rejects.toMatchObject({ code: "invalid_argument" });
    const bodies = api.requestsOf("ping").map((r) => [r.body.status, r.body.runningMatches, r.body.metadata]);
    expect(bodies).toEqual([
      ["occupied", 2, { mode: "duel" }],
      ["occupied", 3, { mode: "duel" }],
      ["ready", 0, { mode: "duel" }],
    ]);
    expect(room.status).toBe("ready");
  });

  it("delivers status calls in call order even when not awaited one by one", async () => {
    const room = newRoom();
    const calls = [
      room.occupied({ runningMatches: 1 }),
      room.occupied({ runningMatches: 2 }),
      room.ready(),
      room.occupied({ runningMatches: 5 }),
    ];
    await Promise.all(calls);
    expect(api.requestsOf("ping").map((r) => r.body.runningMatches)).toEqual([1, 2, 0, 5]);
  });

  it("rejects bad arguments without sending anything", async () => {
    const room = newRoom();
    await expect(room.ping("allocated" as "ready")).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(room.occupied({ runningMatches: -1 })).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(room.playerJoined("")).rejects.toMatchObject({ code: "invalid_argument" });
    expect(api.requests).toHaveLength(0);
  });
});

describe("keep-alive loop", () => {
  it("re-sends the last status until closed", async () => {
    const room = newRoom({ pingIntervalMs: 30 });
    expect(api.requests).toHaveLength(0);
    await room.occupied({ runningMatches: 2, metadata: { mode: "duel" } });
    await api.waitFor(isPing(), { count: 3 });
    for (const ping of api.requestsOf("ping")) {
      expect(ping.body).toMatchObject({ status: "occupied", runningMatches: 2, metadata: { mode: "duel" } });
    }

    await room.ready();
    const readyAt = api.requestsOf("ping").length;
    await api.waitFor(isPing("ready"), { count: 3 });
    expect(
      api
        .requestsOf("ping")
        .slice(readyAt)
        .every((r) => r.body.status === "ready"),
    ).toBe(true);

    await room.close();
    const pingsAtClose = api.requestsOf("ping").length;
    // A second room on the same loop settings proves time passed without the closed room pinging again.
    const witness = newRoom({ roomId: "witness", pingIntervalMs: 30 });
    await witness.ready();
    await api.waitFor((r) => r.kind === "ping" && r.roomId === "witness", { count: 5 });
    expect(api.requestsOf("ping").filter((r) => r.roomId === "arena-room-1")).toHaveLength(pingsAtClose);
  });

  it("does not start before the first status call", async () => {
    newRoom({ roomId: "silent", pingIntervalMs: 20 });
    const witness = newRoom({ roomId: "witness", pingIntervalMs: 20 });
    await witness.ready();
    await api.waitFor((r) => r.roomId === "witness", { count: 5 });
    expect(api.requests.filter((r) => r.roomId === "silent")).toHaveLength(0);
  });

  it("retries failed pings with backoff, reports each failure and recovers", async () => {
    const errors: Array<{ error: MaestroRoomError; context: ErrorContext }> = [];
    const room = newRoom({
      retryInitialDelayMs: 10,
      onError: (error, context) => errors.push({ error, context }),
    });
    api.failNext(3, { status: 500, message: "storage down" });

    // The caller sees its own failure; the loop keeps retrying in the background.
    const rejection = await room.ready().catch((e: unknown) => e);
    expect(rejection).toBeInstanceOf(MaestroRoomError);
    expect(rejection).toMatchObject({ code: "request_failed", status: 500, apiCode: 13 });
    expect((rejection as Error).message).toContain("storage down");

    const recovered = await api.waitFor((r) => r.kind === "ping" && r.responseStatus === 200);
    expect(recovered.body.status).toBe("ready");
    expect(api.requestsOf("ping").map((r) => r.responseStatus)).toEqual([500, 500, 500, 200]);
    expect(errors.map((e) => [e.error.code, e.context.during, e.context.consecutiveFailures])).toEqual([
      ["request_failed", "keep-alive", 1],
      ["request_failed", "keep-alive", 2],
    ]);
  });

  it("caps the retry delay at the ping interval", async () => {
    // With an hour-long initial retry delay, recovery only comes quickly if the cap applies.
    const room = newRoom({ pingIntervalMs: 30, retryInitialDelayMs: 3_600_000, onError: () => {} });
    await room.ready();
    api.failNext(4);
    await api.waitFor((r) => r.kind === "ping" && r.responseStatus === 500, { count: 4 });
    await api.waitFor((r) => r.kind === "ping" && r.responseStatus === 200, { count: 2 });
  });

  it("warns once per failure streak by default", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const room = newRoom({ pingIntervalMs: 20, retryInitialDelayMs: 5 });
    await room.ready();

    api.failNext(3);
    await api.waitFor((r) => r.responseStatus === 500, { count: 3 });
    await api.waitFor((r) => r.responseStatus === 200, { count: 2 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain("keep-alive ping failed");

    api.failNext(2);
    await api.waitFor((r) => r.responseStatus === 500, { count: 5 });
    const okBefore = api.requests.filter((r) => r.responseStatus === 200).length;
    await api.waitFor((r) => r.responseStatus === 200, { count: okBefore + 1 });
    expect(warn).toHaveBeenCalledTimes(2);
  });
});

describe("errors", () => {
  it("maps success=false and 4xx answers to rejected", async () => {
    const room = newRoom();
    api.failNext(1, { status: 200, message: "invalid transition" });
    await expect(room.ready()).rejects.toMatchObject({ code: "rejected", status: 200 });

    await api.close();
    api = await startFakeRoomsApi({ token: "right" });
    const wrongToken = newRoom({ token: "wrong" });
    await expect(wrongToken.ready()).rejects.toMatchObject({ code: "rejected", status: 401, apiCode: 16 });
  });

  it("maps an unreachable API to request_failed", async () => {
    const gone = await startFakeRoomsApi();
    await gone.close();
    const room = newRoom({ roomsApiUrl: gone.url });
    const error = await room.event("x").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "request_failed" });
    expect((error as Error).message).toMatch(/POST roomevent/);
  });

  it("maps an aborted signal to aborted", async () => {
    const room = newRoom();
    await expect(room.ready({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "aborted" });
    await expect(room.playerLeft("p", {}, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "aborted" });
  });

  it("refuses calls after close, and close is idempotent", async () => {
    const room = newRoom();
    await room.close();
    await room.close();
    await expect(room.closed).resolves.toBeUndefined();
    expect(room.lifecycle).toBe("closed");
    await expect(room.ready()).rejects.toMatchObject({ code: "closed" });
    await expect(room.event("late")).rejects.toMatchObject({ code: "closed" });
    expect(api.requests).toHaveLength(0);
  });

  it("recognises errors from another copy of the class", () => {
    const foreign = Object.assign(new Error("x"), { code: "rejected" });
    Object.defineProperty(foreign, Symbol.for("@maestro/sdk-room/MaestroRoomError"), { value: true });
    expect(foreign).toBeInstanceOf(MaestroRoomError);
    expect(new Error("plain")).not.toBeInstanceOf(MaestroRoomError);
  });
});

describe("events", () => {
  it("sends room events and player events", async () => {
    const room = newRoom({ token: "t" });
    await room.event("matchStarted", { map: "dust", players: 4 });
    await room.playerJoined("player-7", { team: "red" });
    await room.playerLeft("player-7");

    const [roomEvent, join, left] = api.requests;
    expect(roomEvent).toMatchObject({
      method: "POST",
      path: "/scheduler/arena/rooms/arena-room-1/roomevent",
      body: { event: "matchStarted", metadata: { map: "dust", players: 4 }, timestamp: expect.stringMatching(/^\d+$/) },
    });
    expect(roomEvent?.headers["authorization"]).toBe("Bearer t");
    expect(join).toMatchObject({
      method: "POST",
      path: "/scheduler/arena/rooms/arena-room-1/playerevent",
      body: { event: "playerJoin", metadata: { team: "red", playerId: "player-7" } },
    });
    expect(left).toMatchObject({ body: { event: "playerLeft", metadata: { playerId: "player-7" } } });
    expect(api.requests.every((r) => r.responseStatus === 200)).toBe(true);
  });

  it("events do not start the keep-alive loop", async () => {
    const room = newRoom({ pingIntervalMs: 20 });
    await room.event("hello");
    const witness = newRoom({ roomId: "witness", pingIntervalMs: 20 });
    await witness.ready();
    await api.waitFor((r) => r.roomId === "witness", { count: 4 });
    expect(api.requests.filter((r) => r.roomId === "arena-room-1").map((r) => r.kind)).toEqual(["roomevent"]);
  });
});

describe("configuration", () => {
  it("rejects bad config with invalid_config", () => {
    const base = { roomsApiUrl: "http://127.0.0.1:1", schedulerName: "s", roomId: "r", handleSignals: false as const };
    expect(() => new MaestroRoom({ ...base, roomsApiUrl: "not a url" })).toThrow(/roomsApiUrl/);
    expect(() => new MaestroRoom({ ...base, roomsApiUrl: "ftp://x" })).toThrow(/http/);
    expect(() => new MaestroRoom({ ...base, roomId: " " })).toThrow(/roomId/);
    expect(() => new MaestroRoom({ ...base, pingIntervalMs: 0 })).toThrow(/pingIntervalMs/);
    try {
      new MaestroRoom({ ...base, schedulerName: "" });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ name: "MaestroRoomError", code: "invalid_config" });
    }
  });
});
