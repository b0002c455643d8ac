import type { ForwardCallOptions, ForwarderClient, Logger, RoomStatusMessage } from "@maestro/server/plugin";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { grpcForwarderPlugin, maestroPlugin, responseCodeName } from "../src/index.js";
import { failWith, type GrpcForwarderReceiver, startGrpcForwarderReceiver } from "../src/testing.js";

const logger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => logger,
};

const room = {
  game: "tennis",
  roomId: "room-1",
  host: "10.0.0.7",
  port: 40123,
  metadata: { roomType: "green", map: "clay", pingType: "ready" },
  roomType: "green",
};

function call(timeoutMs = 1000): ForwardCallOptions {
  return { signal: AbortSignal.timeout(timeoutMs), eventId: "event-1" };
}

describe("gRPC forwarder against a GRPCForwarder server", () => {
  let receiver: GrpcForwarderReceiver;
  const clients: ForwarderClient[] = [];
  const plugin = grpcForwarderPlugin();
  const client = (timeout = 500, address = receiver.address) => {
    const c = plugin.create(
      { name: "mm", enable: true, type: "gRPC", address, options: { timeout, metadata: {} } },
      { logger },
    );
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    receiver = await startGrpcForwarderReceiver();
  });
  afterEach(async () => {
    receiver.calls.length = 0;
    receiver.answer = () => ({ code: 200 });
    await Promise.all(clients.splice(0).map((c) => c.close?.()));
  });
  afterAll(async () => receiver.close());

  it("is Maestro's gRPC type and is what the package exports for loading", () => {
    expect(maestroPlugin.forwarders?.map((f) => f.type)).toEqual(["gRPC"]);
  });

  it("sends SendRoomResync and SendRoomStatus with Maestro's fields", async () => {
    const c = client();
    const message: RoomStatusMessage = { room, status: "occupied" };
    await c.roomResync(message, call());
    await c.roomStatus({ room: { ...room, host: "", port: 0 }, status: "terminated" }, call());
    expect(receiver.calls).toEqual([
      {
        method: "sendRoomResync",
        message: {
          room: {
            game: "tennis",
            roomId: "room-1",
            host: "10.0.0.7",
            port: 40123,
            metadata: room.metadata,
            roomType: "green",
          },
          statusType: "occupied",
        },
      },
      {
        method: "sendRoomStatus",
        message: {
          room: { game: "tennis", roomId: "room-1", host: "", port: 0, metadata: room.metadata, roomType: "green" },
          statusType: "terminated",
        },
      },
    ]);
  });

  it("sends SendRoomEvent and SendPlayerEvent", async () => {
    const c = client();
    await c.roomEvent({ room: { ...room, roomType: "" }, eventType: "matchStarted" }, call());
    await c.playerEvent(
      { playerId: "p1", room: { game: "tennis", roomId: "room-1" }, eventType: "playerLeft", metadata: { a: "1" } },
      call(),
    );
    await c.playerEvent(
      { playerId: "p2", room: { game: "tennis", roomId: "room-1" }, eventType: "playerJoin", metadata: {} },
      call(),
    );
    expect(receiver.calls.map((x) => [x.method, x.message])).toEqual([
      [
        "sendRoomEvent",
        {
          room: {
            game: "tennis",
            roomId: "room-1",
            host: "10.0.0.7",
            port: 40123,
            metadata: room.metadata,
            roomType: "",
          },
          eventType: "matchStarted",
          metadata: {},
        },
      ],
      [
        "sendPlayerEvent",
        {
          playerId: "p1",
          room: { game: "tennis", roomId: "room-1", host: "", port: 0, metadata: {}, roomType: "" },
          eventType: "PLAYER_LEFT",
          metadata: { a: "1" },
        },
      ],
      [
        "sendPlayerEvent",
        {
          playerId: "p2",
          room: { game: "tennis", roomId: "room-1", host: "", port: 0, metadata: {}, roomType: "" },
          eventType: "PLAYER_JOINED",
          metadata: {},
        },
      ],
    ]);
  });

  it("counts an error code in the answer as delivered, and fails on a gRPC error", async () => {
    const c = client();
    receiver.answer = () => ({ code: 500, message: "boom" });
    await expect(c.roomEvent({ room, eventType: "x" }, call())).resolves.toBeUndefined();
    receiver.answer = () => failWith();
    await expect(c.roomEvent({ room, eventType: "x" }, call())).rejects.toThrow(/matchmaker failure/);
  });

  it("gives up at the forwarder's timeout", async () => {
    const c = client(100);
    receiver.answer = (_call, ctx) =>
      new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve({ code: 200 })));
    await expect(c.roomResync({ room, status: "ready" }, call(5000))).rejects.toThrow(/deadline|timeout|abort/i);
  });

  it("fails when nobody listens at the address", async () => {
    const other = await startGrpcForwarderReceiver();
    const address = other.address;
    await other.close();
    await expect(client(500, address).roomResync({ room, status: "ready" }, call())).rejects.toThrow();
  });

  it("shares one HTTP/2 connection between forwarders of the same address", async () => {
    const before = receiver.sessions;
    const a = client();
    const b = client();
    await Promise.all([
      a.roomResync({ room, status: "ready" }, call()),
      b.roomResync({ room, status: "ready" }, call()),
      a.roomEvent({ room, eventType: "x" }, call()),
    ]);
    expect(receiver.sessions - before).toBe(1);
  });

  it("maps Response.code as Maestro does", () => {
    expect([200, 404, 406, 500, 418].map(responseCodeName)).toEqual([
      "OK",
      "NotFound",
      "FailedPrecondition",
      "Internal",
      "Unknown",
    ]);
  });
});
