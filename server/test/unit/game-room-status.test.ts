import { describe, expect, it } from "vitest";
import {
  calculateRoomStatus,
  composeRoomStatus,
  type InstanceStatusType,
  instanceStatuses,
  isValidTransition,
  type PingStatus,
  pingStatuses,
  type RoomStatusName,
  roomStatusNames,
} from "../../src/core/entities/game-room.js";

// Maestro's roomStatusComposition (reference §3.4), row = ping status, columns = instance status in the order
// unknown, pending, ready, terminating, error.
const composition: Record<
  PingStatus,
  [RoomStatusName, RoomStatusName, RoomStatusName, RoomStatusName, RoomStatusName]
> = {
  unknown: ["pending", "pending", "unready", "terminating", "error"],
  ready: ["pending", "pending", "ready", "terminating", "error"],
  occupied: ["pending", "pending", "occupied", "terminating", "error"],
  terminating: ["terminating", "terminating", "terminating", "terminating", "error"],
  terminated: ["terminated", "terminated", "terminated", "terminated", "error"],
};
const instanceColumns: InstanceStatusType[] = ["unknown", "pending", "ready", "terminating", "error"];

// Maestro's validStatusTransitions (reference §3.4) plus the documented pending → active.
const transitions: Record<RoomStatusName, RoomStatusName[]> = {
  pending: ["ready", "terminating", "unready", "error", "occupied", "active"],
  ready: ["occupied", "allocated", "terminating", "unready", "error", "active"],
  unready: ["terminating", "occupied", "ready", "error", "pending", "active"],
  active: ["ready", "occupied", "terminating", "unready", "error"],
  occupied: ["ready", "terminating", "unready", "error", "active"],
  allocated: ["active", "occupied", "ready", "terminating", "unready", "error"],
  error: ["terminating", "unready", "ready"],
  terminating: ["error", "unready", "ready", "terminated"],
  terminated: [],
};

describe("composeRoomStatus (ping × instance)", () => {
  it("covers every ping and instance status of the entity", () => {
    expect([...pingStatuses].sort()).toEqual(Object.keys(composition).sort());
    expect([...instanceStatuses].sort()).toEqual([...instanceColumns].sort());
  });

  const cells = pingStatuses.flatMap((ping) =>
    instanceColumns.map((instance, i) => [ping, instance, composition[ping][i]] as const),
  );
  it.each(cells)("ping %s × instance %s → %s", (ping, instance, expected) => {
    expect(composeRoomStatus(ping, instance)).toBe(expected);
  });
});

describe("isValidTransition", () => {
  const pairs = roomStatusNames.flatMap((from) =>
    roomStatusNames.map((to) => [from, to, from === to || transitions[from].includes(to)] as const),
  );
  it.each(pairs)("%s → %s allowed: %s", (from, to, allowed) => {
    expect(isValidTransition(from, to)).toBe(allowed);
  });

  it("keeps a terminated room terminated", () => {
    for (const to of roomStatusNames) if (to !== "terminated") expect(isValidTransition("terminated", to)).toBe(false);
  });
});

describe("calculateRoomStatus", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  const ttl = 300_000;
  const room = (
    pingStatus: PingStatus,
    runningMatches: number,
    extra: { status?: RoomStatusName; allocatedAt?: Date } = {},
  ) => ({ status: extra.status ?? "ready", pingStatus, runningMatches, allocatedAt: extra.allocatedAt });
  const calc = (r: ReturnType<typeof room>, instance: InstanceStatusType, maxMatches: number) =>
    calculateRoomStatus(r, instance, { maxMatches, now, allocationTtlMs: ttl });

  it("single match: the composed status, whatever the running matches", () => {
    expect(calc(room("ready", 0), "ready", 1)).toBe("ready");
    expect(calc(room("ready", 3), "ready", 1)).toBe("ready");
    expect(calc(room("occupied", 0), "ready", 1)).toBe("occupied");
    expect(calc(room("occupied", 1), "ready", 1)).toBe("occupied");
    expect(calc(room("unknown", 0), "ready", 1)).toBe("unready");
  });

  it.each([
    ["ready", 0, "ready"],
    ["ready", 1, "active"],
    ["ready", 2, "active"],
    ["occupied", 0, "ready"],
    ["occupied", 1, "active"],
    ["occupied", 2, "active"],
    ["occupied", 3, "occupied"],
    ["occupied", 5, "occupied"],
    ["ready", 3, "occupied"],
  ] as const)("multi match (max 3): ping %s with %i running matches → %s", (ping, matches, expected) => {
    expect(calc(room(ping, matches), "ready", 3)).toBe(expected);
  });

  it("multi match leaves statuses other than ready/occupied alone", () => {
    expect(calc(room("ready", 2), "pending", 3)).toBe("pending");
    expect(calc(room("unknown", 2), "ready", 3)).toBe("unready");
    expect(calc(room("terminating", 2), "ready", 3)).toBe("terminating");
    expect(calc(room("occupied", 2), "error", 3)).toBe("error");
    expect(calc(room("terminated", 3), "ready", 3)).toBe("terminated");
  });

  it("an allocation holds a ready room for the TTL, inclusive, then the room is ready again", () => {
    const allocated = (agoMs: number) =>
      room("ready", 0, { status: "allocated", allocatedAt: new Date(now.getTime() - agoMs) });
    expect(calc(allocated(1_000), "ready", 1)).toBe("allocated");
    expect(calc(allocated(ttl), "ready", 1)).toBe("allocated");
    expect(calc(allocated(ttl + 1), "ready", 1)).toBe("ready");
    expect(calc(allocated(1_000), "ready", 3)).toBe("allocated");
    expect(calc(allocated(ttl + 1), "ready", 3)).toBe("ready");
  });

  it("the allocation only holds a room that is still allocated and composes to ready", () => {
    const allocatedAt = new Date(now.getTime() - 1_000);
    expect(calc(room("occupied", 1, { status: "allocated", allocatedAt }), "ready", 1)).toBe("occupied");
    expect(calc(room("occupied", 1, { status: "allocated", allocatedAt }), "ready", 3)).toBe("active");
    expect(calc(room("ready", 0, { status: "allocated", allocatedAt }), "terminating", 1)).toBe("terminating");
    expect(calc(room("ready", 0, { status: "ready", allocatedAt }), "ready", 1)).toBe("ready");
    expect(calc(room("ready", 0, { status: "allocated" }), "ready", 1)).toBe("ready");
  });
});
