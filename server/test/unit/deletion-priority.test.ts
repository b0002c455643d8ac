import { describe, expect, it } from "vitest";
import type { GameRoom, RoomStatusName } from "../../src/core/entities/game-room.js";
import { roomsByDeletionPriority } from "../../src/core/operations/remove-rooms/deletion-priority.js";
import { gameRoom, ManualClock } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

const clock = new ManualClock();
const pingTimeoutMs = 240_000;
const scheduler = validScheduler({ spec: { version: "v2.1.0" } });

const room = (id: string, status: RoomStatusName, extra: Partial<GameRoom> = {}) =>
  gameRoom({ id, status, version: "v2.0.0", lastPingAt: clock.ago(1_000), ...extra });

const order = (rooms: GameRoom[]) =>
  roomsByDeletionPriority(rooms, scheduler, { now: clock.now(), pingTimeoutMs }).map((r) => r.id);

describe("roomsByDeletionPriority", () => {
  it("orders error, stale ping, other major, then the active major by status with occupied last", () => {
    const rooms = [
      room("m-occupied", "occupied"),
      room("m-allocated", "allocated"),
      room("m-active", "active"),
      room("m-ready", "ready"),
      room("m-pending", "pending"),
      room("m-unready", "unready"),
      room("old-major-ready", "ready", { version: "v1.3.0" }),
      room("stale-occupied", "occupied", { lastPingAt: clock.ago(pingTimeoutMs + 1) }),
      room("z-error", "error"),
    ];
    expect(order(rooms)).toEqual([
      "z-error",
      "stale-occupied",
      "old-major-ready",
      "m-unready",
      "m-pending",
      "m-ready",
      "m-active",
      "m-allocated",
      "m-occupied",
    ]);
  });

  it("removes an other-major ready room before an other-major occupied one", () => {
    const rooms = [
      room("a-occupied", "occupied", { version: "v1.0.0" }),
      room("b-ready", "ready", { version: "v1.0.0" }),
      room("c-pending", "pending", { version: "v1.0.0" }),
    ];
    expect(order(rooms)).toEqual(["c-pending", "b-ready", "a-occupied"]);
  });

  it("removes the longest silent room first among stale ones", () => {
    const rooms = [
      room("a", "ready", { lastPingAt: clock.ago(pingTimeoutMs + 10) }),
      room("b", "ready", { lastPingAt: clock.ago(pingTimeoutMs + 1_000) }),
      room("c", "occupied", { lastPingAt: clock.ago(pingTimeoutMs + 100) }),
    ];
    expect(order(rooms)).toEqual(["b", "c", "a"]);
  });

  it("does not count a ping exactly at the timeout as stale", () => {
    const rooms = [room("at-limit", "occupied", { lastPingAt: clock.ago(pingTimeoutMs) }), room("ready", "ready")];
    expect(order(rooms)).toEqual(["ready", "at-limit"]);
  });

  it("treats an unparsable version as another major", () => {
    expect(order([room("same", "ready"), room("legacy", "occupied", { version: "garbage" })])).toEqual([
      "legacy",
      "same",
    ]);
  });

  it("breaks ties by room id in byte order and skips terminating and terminated rooms", () => {
    const rooms = [
      room("room-b", "ready"),
      room("room-a", "ready"),
      room("roomc", "ready"),
      room("leaving", "terminating"),
      room("gone", "terminated"),
    ];
    expect(order(rooms)).toEqual(["room-a", "room-b", "roomc"]);
  });
});
