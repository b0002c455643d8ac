import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GameRoom, RoomStatusName } from "../../src/core/entities/game-room.js";
import { roomStatusNames } from "../../src/core/entities/game-room.js";
import type { RoomStatusEvent, RoomStorage } from "../../src/core/ports/room-storage.js";
import { expectCode, sortById, uniqueScheduler } from "../support/contract-helpers.js";
import { applyPingContract } from "./apply-ping.contract.js";
import { guardedTransitionsContract } from "./guarded-transitions.contract.js";
import { multiMatchAllocationContract } from "./multi-match-allocation.contract.js";
import { at, ms, type RoomStores, room, startWatch, waitFor, zeroCounts } from "./room-storage-helpers.js";

/**
 * The RoomStorage contract, for every adapter (memory, Redis). The factory is called once per suite; tests use
 * scheduler names of their own. Dates keep millisecond precision.
 */
export function roomStorageContract(name: string, factory: () => RoomStores | Promise<RoomStores>) {
  describe(`RoomStorage contract: ${name}`, () => {
    let storage: RoomStorage;
    let stores: RoomStores;
    const watches: AbortController[] = [];

    beforeAll(async () => {
      stores = await factory();
      storage = stores.rooms;
    });

    applyPingContract(() => stores);
    multiMatchAllocationContract(() => stores.rooms);
    guardedTransitionsContract(() => stores);

    afterEach(() => {
      for (const controller of watches.splice(0)) controller.abort();
    });

    describe("createRoom / getRoom", () => {
      it("returns what was created, optional fields included", async () => {
        const scheduler = uniqueScheduler();
        const plain = room(scheduler, "plain");
        const full: GameRoom = {
          ...room(scheduler, "full", "occupied"),
          pingStatus: "occupied",
          metadata: { region: "sa", nested: { list: [1, "two", null, true], deep: { n: 1.5 } } },
          isValidationRoom: true,
          runningMatches: 3,
          allocatedAt: new Date("2026-02-03T04:05:06.789Z"),
          occupiedAt: new Date("2026-02-03T04:05:07.001Z"),
        };
        await storage.createRoom(plain);
        await storage.createRoom(full);
        expect(await storage.getRoom(scheduler, "plain")).toEqual(at(plain, 1));
        expect(await storage.getRoom(scheduler, "full")).toEqual(at(full, 1));
      });

      it("throws already_exists for an existing room and keeps the stored one", async () => {
        const scheduler = uniqueScheduler();
        await storage.createRoom(room(scheduler, "r1", "ready"));
        await expectCode(storage.createRoom(room(scheduler, "r1", "error")), "already_exists");
        expect((await storage.getRoom(scheduler, "r1"))?.status).toBe("ready");
      });

      it("returns undefined for an unknown room and keeps schedulers apart", async () => {
        const scheduler = uniqueScheduler();
        const other = uniqueScheduler();
        await storage.createRoom(room(scheduler, "r1"));
        expect(await storage.getRoom(scheduler, "missing")).toBeUndefined();
        expect(await storage.getRoom(other, "r1")).toBeUndefined();
        await storage.createRoom(room(other, "r1", "ready"));
        expect((await storage.getRoom(scheduler, "r1"))?.status).toBe("pending");
      });

      it("does not share objects with the caller", async () => {
        const scheduler = uniqueScheduler();
        const created = room(scheduler, "r1");
        created.metadata = { a: { b: 1 } };
        await storage.createRoom(created);
        (created.metadata["a"] as { b: number }).b = 2;
        const read = await storage.getRoom(scheduler, "r1");
        expect(read?.metadata).toEqual({ a: { b: 1 } });
        read!.lastPingAt.setTime(0);
        expect((await storage.getRoom(scheduler, "r1"))?.lastPingAt).toEqual(created.lastPingAt);
      });
    });

    describe("updateRoom", () => {
      it("replaces the stored room, clearing optional fields left out", async () => {
        const scheduler = uniqueScheduler();
        const created: GameRoom = { ...room(scheduler, "r1", "allocated"), allocatedAt: ms(5), metadata: { a: 1 } };
        await storage.createRoom(created);
        const updated: GameRoom = {
          ...created,
          status: "occupied",
          pingStatus: "occupied",
          runningMatches: 1,
          metadata: { b: 2 },
          lastPingAt: ms(9),
          allocatedAt: undefined,
          occupiedAt: ms(9),
        };
        await storage.updateRoom(updated);
        const stored = await storage.getRoom(scheduler, "r1");
        expect(stored).toEqual(at(updated, 2));
        expect(stored?.allocatedAt).toBeUndefined();
      });

      it("throws not_found for an unknown room and never resurrects a deleted one", async () => {
        const scheduler = uniqueScheduler();
        await expectCode(storage.updateRoom(room(scheduler, "ghost")), "not_found");
        expect(await storage.getRoom(scheduler, "ghost")).toBeUndefined();
        await storage.createRoom(room(scheduler, "r1"));
        await storage.deleteRoom(scheduler, "r1");
        await expectCode(storage.updateRoom(room(scheduler, "r1", "ready")), "not_found");
        expect(await storage.getRoom(scheduler, "r1")).toBeUndefined();
        expect(await storage.listRoomIds(scheduler)).toEqual([]);
      });
    });

    describe("deleteRoom", () => {
      it("removes the room from get, lists and counts", async () => {
        const scheduler = uniqueScheduler();
        await storage.createRoom(room(scheduler, "r1", "ready"));
        await storage.createRoom(room(scheduler, "r2", "ready"));
        await storage.deleteRoom(scheduler, "r1");
        expect(await storage.getRoom(scheduler, "r1")).toBeUndefined();
        expect(await storage.listRoomIds(scheduler)).toEqual(["r2"]);
        expect((await storage.listRooms(scheduler)).map((r) => r.id)).toEqual(["r2"]);
        expect((await storage.countByStatus(scheduler)).ready).toBe(1);
      });

      it("throws not_found for an unknown room, also when deleting twice", async () => {
        const scheduler = uniqueScheduler();
        await expectCode(storage.deleteRoom(scheduler, "missing"), "not_found");
        await storage.createRoom(room(scheduler, "r1"));
        await storage.deleteRoom(scheduler, "r1");
        await expectCode(storage.deleteRoom(scheduler, "r1"), "not_found");
      });

      it("lets a deleted room id be created again", async () => {
        const scheduler = uniqueScheduler();
        await storage.createRoom(room(scheduler, "r1", "ready"));
        await storage.deleteRoom(scheduler, "r1");
        await storage.createRoom(room(scheduler, "r1", "pending"));
        expect((await storage.getRoom(scheduler, "r1"))?.status).toBe("pending");
      });
    });

    describe("listRooms / listRoomIds / countByStatus", () => {
      it("list the rooms of one scheduler only", async () => {
        const scheduler = uniqueScheduler();
        const other = uniqueScheduler();
        const rooms = [room(scheduler, "a", "ready"), room(scheduler, "b", "occupied"), room(scheduler, "c")];
        for (const r of rooms) await storage.createRoom(r);
        await storage.createRoom(room(other, "z"));
        expect(sortById(await storage.listRooms(scheduler))).toEqual(rooms.map((r) => at(r, 1)));
        expect((await storage.listRoomIds(scheduler)).sort()).toEqual(["a", "b", "c"]);
        expect(await storage.listRooms(uniqueScheduler())).toEqual([]);
        expect(await storage.listRoomIds(uniqueScheduler())).toEqual([]);
      });

      it("counts the rooms of several schedulers at once, in the order asked, as countByStatus counts each", async () => {
        const [a, b, none] = [uniqueScheduler(), uniqueScheduler(), uniqueScheduler()];
        for (const [i, status] of (["ready", "ready", "occupied"] as RoomStatusName[]).entries()) {
          await storage.createRoom(room(a, `a${i}`, status));
        }
        await storage.createRoom(room(b, "b0", "pending"));
        const counts = await storage.countByStatusOf([b, none, a]);
        expect(counts).toEqual([
          await storage.countByStatus(b),
          await storage.countByStatus(none),
          await storage.countByStatus(a),
        ]);
        expect(counts[2]).toEqual({ ...zeroCounts(), ready: 2, occupied: 1 });
        expect(counts[1]).toEqual(zeroCounts());
        expect(await storage.countByStatusOf([])).toEqual([]);
      });

      it("counts rooms by status with every status present", async () => {
        const scheduler = uniqueScheduler();
        const empty = await storage.countByStatus(scheduler);
        expect(Object.keys(empty).sort()).toEqual([...roomStatusNames].sort());
        expect(Object.values(empty).every((n) => n === 0)).toBe(true);

        const statuses: RoomStatusName[] = ["ready", "ready", "occupied", "pending", "terminating", "allocated"];
        for (const [i, status] of statuses.entries()) await storage.createRoom(room(scheduler, `r${i}`, status));
        await storage.createRoom(room(uniqueScheduler(), "elsewhere", "ready"));
        await storage.updateRoom(room(scheduler, "r3", "ready"));
        await storage.deleteRoom(scheduler, "r4");
        expect(await storage.countByStatus(scheduler)).toEqual({
          ...zeroCounts(),
          ready: 3,
          occupied: 1,
          allocated: 1,
        });
      });
    });

    describe("allocateRoom", () => {
      const now = ms(100);
      const request = { now, ttlMs: 60_000 };

      it("turns the first ready room (by id) into allocated, and answers undefined when none is ready", async () => {
        const scheduler = uniqueScheduler();
        await storage.createRoom(room(scheduler, "b", "ready"));
        await storage.createRoom(room(scheduler, "a", "ready"));
        await storage.createRoom(room(scheduler, "0", "occupied"));
        await storage.createRoom({ ...room(scheduler, "00", "ready"), isValidationRoom: true });
        const first = await storage.allocateRoom(scheduler, request);
        expect(first).toMatchObject({ id: "a", status: "allocated", allocatedAt: now });
        expect(await storage.getRoom(scheduler, "a")).toMatchObject({ status: "allocated", allocatedAt: now });
        expect((await storage.allocateRoom(scheduler, request))?.id).toBe("b");
        expect(await storage.allocateRoom(scheduler, request)).toBeUndefined();
        expect(await storage.allocateRoom(uniqueScheduler(), request)).toBeUndefined();
      });

      it("only picks rooms whose metadata matches the selector", async () => {
        const scheduler = uniqueScheduler();
        await storage.createRoom({ ...room(scheduler, "a", "ready"), metadata: { map: "forest", mode: "duel" } });
        await storage.createRoom({ ...room(scheduler, "b", "ready"), metadata: { map: "desert", mode: "duel" } });
        const got = await storage.allocateRoom(scheduler, { ...request, metadataSelector: { map: "desert" } });
        expect(got?.id).toBe("b");
        expect(
          await storage.allocateRoom(scheduler, { ...request, metadataSelector: { map: "moon" } }),
        ).toBeUndefined();
      });

      it("gives the same room again for the same idempotency key within the TTL", async () => {
        const scheduler = uniqueScheduler();
        for (const id of ["a", "b", "c"]) await storage.createRoom(room(scheduler, id, "ready"));
        const once = await storage.allocateRoom(scheduler, { ...request, idempotencyKey: "match-1" });
        const twice = await storage.allocateRoom(scheduler, { ...request, idempotencyKey: "match-1" });
        expect(twice?.id).toBe(once?.id);
        const other = await storage.allocateRoom(scheduler, { ...request, idempotencyKey: "match-2" });
        expect(other?.id).not.toBe(once?.id);
        const later = await storage.allocateRoom(scheduler, {
          ...request,
          now: new Date(now.getTime() + 60_001),
          idempotencyKey: "match-1",
        });
        expect([once?.id, other?.id]).not.toContain(later?.id);
      });

      it("never hands the same room to two concurrent callers", async () => {
        const scheduler = uniqueScheduler();
        for (const id of ["a", "b", "c"]) await storage.createRoom(room(scheduler, id, "ready"));
        const results = await Promise.all(Array.from({ length: 6 }, () => storage.allocateRoom(scheduler, request)));
        const ids = results.filter((r) => r !== undefined).map((r) => r!.id);
        expect(ids.sort()).toEqual(["a", "b", "c"]);
        expect(results.filter((r) => r === undefined)).toHaveLength(3);
      });
    });

    describe("watchRoomStatus", () => {
      it("reports creations and status-changing updates in order, not other updates", async () => {
        const scheduler = uniqueScheduler();
        const watch = await startWatch(storage, scheduler, watches);
        await storage.createRoom(room(scheduler, "r1", "pending"));
        await storage.updateRoom({ ...room(scheduler, "r1", "pending"), metadata: { unchanged: "status" } });
        await storage.updateRoom(room(scheduler, "r1", "ready"));
        await storage.updateRoom({ ...room(scheduler, "r1", "ready"), runningMatches: 0, lastPingAt: ms(77) });
        await storage.updateRoom(room(scheduler, "r1", "occupied"));
        await waitFor(() => watch.events().length >= 3);
        // A last change whose arrival proves nothing else was queued before it.
        await storage.createRoom(room(scheduler, "end", "ready"));
        await waitFor(() => watch.events().some((e) => e.roomId === "end"));
        expect(watch.events()).toEqual([
          { schedulerName: scheduler, roomId: "r1", status: "pending" },
          { schedulerName: scheduler, roomId: "r1", status: "ready" },
          { schedulerName: scheduler, roomId: "r1", status: "occupied" },
          { schedulerName: scheduler, roomId: "end", status: "ready" },
        ]);
      });

      it("delivers every change to every concurrent watcher, and only of its scheduler", async () => {
        const scheduler = uniqueScheduler();
        const other = uniqueScheduler();
        const first = await startWatch(storage, scheduler, watches);
        const second = await startWatch(storage, scheduler, watches);
        const otherWatch = await startWatch(storage, other, watches);
        await storage.createRoom(room(other, "foreign", "ready"));
        await storage.createRoom(room(scheduler, "r1", "ready"));
        await storage.updateRoom(room(scheduler, "r1", "terminating"));
        const expected: RoomStatusEvent[] = [
          { schedulerName: scheduler, roomId: "r1", status: "ready" },
          { schedulerName: scheduler, roomId: "r1", status: "terminating" },
        ];
        await waitFor(() => first.events().length >= 2 && second.events().length >= 2);
        await waitFor(() => otherWatch.events().length >= 1);
        expect(first.events()).toEqual(expected);
        expect(second.events()).toEqual(expected);
        expect(otherWatch.events()).toEqual([{ schedulerName: other, roomId: "foreign", status: "ready" }]);
      });

      it("ends the iteration when the signal aborts", async () => {
        const scheduler = uniqueScheduler();
        const watch = await startWatch(storage, scheduler, watches);
        watch.controller.abort();
        await expect(watch.ended).resolves.toBeUndefined();
        await storage.createRoom(room(scheduler, "after-abort", "ready"));
        expect(watch.events()).toEqual([]);
      });

      it("ends at once when the signal is already aborted", async () => {
        const events: RoomStatusEvent[] = [];
        for await (const event of storage.watchRoomStatus(uniqueScheduler(), { signal: AbortSignal.abort() })) {
          events.push(event);
        }
        expect(events).toEqual([]);
      });
    });

    it("rejects calls with an aborted signal as canceled", async () => {
      const scheduler = uniqueScheduler();
      const signal = AbortSignal.abort();
      await expectCode(storage.createRoom(room(scheduler, "r1"), { signal }), "canceled");
      await expectCode(storage.getRoom(scheduler, "r1", { signal }), "canceled");
      expect(await storage.getRoom(scheduler, "r1")).toBeUndefined();
    });
  });
}
