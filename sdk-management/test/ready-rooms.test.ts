import { create } from "@bufbuild/protobuf";
import { SchedulerInfoSchema } from "@maestro/proto";
import { describe, expect, it } from "vitest";
import { readyBar, upRooms } from "../src/cli/ready-rooms.js";

const plain = { bold: (s: string) => s, dim: (s: string) => s, status: (s: string) => s };
const info = (replicas: number, ready: number, occupied = 0, pending = 0) =>
  create(SchedulerInfoSchema, {
    name: "s",
    roomsReplicas: replicas,
    roomsReady: ready,
    roomsOccupied: occupied,
    roomsPending: pending,
  });

describe("rooms progress bar", () => {
  it("fills in proportion to the rooms up (ready or occupied) out of the replicas", () => {
    expect(readyBar(info(4, 0, 0, 4), plain)).toBe(`[${"░".repeat(24)}] 0/4 rooms up (0 ready, 4 pending)`);
    expect(readyBar(info(4, 1, 0, 3), plain)).toBe(
      `[${"█".repeat(6)}${"░".repeat(18)}] 1/4 rooms up (1 ready, 3 pending)`,
    );
    expect(readyBar(info(4, 2, 1), plain)).toBe(
      `[${"█".repeat(18)}${"░".repeat(6)}] 3/4 rooms up (2 ready, 1 occupied)`,
    );
    expect(readyBar(info(3, 3), plain)).toBe(`[${"█".repeat(24)}] 3/3 rooms up (3 ready)`);
  });

  it("never overflows, and a scheduler of zero replicas is complete", () => {
    expect(readyBar(info(2, 3), plain)).toBe(`[${"█".repeat(24)}] 3/2 rooms up (3 ready)`);
    expect(readyBar(info(0, 0), plain)).toBe(`[${"█".repeat(24)}] 0/0 rooms up (0 ready)`);
    expect(upRooms(info(5, 2, 2, 1))).toBe(4);
  });
});
