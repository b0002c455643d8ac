import { isDeepStrictEqual } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import {
  type GameRoom,
  type InstanceStatusType,
  instanceStatuses,
  type RoomStatusName,
  roomStatusNames,
} from "../../src/core/entities/game-room.js";
import { applyPingToRoom, type PingUpdate } from "../../src/core/entities/room-ping.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";
import { ms, type RoomStores, room, startWatch, waitFor } from "./room-storage-helpers.js";

const pingStatusesSent: PingUpdate["status"][] = ["ready", "occupied", "terminating", "terminated"];
/** maxMatches × runningMatches cases: single match, and a 3-match room empty, partly used and full. */
const matchCases = [
  [1, 0],
  [3, 0],
  [3, 1],
  [3, 3],
] as const;
/** Allocation TTLs relative to `allocatedAt` = ms(50) and now = ms(100): still held, and expired. */
const ttls = [60_000, 10_000];

/**
 * RoomStorage.applyPing: every adapter must compose exactly what `applyPingToRoom` (the TypeScript table) does, for
 * every stored status × ping × instance status × match count, and refuse exactly the transitions it refuses. The Redis
 * adapter does it in Lua, so this table is what keeps the two in step.
 */
export function applyPingContract(stores: () => RoomStores) {
  describe("applyPing", () => {
    const watches: AbortController[] = [];
    afterEach(() => {
      for (const controller of watches.splice(0)) controller.abort();
    });

    it("composes the status like applyPingToRoom for the whole table (applyPing and recordPing), writing nothing when refused", async () => {
      const { rooms, instances } = stores();
      const scheduler = uniqueScheduler();
      const instanceCases: (InstanceStatusType | undefined)[] = [undefined, ...instanceStatuses];
      const cases = roomStatusNames.flatMap((from) =>
        pingStatusesSent.flatMap((status) =>
          instanceCases.flatMap((instance) =>
            matchCases.flatMap(([maxMatches, runningMatches]) =>
              ttls.flatMap((allocationTtlMs) =>
                // Rooms allocated earlier (allocatedAt set) in any status, and rooms never allocated.
                [true, false]
                  .filter((allocated) => allocated || from !== "allocated")
                  .flatMap((allocated) =>
                    // recordPing must write exactly what applyPing writes; it answers only the status.
                    [false, true].map((statusOnly) => ({
                      from,
                      status,
                      instance,
                      maxMatches,
                      runningMatches,
                      allocationTtlMs,
                      allocated,
                      statusOnly,
                    })),
                  ),
              ),
            ),
          ),
        ),
      );
      const mismatches: unknown[] = [];
      let refused = 0;
      // Batches keep a few hundred commands in flight without queueing thousands on one connection.
      for (let start = 0; start < cases.length; start += 100) {
        await Promise.all(
          cases.slice(start, start + 100).map(async (c, i) => {
            const id = `r${start + i}`;
            const stored: GameRoom = {
              ...room(scheduler, id, c.from),
              pingStatus: "ready",
              metadata: { before: true },
              runningMatches: 1,
              allocatedAt: c.allocated ? ms(50) : undefined,
              occupiedAt: c.from === "occupied" ? ms(60) : undefined,
            };
            await rooms.createRoom(stored);
            if (c.instance) {
              await instances.upsertInstance({
                id,
                schedulerName: scheduler,
                status: { type: c.instance, description: "" },
              });
            }
            const ping: PingUpdate = {
              status: c.status,
              runningMatches: c.runningMatches,
              metadata: { after: c.status },
              now: ms(100),
              maxMatches: c.maxMatches,
              allocationTtlMs: c.allocationTtlMs,
            };
            const expected = applyPingToRoom(stored, c.instance ?? "unknown", ping);
            const got = await (c.statusOnly
              ? rooms.recordPing(scheduler, id, ping).then((status) => ({ status, room: undefined }))
              : rooms.applyPing(scheduler, id, ping).then((r) => ({ status: r.status, room: r }))
            ).then(
              (r) => ({ ok: true as const, ...r }),
              (e: unknown) => ({ ok: false as const, error: e as { code?: string } }),
            );
            const after = await rooms.getRoom(scheduler, id);
            if (expected.ok) {
              if (
                !got.ok ||
                got.status !== expected.room.status ||
                (got.room !== undefined && !equalRooms(got.room, expected.room)) ||
                !equalRooms(after, expected.room) ||
                after?.revision !== 2
              ) {
                mismatches.push({ case: c, expected: expected.room.status, got, after: after?.status });
              }
            } else {
              refused += 1;
              if (
                got.ok ||
                got.error.code !== "failed_precondition" ||
                !equalRooms(after, stored) ||
                after?.revision !== 1
              ) {
                mismatches.push({ case: c, expected: `refused ${expected.from}→${expected.to}`, got });
              }
            }
          }),
        );
      }
      expect(mismatches).toEqual([]);
      // The table must exercise both outcomes, or it proves little.
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThan(cases.length);
    });

    it("keeps a multi-match allocation's slot through pings reporting fewer matches until the TTL passes", async () => {
      const { rooms, instances } = stores();
      const scheduler = uniqueScheduler();
      await rooms.createRoom(room(scheduler, "r1", "ready"));
      await instances.upsertInstance(readyInstance(scheduler, "r1"));
      const multi = { maxMatches: 3, allocationTtlMs: 60_000 };
      const taken = await rooms.allocateRoom(scheduler, { now: ms(10), ttlMs: 60_000, maxMatches: 3 });
      expect(taken).toMatchObject({ id: "r1", status: "allocated", runningMatches: 1 });
      const early = await rooms.applyPing(scheduler, "r1", { ...ping("ready"), ...multi, now: ms(20) });
      expect(early).toMatchObject({ status: "allocated", runningMatches: 1 });
      const started = await rooms.applyPing(scheduler, "r1", {
        ...ping("occupied"),
        ...multi,
        runningMatches: 2,
        now: ms(30),
      });
      expect(started).toMatchObject({ status: "active", runningMatches: 2 });
      const fewer = await rooms.applyPing(scheduler, "r1", { ...ping("occupied"), ...multi, now: ms(40) });
      expect(fewer).toMatchObject({ status: "active", runningMatches: 2 });
      const expired = await rooms.applyPing(scheduler, "r1", { ...ping("occupied"), ...multi, now: ms(71) });
      expect(expired).toMatchObject({ status: "active", runningMatches: 1 });
      const single = await rooms.applyPing(scheduler, "r1", { ...ping("ready"), now: ms(72), allocationTtlMs: 1e9 });
      expect(single).toMatchObject({ status: "ready", runningMatches: 0 });
    });

    it("refuses an unknown room without creating anything", async () => {
      const { rooms } = stores();
      const scheduler = uniqueScheduler();
      await expectCode(rooms.applyPing(scheduler, "ghost", ping("ready")), "not_found");
      expect(await rooms.getRoom(scheduler, "ghost")).toBeUndefined();
      expect(await rooms.listRoomIds(scheduler)).toEqual([]);
      expect((await rooms.countByStatus(scheduler)).ready).toBe(0);
    });

    it("writes lastPingAt, running matches and metadata, keeping metadata when the ping has none", async () => {
      const { rooms, instances } = stores();
      const scheduler = uniqueScheduler();
      await rooms.createRoom({ ...room(scheduler, "r1", "pending"), metadata: { map: "forest" } });
      await instances.upsertInstance(readyInstance(scheduler, "r1"));
      const first = await rooms.applyPing(scheduler, "r1", { ...ping("ready"), metadata: undefined, now: ms(10) });
      expect(first).toMatchObject({ status: "ready", pingStatus: "ready", metadata: { map: "forest" } });
      expect(first.lastPingAt).toEqual(ms(10));
      const second = await rooms.applyPing(scheduler, "r1", {
        ...ping("occupied"),
        runningMatches: 2,
        metadata: { map: "desert", players: [1, 2] },
        now: ms(20),
      });
      expect(second).toMatchObject({
        status: "occupied",
        runningMatches: 2,
        metadata: { map: "desert", players: [1, 2] },
      });
      expect(await rooms.getRoom(scheduler, "r1")).toEqual(second);
      expect((await rooms.countByStatus(scheduler)).occupied).toBe(1);
    });

    it("sets occupiedAt on entering occupied, keeps it while occupied and clears it after", async () => {
      const { rooms, instances } = stores();
      const scheduler = uniqueScheduler();
      await rooms.createRoom(room(scheduler, "r1", "ready"));
      await instances.upsertInstance(readyInstance(scheduler, "r1"));
      expect((await rooms.applyPing(scheduler, "r1", { ...ping("occupied"), now: ms(10) })).occupiedAt).toEqual(ms(10));
      expect((await rooms.applyPing(scheduler, "r1", { ...ping("occupied"), now: ms(20) })).occupiedAt).toEqual(ms(10));
      const ready = await rooms.applyPing(scheduler, "r1", { ...ping("ready"), now: ms(30) });
      expect(ready.occupiedAt).toBeUndefined();
      expect((await rooms.getRoom(scheduler, "r1"))?.occupiedAt).toBeUndefined();
    });

    it("publishes status changes only", async () => {
      const { rooms, instances } = stores();
      const scheduler = uniqueScheduler();
      const watch = await startWatch(rooms, scheduler, watches);
      await rooms.createRoom(room(scheduler, "r1", "pending"));
      await instances.upsertInstance(readyInstance(scheduler, "r1"));
      await rooms.applyPing(scheduler, "r1", ping("ready"));
      await rooms.applyPing(scheduler, "r1", ping("ready"));
      await rooms.applyPing(scheduler, "r1", ping("occupied"));
      await rooms.createRoom(room(scheduler, "end", "ready"));
      await waitFor(() => watch.events().some((e) => e.roomId === "end"));
      const statuses: RoomStatusName[] = watch.events().map((e) => e.status);
      expect(statuses).toEqual(["pending", "ready", "occupied", "ready"]);
    });

    it("rejects an aborted call as canceled without writing", async () => {
      const { rooms, instances } = stores();
      const scheduler = uniqueScheduler();
      await rooms.createRoom(room(scheduler, "r1", "pending"));
      await instances.upsertInstance(readyInstance(scheduler, "r1"));
      await expectCode(rooms.applyPing(scheduler, "r1", ping("ready"), { signal: AbortSignal.abort() }), "canceled");
      expect((await rooms.getRoom(scheduler, "r1"))?.status).toBe("pending");
    });
  });
}

function ping(status: PingUpdate["status"]): PingUpdate {
  return { status, runningMatches: status === "occupied" ? 1 : 0, now: ms(5), maxMatches: 1, allocationTtlMs: 60_000 };
}

function readyInstance(schedulerName: string, id: string) {
  return { id, schedulerName, status: { type: "ready" as const, description: "" } };
}

/** Equal as stored rooms: absent and undefined optional fields are the same, key order does not matter. */
/** Equal apart from the revision, which storage keeps (checked on its own). */
function equalRooms(a: GameRoom | undefined, b: GameRoom | undefined): boolean {
  const clean = (r: GameRoom | undefined): unknown =>
    r === undefined ? r : JSON.parse(JSON.stringify({ ...r, revision: undefined }));
  return isDeepStrictEqual(clean(a), clean(b));
}
