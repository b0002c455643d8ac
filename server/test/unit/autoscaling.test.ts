import { describe, expect, it } from "vitest";
import { Autoscaler, clamp } from "../../src/core/autoscaling/autoscaler.js";
import { fixedBufferPolicy } from "../../src/core/autoscaling/fixed-buffer.js";
import { type RoomsSnapshot, roomsSnapshot } from "../../src/core/autoscaling/policy.js";
import { roomOccupancyPolicy } from "../../src/core/autoscaling/room-occupancy.js";
import type { GameRoom, RoomStatusName } from "../../src/core/entities/game-room.js";
import type { AutoscalingPolicy } from "../../src/core/entities/scheduler.js";
import { MaestroError } from "../../src/core/errors.js";
import { gameRoom } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

const snapshot = (
  counts: Partial<Record<RoomStatusName, number>>,
  runningMatches: number,
  maxMatches = 1,
): RoomsSnapshot => roomsSnapshot(counts, { runningMatches, maxMatches });
const occupancy = (readyTarget: number, downThreshold = 0.99): AutoscalingPolicy => ({
  type: "roomOccupancy",
  parameters: { roomOccupancy: { readyTarget, downThreshold } },
});

describe("roomOccupancy", () => {
  // Maestro's documented table: total rooms / occupied / readyTarget → desired rooms.
  it.each([
    [100, 80, 0.5, 160],
    [10, 1, 0.9, 10],
    [2, 2, 0.9, 20],
  ])("%i rooms with %i occupied and readyTarget %s want %i rooms", (total, occupied, readyTarget, expected) => {
    const rooms = snapshot({ occupied, ready: total - occupied }, occupied);
    expect(roomOccupancyPolicy.desiredRooms(rooms, occupancy(readyTarget))).toBe(expected);
  });

  it("counts match slots for multi-match rooms", () => {
    // 4 rooms × 4 slots; 6 matches running; keep half the slots free → 12 matches → 3 rooms.
    const rooms = snapshot({ active: 2, occupied: 1, ready: 1 }, 6, 4);
    expect(roomOccupancyPolicy.desiredRooms(rooms, occupancy(0.5))).toBe(3);
  });

  it("allows a downscale only while desired free slots / free slots ≤ downThreshold", () => {
    // 10 ready rooms, 1 running match elsewhere: free = 10×1 - 1 = 9... use 10 ready + 1 occupied.
    const rooms = snapshot({ ready: 10, occupied: 1 }, 1);
    const desired = roomOccupancyPolicy.desiredRooms(rooms, occupancy(0.5)); // ⌈1/0.5⌉ = 2
    expect(desired).toBe(2);
    // desiredFree = ⌈2×1×0.5⌉ = 1; free = 11 - 1 = 10; 1/10 = 0.1
    expect(roomOccupancyPolicy.canDownscale(rooms, occupancy(0.5, 0.2), desired)).toBe(true);
    expect(roomOccupancyPolicy.canDownscale(rooms, occupancy(0.5, 0.05), desired)).toBe(false);
    expect(roomOccupancyPolicy.canDownscale(snapshot({ occupied: 3 }, 3), occupancy(0.5), 6)).toBe(false); // no free slot
  });

  it("refuses parameters out of range", () => {
    expect(() => roomOccupancyPolicy.desiredRooms(snapshot({}, 0), occupancy(1))).toThrow(MaestroError);
    expect(() => roomOccupancyPolicy.desiredRooms(snapshot({}, 0), { type: "roomOccupancy", parameters: {} })).toThrow(
      /readyTarget/,
    );
  });
});

describe("fixedBuffer", () => {
  const buffer = (amount: number): AutoscalingPolicy => ({
    type: "fixedBuffer",
    parameters: { fixedBuffer: { amount } },
  });

  it("wants occupied + allocated + amount rooms", () => {
    expect(fixedBufferPolicy.desiredRooms(snapshot({ occupied: 3, allocated: 2, ready: 10 }, 5), buffer(4))).toBe(9);
  });

  it("downscales only when the rooms not terminating or in error exceed the desired number", () => {
    const rooms = snapshot({ occupied: 3, ready: 4, terminating: 2, error: 1 }, 3);
    expect(fixedBufferPolicy.canDownscale(rooms, buffer(2), 5)).toBe(true); // 10 - 2 - 1 = 7 > 5
    expect(fixedBufferPolicy.canDownscale(rooms, buffer(2), 7)).toBe(false);
  });
});

describe("Autoscaler", () => {
  const rooms = (statuses: RoomStatusName[]): GameRoom[] =>
    statuses.map((status, i) => gameRoom({ id: `r${i}`, status }));
  const scheduler = (
    autoscaling: Partial<NonNullable<ReturnType<typeof validScheduler>["autoscaling"]>>,
    last?: Date,
  ) =>
    validScheduler({
      autoscaling: { enabled: true, min: 1, max: 10, cooldown: 60, policy: occupancy(0.5), ...autoscaling },
      lastDownscaleAt: last,
    });
  const now = new Date("2026-01-01T00:10:00Z");

  it("clamps to min and max, max -1 meaning unlimited", () => {
    expect(clamp(0, 1, 10)).toBe(1);
    expect(clamp(50, 1, 10)).toBe(10);
    expect(clamp(50, 1, -1)).toBe(50);
    const a = new Autoscaler();
    expect(a.decide(scheduler({ max: 3 }), rooms(["occupied", "occupied", "occupied"]), now).desired).toBe(3);
    expect(a.decide(scheduler({ max: -1 }), rooms(["occupied", "occupied", "occupied"]), now).desired).toBe(6);
  });

  it("holds downscales during the cooldown", () => {
    const a = new Autoscaler();
    const many = rooms(["ready", "ready", "ready", "ready", "ready", "ready", "occupied"]);
    const recent = a.decide(scheduler({ policy: occupancy(0.5, 0.9) }, new Date(now.getTime() - 30_000)), many, now);
    expect(recent).toMatchObject({ desired: 2, canDownscale: false });
    expect(recent.heldBack).toContain("cooldown");
    const old = a.decide(scheduler({ policy: occupancy(0.5, 0.9) }, new Date(now.getTime() - 61_000)), many, now);
    expect(old).toMatchObject({ desired: 2, canDownscale: true });
  });

  it("answers an unknown policy with failed_precondition", () => {
    const err = (() => {
      try {
        new Autoscaler().decide(scheduler({ policy: { type: "magic", parameters: {} } }), [], now);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MaestroError);
    expect((err as MaestroError).code).toBe("failed_precondition");
  });
});
