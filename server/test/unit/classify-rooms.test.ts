import { describe, expect, it } from "vitest";
import type { GameRoom, Instance, InstanceStatusType, RoomStatusName } from "../../src/core/entities/game-room.js";
import { classifyRooms } from "../../src/core/operations/health-controller/classify-rooms.js";
import { defaultRoomTimeouts, type RoomTimeouts } from "../../src/core/services/timeouts.js";
import { gameRoom, instanceOf, ManualClock } from "../support/core-harness.js";

const clock = new ManualClock();
const t = defaultRoomTimeouts; // init 120 s, ping 240 s, deletion 120 s

function classify(pairs: [GameRoom, InstanceStatusType][], timeouts: RoomTimeouts = t) {
  const rooms = pairs.map(([r]) => r);
  const instances = pairs.map(([r, type]) => instanceOf(r.id, type));
  return classifyRooms(rooms, instances, { now: clock.now(), timeouts });
}

const room = (id: string, status: RoomStatusName, ageMs: { created?: number; ping?: number } = {}) =>
  gameRoom({
    id,
    status,
    createdAt: clock.ago(ageMs.created ?? 10_000),
    lastPingAt: clock.ago(ageMs.ping ?? ageMs.created ?? 10_000),
  });

const ids = (rooms: GameRoom[]) => rooms.map((r) => r.id).sort();

describe("classifyRooms", () => {
  it("counts fresh ready, occupied, unready, active and allocated rooms as available", () => {
    const c = classify([
      [room("a", "ready"), "ready"],
      [room("b", "occupied"), "ready"],
      [room("c", "unready"), "ready"],
      [room("d", "active"), "ready"],
      [room("e", "allocated"), "ready"],
    ]);
    expect(ids(c.available)).toEqual(["a", "b", "c", "d", "e"]);
    expect(c.expired).toEqual([]);
  });

  it("replaces a room occupied longer than the scheduler's occupiedTimeout, only when one is set", () => {
    const stuck = { ...room("stuck", "occupied"), occupiedAt: clock.ago(601_000) };
    const playing = { ...room("playing", "occupied"), occupiedAt: clock.ago(599_000) };
    const rooms = [stuck, playing];
    const instances = rooms.map((r) => instanceOf(r.id, "ready"));
    const limited = classifyRooms(rooms, instances, { now: clock.now(), timeouts: t, occupiedTimeoutMs: 600_000 });
    expect(ids(limited.expired)).toEqual(["stuck"]);
    expect(ids(limited.available)).toEqual(["playing"]);
    const unlimited = classifyRooms(rooms, instances, { now: clock.now(), timeouts: t });
    expect(unlimited.expired).toEqual([]);
  });

  it("ignores rooms whose instance status is unknown", () => {
    const c = classify([[room("a", "ready", { ping: t.pingMs * 10 }), "unknown"]]);
    expect(c.available).toEqual([]);
    expect(c.expired).toEqual([]);
    expect(c.orphanRoomIds).toEqual([]);
  });

  it("counts a room with a pending instance as available however old it is (Maestro: it is coming)", () => {
    const c = classify([[room("a", "pending", { created: t.initializationMs * 10 }), "pending"]]);
    expect(ids(c.available)).toEqual(["a"]);
    expect(c.expired).toEqual([]);
  });

  it("expires pending and unready rooms past the initialization timeout, not before", () => {
    const c = classify([
      [room("pending-old", "pending", { created: t.initializationMs + 1 }), "ready"],
      [room("unready-old", "unready", { created: t.initializationMs + 1 }), "ready"],
      [room("pending-new", "pending", { created: t.initializationMs - 1 }), "ready"],
      [room("unready-new", "unready", { created: t.initializationMs }), "ready"],
    ]);
    expect(ids(c.expired)).toEqual(["pending-old", "unready-old"]);
    expect(ids(c.available)).toEqual(["pending-new", "unready-new"]);
  });

  it("expires rooms that stopped pinging past the ping timeout, not before", () => {
    const c = classify([
      [room("ready-stale", "ready", { created: t.pingMs * 2, ping: t.pingMs + 1 }), "ready"],
      [room("occupied-stale", "occupied", { created: t.pingMs * 2, ping: t.pingMs + 1 }), "ready"],
      [room("active-stale", "active", { created: t.pingMs * 2, ping: t.pingMs + 1 }), "ready"],
      [room("ready-fresh", "ready", { created: t.pingMs * 2, ping: t.pingMs }), "ready"],
    ]);
    expect(ids(c.expired)).toEqual(["active-stale", "occupied-stale", "ready-stale"]);
    expect(ids(c.available)).toEqual(["ready-fresh"]);
  });

  it("applies the ping timeout to every status but pending, as Maestro does", () => {
    // Long initialization and deletion timeouts, so only the ping timeout can expire these rooms.
    const timeouts = { ...t, initializationMs: 3_600_000, deletionMs: 3_600_000 };
    const c = classify(
      [
        [room("unready", "unready", { created: t.pingMs + 1 }), "ready"],
        [room("terminating", "terminating", { created: t.pingMs + 1 }), "terminating"],
        [room("pending", "pending", { created: t.pingMs + 1 }), "ready"],
      ],
      timeouts,
    );
    expect(ids(c.expired)).toEqual(["terminating", "unready"]);
    expect(ids(c.available)).toEqual(["pending"]);
  });

  it("expires terminating rooms past the deletion timeout and never counts them as available", () => {
    const c = classify([
      [room("stuck", "terminating", { ping: t.deletionMs + 1 }), "terminating"],
      [room("leaving", "terminating", { ping: t.deletionMs - 1 }), "terminating"],
      [room("leaving-ready-instance", "terminating", { ping: 1_000 }), "ready"],
    ]);
    expect(ids(c.expired)).toEqual(["stuck"]);
    expect(c.available).toEqual([]);
  });

  it("expires terminated rooms and rooms in error at once", () => {
    const c = classify([
      [room("terminated", "terminated", { created: 1_000 }), "terminating"],
      [room("crashed", "error", { created: 1_000 }), "error"],
    ]);
    expect(ids(c.expired)).toEqual(["crashed", "terminated"]);
    expect(c.available).toEqual([]);
  });

  it("reports ids known to only one of the room and instance stores", () => {
    const rooms = [room("both", "ready"), room("room-only", "ready")];
    const instances: Instance[] = [instanceOf("both", "ready"), instanceOf("instance-only", "ready")];
    const c = classifyRooms(rooms, instances, { now: clock.now(), timeouts: t });
    expect(c.orphanRoomIds).toEqual(["room-only"]);
    expect(c.orphanInstanceIds).toEqual(["instance-only"]);
    expect(ids(c.available)).toEqual(["both"]);
  });
});
