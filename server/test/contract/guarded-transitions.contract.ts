import { describe, expect, it } from "vitest";
import type { GameRoom } from "../../src/core/entities/game-room.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";
import { ms, type RoomStores, room } from "./room-storage-helpers.js";

const ctx = { now: ms(100), maxMatches: 1, allocationTtlMs: 60_000 };
const ready = (scheduler: string, id: string, extra: Partial<GameRoom> = {}): GameRoom => ({
  ...room(scheduler, id, "ready"),
  pingStatus: "ready",
  ...extra,
});
const ping = { status: "ready" as const, runningMatches: 0, now: ms(100), maxMatches: 1, allocationTtlMs: 60_000 };

/** Revisions, compare-and-set, atomic instance updates, guarded removal claims and the allocation indexes. */
export function guardedTransitionsContract(stores: () => RoomStores) {
  describe("revisions", () => {
    it("start at 1 and grow by one on every write", async () => {
      const { rooms, instances } = stores();
      const s = uniqueScheduler();
      await rooms.createRoom(ready(s, "r1"));
      await instances.upsertInstance({ id: "r1", schedulerName: s, status: { type: "ready", description: "" } });
      expect((await rooms.getRoom(s, "r1"))?.revision).toBe(1);
      expect((await rooms.applyPing(s, "r1", ping)).revision).toBe(2);
      expect((await rooms.allocateRoom(s, { now: ms(100), ttlMs: 60_000 }))?.revision).toBe(3);
      await instances.upsertInstance({ id: "r1", schedulerName: s, status: { type: "error", description: "" } });
      expect((await rooms.applyInstanceStatus(s, "r1", ctx))?.revision).toBe(4);
      const claim = await rooms.claimForRemoval(s, "r1", { kind: "any" });
      expect(claim).toMatchObject({ outcome: "claimed", room: { revision: 5 } });
    });

    it("updateRoom with a revision replaces only the room it was computed from", async () => {
      const { rooms, instances } = stores();
      const s = uniqueScheduler();
      await rooms.createRoom(ready(s, "r1"));
      await instances.upsertInstance({ id: "r1", schedulerName: s, status: { type: "ready", description: "" } });
      const read = (await rooms.getRoom(s, "r1")) as GameRoom;
      await rooms.applyPing(s, "r1", { ...ping, metadata: { map: "moon" } });
      await expectCode(rooms.updateRoom({ ...read, status: "unready" }), "conflict");
      const now = (await rooms.getRoom(s, "r1")) as GameRoom;
      expect(now).toMatchObject({ metadata: { map: "moon" }, revision: 2 });
      await rooms.updateRoom({ ...now, status: "unready" });
      expect(await rooms.getRoom(s, "r1")).toMatchObject({ status: "unready", revision: 3 });
    });
  });

  describe("applyInstanceStatus", () => {
    it("recomputes the status from the stored room and instance, keeping an allocation it did not see", async () => {
      const { rooms, instances } = stores();
      const s = uniqueScheduler();
      await rooms.createRoom(ready(s, "r1"));
      await instances.upsertInstance({ id: "r1", schedulerName: s, status: { type: "ready", description: "" } });
      await rooms.allocateRoom(s, { now: ms(100), ttlMs: 60_000 });
      // The instance is still ready: an event for it must not turn the allocated room back to ready.
      expect(await rooms.applyInstanceStatus(s, "r1", ctx)).toMatchObject({ status: "allocated", revision: 2 });
      await instances.upsertInstance({ id: "r1", schedulerName: s, status: { type: "terminating", description: "" } });
      expect(await rooms.applyInstanceStatus(s, "r1", ctx)).toMatchObject({ status: "terminating", revision: 3 });
      expect(await rooms.allocateRoom(s, { now: ms(100), ttlMs: 60_000 })).toBeUndefined();
      expect(await rooms.applyInstanceStatus(s, "ghost", ctx)).toBeUndefined();
      expect(await rooms.getRoom(s, "ghost")).toBeUndefined();
    });

    it("puts a room that became ready into allocation, and takes a failed one out", async () => {
      const { rooms, instances } = stores();
      const s = uniqueScheduler();
      await rooms.createRoom({ ...room(s, "r1", "pending"), pingStatus: "ready" });
      expect(await rooms.allocateRoom(s, { now: ms(100), ttlMs: 60_000 })).toBeUndefined();
      await instances.upsertInstance({ id: "r1", schedulerName: s, status: { type: "ready", description: "" } });
      expect(await rooms.applyInstanceStatus(s, "r1", ctx)).toMatchObject({ status: "ready" });
      await instances.upsertInstance({ id: "r1", schedulerName: s, status: { type: "error", description: "" } });
      expect(await rooms.applyInstanceStatus(s, "r1", ctx)).toMatchObject({ status: "error" });
      expect(await rooms.allocateRoom(s, { now: ms(100), ttlMs: 60_000 })).toBeUndefined();
    });
  });

  describe("claimForRemoval", () => {
    it("with the idle guard refuses rooms in a match or allocated within the TTL, writing nothing", async () => {
      const { rooms } = stores();
      const s = uniqueScheduler();
      await rooms.createRoom(room(s, "allocated", "allocated"));
      await rooms.createRoom({ ...room(s, "active", "active"), runningMatches: 1 });
      await rooms.createRoom({ ...room(s, "occupied", "occupied"), runningMatches: 1 });
      await rooms.createRoom({ ...ready(s, "recent"), allocatedAt: ms(90) });
      const guard = { kind: "idle" as const, now: ms(100), allocationTtlMs: 60_000 };
      for (const id of ["allocated", "active", "occupied", "recent"]) {
        const claim = await rooms.claimForRemoval(s, id, guard);
        expect(claim.outcome, id).toBe("refused");
        expect((await rooms.getRoom(s, id))?.revision, id).toBe(1);
      }
      expect((await rooms.claimForRemoval(s, "recent", { ...guard, now: ms(60_091) })).outcome).toBe("claimed");
      expect(await rooms.claimForRemoval(s, "ghost", guard)).toEqual({ outcome: "not_found" });
    });

    it("takes a claimed room out of allocation for good: pings keep it terminating", async () => {
      const { rooms, instances } = stores();
      const s = uniqueScheduler();
      await rooms.createRoom(ready(s, "r1"));
      await instances.upsertInstance({ id: "r1", schedulerName: s, status: { type: "ready", description: "" } });
      const guard = { kind: "idle" as const, now: ms(100), allocationTtlMs: 60_000 };
      expect(await rooms.claimForRemoval(s, "r1", guard)).toMatchObject({
        outcome: "claimed",
        room: { status: "terminating", removing: true },
      });
      expect(await rooms.allocateRoom(s, { now: ms(100), ttlMs: 60_000 })).toBeUndefined();
      expect(await rooms.applyPing(s, "r1", ping)).toMatchObject({ status: "terminating", pingStatus: "ready" });
      expect(await rooms.applyInstanceStatus(s, "r1", ctx)).toMatchObject({ status: "terminating" });
      expect(await rooms.allocateRoom(s, { now: ms(100), ttlMs: 60_000 })).toBeUndefined();
      expect(await rooms.applyPing(s, "r1", { ...ping, status: "terminated" })).toMatchObject({
        status: "terminated",
      });
    });

    it("with allocatedBefore refuses a room allocated since it was judged, and any takes a room in a match", async () => {
      const { rooms } = stores();
      const s = uniqueScheduler();
      await rooms.createRoom(ready(s, "r1"));
      const judged = ms(100);
      await rooms.allocateRoom(s, { now: ms(150), ttlMs: 60_000 });
      expect((await rooms.claimForRemoval(s, "r1", { kind: "allocatedBefore", since: judged })).outcome).toBe(
        "refused",
      );
      expect((await rooms.claimForRemoval(s, "r1", { kind: "allocatedBefore", since: ms(151) })).outcome).toBe(
        "claimed",
      );
      await rooms.createRoom({ ...room(s, "r2", "occupied"), runningMatches: 1 });
      expect(await rooms.claimForRemoval(s, "r2", { kind: "any" })).toMatchObject({
        outcome: "claimed",
        room: { status: "terminating" },
      });
    });

    it("and allocation exclude each other under concurrency", async () => {
      const { rooms } = stores();
      const s = uniqueScheduler();
      const ids = Array.from({ length: 20 }, (_, i) => `r${String(i).padStart(2, "0")}`);
      for (const id of ids) await rooms.createRoom(ready(s, id));
      const guard = { kind: "idle" as const, now: ms(100), allocationTtlMs: 60_000 };
      const [allocations, claims] = await Promise.all([
        Promise.all(ids.map(() => rooms.allocateRoom(s, { now: ms(100), ttlMs: 60_000 }))),
        Promise.all(ids.map((id) => rooms.claimForRemoval(s, id, guard))),
      ]);
      const allocated = allocations.filter((r) => r !== undefined).map((r) => r.id);
      const claimed = ids.filter((_, i) => claims[i]?.outcome === "claimed");
      expect(new Set(allocated).size).toBe(allocated.length);
      expect(allocated.filter((id) => claimed.includes(id))).toEqual([]);
      expect([...allocated, ...claimed].sort()).toEqual(ids);
    });
  });

  describe("allocation indexes", () => {
    it("select by scalar metadata as String() prints it, on every pair, and follow metadata changes", async () => {
      const { rooms, instances } = stores();
      const s = uniqueScheduler();
      await rooms.createRoom(ready(s, "a", { metadata: { level: 3, ranked: true, map: "moon", deep: { x: 1 } } }));
      await rooms.createRoom(ready(s, "b", { metadata: { level: 3, ranked: false, map: "moon" } }));
      await instances.upsertInstance({ id: "a", schedulerName: s, status: { type: "ready", description: "" } });
      const req = { now: ms(100), ttlMs: 60_000 };
      expect(await rooms.allocateRoom(s, { ...req, metadataSelector: { deep: "[object Object]" } })).toBeUndefined();
      expect(await rooms.allocateRoom(s, { ...req, metadataSelector: { level: "3", ranked: "nope" } })).toBeUndefined();
      await rooms.applyPing(s, "a", { ...ping, metadata: { level: 4, ranked: true } });
      expect(await rooms.allocateRoom(s, { ...req, metadataSelector: { level: "3", ranked: "true" } })).toBeUndefined();
      const got = await rooms.allocateRoom(s, { ...req, metadataSelector: { level: "4", ranked: "true" } });
      expect(got?.id).toBe("a");
      expect((await rooms.allocateRoom(s, { ...req, metadataSelector: { map: "moon" } }))?.id).toBe("b");
    });

    it("forget deleted and replaced rooms", async () => {
      const { rooms } = stores();
      const s = uniqueScheduler();
      await rooms.createRoom(ready(s, "a", { metadata: { map: "moon" } }));
      await rooms.createRoom(ready(s, "b", { metadata: { map: "moon" } }));
      await rooms.deleteRoom(s, "a");
      const b = (await rooms.getRoom(s, "b")) as GameRoom;
      await rooms.updateRoom({ ...b, status: "unready" });
      const req = { now: ms(100), ttlMs: 60_000 };
      expect(await rooms.allocateRoom(s, req)).toBeUndefined();
      expect(await rooms.allocateRoom(s, { ...req, metadataSelector: { map: "moon" } })).toBeUndefined();
      await rooms.updateRoom({ ...b, revision: undefined, metadata: { map: "sun" } });
      expect(await rooms.allocateRoom(s, { ...req, metadataSelector: { map: "moon" } })).toBeUndefined();
      expect((await rooms.allocateRoom(s, { ...req, metadataSelector: { map: "sun" } }))?.id).toBe("b");
    });
  });
}
