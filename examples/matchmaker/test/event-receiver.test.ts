import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { GRPCForwarder, PlayerEvent_PlayerEventType, RoomStatus_RoomStatusType } from "@maestro/proto/eventforwarder";
import { afterEach, describe, expect, it } from "vitest";
import { type EventReceiver, startEventReceiver } from "../src/event-receiver.js";
import { eventually, MAIN, spawnNode } from "./support.js";

/** A gRPC client like Maestro's forwarder: plain HTTP/2 to host:port. */
function forwarderClient(address: string) {
  return createClient(GRPCForwarder, createGrpcTransport({ baseUrl: `http://${address}` }));
}

let receiver: EventReceiver | undefined;

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

describe("event receiver (gRPC eventforwarder.GRPCForwarder)", () => {
  it("answers code 200 and records room, status and player events with their content", async () => {
    receiver = await startEventReceiver();
    expect(receiver.address).toBe(`127.0.0.1:${receiver.port}`);
    const client = forwarderClient(receiver.address);
    const room = { game: "tutorial", roomId: "my-game-abc", host: "127.0.0.1", port: 40001, metadata: {} };

    const answers = [
      await client.sendRoomEvent({ room, eventType: "match-started", metadata: { map: "dust" } }),
      await client.sendPlayerEvent({
        playerId: "p1",
        room: { game: "tutorial", roomId: "my-game-abc" },
        eventType: PlayerEvent_PlayerEventType.PLAYER_LEFT,
      }),
      await client.sendRoomResync({ room, statusType: RoomStatus_RoomStatusType.occupied }),
      await client.sendRoomStatus({ room, statusType: RoomStatus_RoomStatusType.terminated }),
    ];
    expect(answers.map((a) => [a.code, a.message])).toEqual(Array(4).fill([200, "ok"]));

    expect(receiver.events.map((e) => [e.kind, e.roomId, e.game, e.summary])).toEqual([
      ["roomEvent", "my-game-abc", "tutorial", 'roomEvent match-started room=my-game-abc {"map":"dust"}'],
      ["playerEvent", "my-game-abc", "tutorial", "playerEvent PLAYER_LEFT player=p1 room=my-game-abc"],
      ["roomResync", "my-game-abc", "tutorial", "roomResync occupied room=my-game-abc at 127.0.0.1:40001"],
      ["roomStatus", "my-game-abc", "tutorial", "roomStatus terminated room=my-game-abc at 127.0.0.1:40001"],
    ]);
    // Every field, zero values included: PLAYER_JOINED and ready are enum value 0.
    expect(receiver.events[1]?.message).toMatchObject({ eventType: "PLAYER_LEFT", playerId: "p1" });
    expect(receiver.events[0]?.message).toEqual({
      room: { game: "tutorial", roomId: "my-game-abc", host: "127.0.0.1", port: 40001, metadata: {}, roomType: "" },
      eventType: "match-started",
      metadata: { map: "dust" },
    });
  });

  it("waitFor resolves on a later event, and times out naming what arrived", async () => {
    receiver = await startEventReceiver();
    const client = forwarderClient(receiver.address);
    const waiting = receiver.waitFor((e) => e.kind === "playerEvent");
    await client.sendPlayerEvent({ playerId: "p2", room: { roomId: "r2" } });
    await expect(waiting).resolves.toMatchObject({ kind: "playerEvent", roomId: "r2" });
    await expect(receiver.waitFor((e) => e.kind === "roomInfo", { timeoutMs: 50 })).rejects.toThrow(
      /received: playerEvent/,
    );
  });

  it("close() ends the open connection of a client that keeps it", async () => {
    receiver = await startEventReceiver();
    const client = forwarderClient(receiver.address);
    await client.sendRoomEvent({ room: { roomId: "r3" }, eventType: "x" });
    await receiver.close();
    receiver = undefined;
    await expect(client.sendRoomEvent({ room: { roomId: "r3" }, eventType: "y" })).rejects.toThrow();
  });
});

describe("matchmaker serve-events (built CLI)", () => {
  it("prints each forwarded event and stops cleanly on SIGINT", async () => {
    const proc = spawnNode(MAIN, ["serve-events", "--port", "0"]);
    try {
      const address = await eventually(() => /receiving forwarded events on (\S+)/.exec(proc.stdout())?.[1], {
        what: "the receiver to listen",
      });
      const answer = await forwarderClient(address).sendRoomEvent({
        room: { game: "tutorial", roomId: "cli-room" },
        eventType: "round-over",
      });
      expect(answer.code).toBe(200);
      await eventually(() => proc.stdout().includes("roomEvent round-over room=cli-room {}"), {
        what: "the event to be printed",
      });
      proc.child.kill("SIGINT");
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.stdout()).toContain("stopped after 1 event(s)");
    } finally {
      proc.child.kill("SIGKILL");
    }
  });

  it("--json prints one JSON object per event", async () => {
    const proc = spawnNode(MAIN, ["serve-events", "--port", "0", "--json"]);
    try {
      const address = await eventually(() => /receiving forwarded events on (\S+)/.exec(proc.stderr())?.[1], {
        what: "the receiver to listen",
      });
      await forwarderClient(address).sendPlayerEvent({ playerId: "p9", room: { roomId: "json-room" } }); // PLAYER_JOINED
      const line = await eventually(
        () =>
          proc
            .stdout()
            .split("\n")
            .find((l) => l.startsWith("{")),
        {
          what: "a JSON line",
        },
      );
      expect(JSON.parse(line)).toMatchObject({
        kind: "playerEvent",
        roomId: "json-room",
        message: { playerId: "p9", room: { roomId: "json-room" }, eventType: "PLAYER_JOINED" },
      });
    } finally {
      proc.child.kill("SIGKILL");
    }
  });
});
