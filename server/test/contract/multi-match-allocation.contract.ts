import { describe, expect, it } from "vitest";
import type { GameRoom, RoomStatusName } from "../../src/core/entities/game-room.js";
import type { RoomStorage } from "../../src/core/ports/room-storage.js";
import { uniqueScheduler } from "../support/contract-helpers.js";
import { ms, room } from "./room-storage-helpers.js";

/** RoomStorage.allocateRoom with maxMatches > 1: rooms with free match slots are packed before fresh ones. */
export function multiMatchAllocationContract(storage: () => RoomStorage) {
  describe("allocateRoom with multi-match rooms", () => {
    const request = { now: ms(100), ttlMs: 60_000, maxMatches: 3 };
    const withMatches = (scheduler: string, id: string, status: RoomStatusName, runningMatches: number): GameRoom => ({
      ...room(scheduler, id, status),
      runningMatches,
    });

    it("fills rooms holding matches (fullest first) before taking a fresh ready room", async () => {
      const rooms = storage();
      const scheduler = uniqueScheduler();
      await rooms.createRoom(room(scheduler, "a", "ready"));
      await rooms.createRoom(withMatches(scheduler, "b", "active", 1));
      await rooms.createRoom(withMatches(scheduler, "c", "active", 2));
      await rooms.createRoom(withMatches(scheduler, "d", "occupied", 3));
      await rooms.createRoom(withMatches(scheduler, "e", "allocated", 1));
      await rooms.createRoom({ ...withMatches(scheduler, "0", "active", 2), isValidationRoom: true });
      const got: string[] = [];
      for (;;) {
        const allocated = await rooms.allocateRoom(scheduler, request);
        if (!allocated) break;
        got.push(`${allocated.id}:${allocated.status}:${allocated.runningMatches}`);
      }
      expect(got).toEqual([
        "c:occupied:3",
        "b:active:2",
        "b:occupied:3",
        "e:allocated:2",
        "e:occupied:3",
        "a:allocated:1",
        "a:allocated:2",
        "a:occupied:3",
      ]);
      const stored = await rooms.getRoom(scheduler, "a");
      expect(stored).toMatchObject({
        status: "occupied",
        runningMatches: 3,
        allocatedAt: ms(100),
        occupiedAt: ms(100),
      });
      expect(await rooms.countByStatus(scheduler)).toMatchObject({ occupied: 5, active: 1, ready: 0, allocated: 0 });
    });

    it("applies the metadata selector to packing too", async () => {
      const rooms = storage();
      const scheduler = uniqueScheduler();
      await rooms.createRoom({ ...withMatches(scheduler, "a", "active", 2), metadata: { map: "forest" } });
      await rooms.createRoom({ ...room(scheduler, "b", "ready"), metadata: { map: "desert" } });
      const got = await rooms.allocateRoom(scheduler, { ...request, metadataSelector: { map: "desert" } });
      expect(got).toMatchObject({ id: "b", status: "allocated", runningMatches: 1 });
    });

    it("does not pack single-match schedulers", async () => {
      const rooms = storage();
      const scheduler = uniqueScheduler();
      await rooms.createRoom(withMatches(scheduler, "a", "active", 1));
      await rooms.createRoom(room(scheduler, "b", "ready"));
      const got = await rooms.allocateRoom(scheduler, { ...request, maxMatches: 1 });
      expect(got).toMatchObject({ id: "b", status: "allocated", runningMatches: 0 });
      expect(await rooms.allocateRoom(scheduler, { ...request, maxMatches: 1 })).toBeUndefined();
    });

    it("never hands one slot to two concurrent callers", async () => {
      const rooms = storage();
      const scheduler = uniqueScheduler();
      const ids = ["a", "b", "c", "d"];
      for (const id of ids) await rooms.createRoom(room(scheduler, id, "ready"));
      const results = await Promise.all(Array.from({ length: 20 }, () => rooms.allocateRoom(scheduler, request)));
      const handed = results.filter((r) => r !== undefined);
      expect(handed).toHaveLength(12);
      // Each answer is one slot: per room, the running-match counts handed out are exactly 1, 2 and 3.
      for (const id of ids) {
        const slots = handed.filter((r) => r.id === id).map((r) => r.runningMatches);
        expect(slots.sort()).toEqual([1, 2, 3]);
        expect(await rooms.getRoom(scheduler, id)).toMatchObject({ status: "occupied", runningMatches: 3 });
      }
    });
  });
}
