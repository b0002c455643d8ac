import { describe, expect, it } from "vitest";
import type { GameRoom, RoomStatusName } from "../../src/core/entities/game-room.js";
import { rollingUpdateStep, surgeOf } from "../../src/core/operations/health-controller/rolling-update.js";
import { gameRoom } from "../support/core-harness.js";

const byId = (rooms: GameRoom[]) => [...rooms].sort((a, b) => (a.id < b.id ? -1 : 1));

describe("surgeOf", () => {
  it.each([
    ["1", 10, 1],
    ["3", 10, 3],
    ["10%", 10, 1],
    ["25%", 10, 3],
    ["10%", 0, 1],
    ["0", 5, 1],
    ["junk", 5, 1],
  ])("maxSurge %s with %i desired rooms allows %i extra", (maxSurge, desired, expected) => {
    expect(surgeOf(maxSurge, desired)).toBe(expected);
  });
});

describe("rollingUpdateStep", () => {
  const room = (id: string, version: string, status: RoomStatusName = "ready") => gameRoom({ id, version, status });

  it("is not rolling when every available room has the active major version", () => {
    const rooms = [room("a", "v2.0.0"), room("b", "v2.1.0")];
    expect(rollingUpdateStep(rooms, "v2.1.0", 2, "1", byId)).toBeUndefined();
  });

  it("replaces old rooms one surge at a time without ever serving fewer than desired", () => {
    // Simulate cycles: new rooms start pending and become ready on the next cycle; removed rooms disappear.
    let rooms: GameRoom[] = [room("old-1", "v1.0.0"), room("old-2", "v1.0.0"), room("old-3", "v1.0.0")];
    let created = 0;
    const desired = 3;
    for (let cycle = 0; cycle < 20; cycle++) {
      const serving = rooms.filter((r) => r.status === "ready").length;
      expect(serving, `cycle ${cycle}`).toBeGreaterThanOrEqual(desired);
      expect(rooms.length, `cycle ${cycle}`).toBeLessThanOrEqual(desired + 1);
      const step = rollingUpdateStep(rooms, "v2.0.0", desired, "1", byId);
      if (!step) break;
      rooms = rooms.map((r) => (r.status === "pending" ? { ...r, status: "ready" } : r));
      const gone = new Set(step.remove.map((r) => r.id));
      rooms = rooms.filter((r) => !gone.has(r.id));
      for (let i = 0; i < step.add; i++) rooms.push(room(`new-${++created}`, "v2.0.0", "pending"));
    }
    expect(rooms.map((r) => r.version)).toEqual(["v2.0.0", "v2.0.0", "v2.0.0"]);
    expect(created).toBe(3);
  });

  it("uses a percentage surge to replace several rooms at once", () => {
    const rooms = Array.from({ length: 8 }, (_, i) => room(`old-${i}`, "v1.0.0"));
    expect(rollingUpdateStep(rooms, "v2.0.0", 8, "25%", byId)).toEqual({ add: 2, remove: [] });
    const withNew = [...rooms, room("new-1", "v2.0.0"), room("new-2", "v2.0.0", "unready")];
    const step = rollingUpdateStep(withNew, "v2.0.0", 8, "25%", byId)!;
    expect(step.add).toBe(0);
    expect(step.remove).toHaveLength(1); // only the serving new room frees an old one
  });

  it("removes old rooms in deletion-priority order (the caller's ordering)", () => {
    const rooms = [room("old-a", "v1.0.0", "occupied"), room("old-b", "v1.0.0"), room("new", "v2.0.0")];
    const readyFirst = (rs: GameRoom[]) => [...rs].sort((a) => (a.status === "occupied" ? 1 : -1));
    expect(rollingUpdateStep(rooms, "v2.0.0", 2, "1", readyFirst)!.remove.map((r) => r.id)).toEqual(["old-b"]);
  });

  it("treats another minor of the same major as current (minor versions replace nothing)", () => {
    expect(rollingUpdateStep([room("a", "v1.0.0"), room("b", "v1.3.0")], "v1.3.0", 2, "1", byId)).toBeUndefined();
  });
});
