import { describe, expect, it } from "vitest";
import { MaestroRoom, MaestroRoomError } from "../src/index.js";

const complete = {
  MAESTRO_ROOMS_API_URL: "http://rooms-api:8080/",
  MAESTRO_SCHEDULER_NAME: "arena",
  MAESTRO_ROOM_ID: "arena-abc12",
};

function fromEnv(env: NodeJS.ProcessEnv): MaestroRoom {
  return MaestroRoom.fromEnv({ env, handleSignals: false });
}

function errorOf(fn: () => unknown): MaestroRoomError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MaestroRoomError) return e;
    throw e;
  }
  throw new Error("expected a MaestroRoomError");
}

describe("MaestroRoom.fromEnv", () => {
  it("reads identity, token and every MAESTRO_PORT_* keyed by lower-cased name", async () => {
    const room = fromEnv({
      ...complete,
      MAESTRO_ROOM_TOKEN: "secret",
      MAESTRO_PORT_GAME: "31000",
      MAESTRO_PORT_VOICE_UDP: "31001",
      UNRELATED: "1",
    });
    expect(room.roomsApiUrl).toBe("http://rooms-api:8080");
    expect(room.schedulerName).toBe("arena");
    expect(room.roomId).toBe("arena-abc12");
    expect(room.ports).toEqual({ game: 31000, voice_udp: 31001 });
    await room.close();
  });

  it("has no ports when none are declared", async () => {
    const room = fromEnv(complete);
    expect(room.ports).toEqual({});
    await room.close();
  });

  it("falls back to the v9 ROOMS_API_ADDRESS, adding a scheme when missing", async () => {
    const { MAESTRO_ROOMS_API_URL: _, ...rest } = complete;
    const room = fromEnv({ ...rest, ROOMS_API_ADDRESS: "maestro-rooms:9000" });
    expect(room.roomsApiUrl).toBe("http://maestro-rooms:9000");
    await room.close();
  });

  it.each([
    ["MAESTRO_ROOMS_API_URL", /MAESTRO_ROOMS_API_URL \(or ROOMS_API_ADDRESS\)/],
    ["MAESTRO_SCHEDULER_NAME", /MAESTRO_SCHEDULER_NAME/],
    ["MAESTRO_ROOM_ID", /MAESTRO_ROOM_ID/],
  ])("names the missing variable %s", (name, message) => {
    const env: NodeJS.ProcessEnv = { ...complete, [name]: "" };
    const error = errorOf(() => fromEnv(env));
    expect(error.code).toBe("invalid_config");
    expect(error.message).toMatch(message);
    delete env[name];
    expect(errorOf(() => fromEnv(env)).message).toMatch(message);
  });

  it("rejects a port variable that is not a port", () => {
    const error = errorOf(() => fromEnv({ ...complete, MAESTRO_PORT_GAME: "70000" }));
    expect(error.code).toBe("invalid_config");
    expect(error.message).toContain("MAESTRO_PORT_GAME");
  });

  it("reads process.env by default", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, complete, { MAESTRO_PORT_GAME: "7001" });
    try {
      const room = MaestroRoom.fromEnv({ handleSignals: false });
      expect(room.ports).toEqual({ game: 7001 });
      await room.close();
    } finally {
      for (const key of [...Object.keys(complete), "MAESTRO_PORT_GAME"]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });
});
