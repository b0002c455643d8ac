import { beforeAll, describe, expect, it } from "vitest";
import type { CrashedRoomLogs } from "../../src/core/ports/crashed-room-logs.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";

const t0 = Date.UTC(2026, 0, 4, 10, 0, 0);
const at = (seconds: number) => new Date(t0 + seconds * 1000);

/** The CrashedRoomLogs contract (tails of the last crashed rooms), for every adapter (memory, Redis). */
export function crashedRoomLogsContract(name: string, factory: () => CrashedRoomLogs | Promise<CrashedRoomLogs>) {
  describe(`CrashedRoomLogs contract: ${name}`, () => {
    let logs: CrashedRoomLogs;

    beforeAll(async () => {
      logs = await factory();
    });

    it("gives back a kept tail as it was, and nothing for a room never kept", async () => {
      const s = uniqueScheduler();
      const tail = "booting\nError: Cannot find module '/srv/gmae.js'\n  ✗ ünïcode\n";
      await logs.keep(s, "room-a", tail, at(0), 5);
      expect(await logs.get(s, "room-a")).toBe(tail);
      expect(await logs.get(s, "room-b")).toBeUndefined();
      expect(await logs.get(uniqueScheduler(), "room-a")).toBeUndefined();
      await logs.keep(s, "room-empty", "", at(1), 5);
      expect(await logs.get(s, "room-empty")).toBe("");
    });

    it("keeps only the newest `keepLast` of a scheduler, whatever order they arrive in", async () => {
      const s = uniqueScheduler();
      const other = uniqueScheduler();
      await logs.keep(other, "r0", "other scheduler", at(0), 2);
      for (const i of [3, 0, 4, 1, 2]) await logs.keep(s, `r${i}`, `log ${i}`, at(i), 3);
      const kept = await Promise.all([0, 1, 2, 3, 4].map((i) => logs.get(s, `r${i}`)));
      expect(kept).toEqual([undefined, undefined, "log 2", "log 3", "log 4"]);
      // Another scheduler's tails are counted on their own.
      expect(await logs.get(other, "r0")).toBe("other scheduler");
    });

    it("keeping a room again replaces its tail and counts it once", async () => {
      const s = uniqueScheduler();
      await logs.keep(s, "a", "first", at(0), 2);
      await logs.keep(s, "b", "b", at(1), 2);
      await logs.keep(s, "a", "second", at(2), 2);
      expect(await logs.get(s, "a")).toBe("second");
      expect(await logs.get(s, "b")).toBe("b");
      await logs.keep(s, "c", "c", at(3), 2);
      expect([await logs.get(s, "a"), await logs.get(s, "b"), await logs.get(s, "c")]).toEqual([
        "second",
        undefined,
        "c",
      ]);
    });

    it("forgets every tail of a deleted scheduler and no other's", async () => {
      const s = uniqueScheduler();
      const other = uniqueScheduler();
      await logs.keep(s, "a", "a", at(0), 5);
      await logs.keep(other, "a", "kept", at(0), 5);
      await logs.deleteScheduler(s);
      expect(await logs.get(s, "a")).toBeUndefined();
      expect(await logs.get(other, "a")).toBe("kept");
      await logs.deleteScheduler(uniqueScheduler());
    });

    it("rejects calls whose signal is already aborted", async () => {
      const signal = AbortSignal.abort(new Error("stop"));
      const s = uniqueScheduler();
      await expectCode(logs.keep(s, "a", "a", at(0), 5, { signal }), "canceled");
      await expectCode(logs.get(s, "a", { signal }), "canceled");
      await expectCode(logs.deleteScheduler(s, { signal }), "canceled");
      expect(await logs.get(s, "a")).toBeUndefined();
    });
  });
}
