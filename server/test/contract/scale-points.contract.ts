import { beforeAll, describe, expect, it } from "vitest";
import type { ScalePointStorage } from "../../src/core/ports/scale-points.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";

const t0 = Date.UTC(2026, 0, 4, 10, 0, 0, 250);
const at = (seconds: number) => new Date(t0 + seconds * 1000);

/** The ScalePointStorage contract (metricsTriggers point history), for every adapter (memory, Redis). */
export function scalePointsContract(name: string, factory: () => ScalePointStorage | Promise<ScalePointStorage>) {
  describe(`ScalePointStorage contract: ${name}`, () => {
    let storage: ScalePointStorage;

    beforeAll(async () => {
      storage = await factory();
    });

    it("returns the newest points first, with their value and time, and only as many as asked", async () => {
      const s = uniqueScheduler();
      for (const [i, v] of [0.1, 0.25, 0.875].entries()) {
        expect(await storage.addPoint(s, "room", { value: v, at: at(i * 10) }, 10, 0)).toBe(true);
      }
      expect(await storage.points(s, "room", 10)).toEqual([
        { value: 0.875, at: at(20) },
        { value: 0.25, at: at(10) },
        { value: 0.1, at: at(0) },
      ]);
      expect((await storage.points(s, "room", 2)).map((p) => p.value)).toEqual([0.875, 0.25]);
      expect(await storage.points(s, "room", 0)).toEqual([]);
    });

    it("keeps only the newest `keep` points", async () => {
      const s = uniqueScheduler();
      for (let i = 0; i < 8; i++) await storage.addPoint(s, "cpu", { value: i / 10, at: at(i * 10) }, 3, 0);
      expect((await storage.points(s, "cpu", 100)).map((p) => p.value)).toEqual([0.7, 0.6, 0.5]);
    });

    it("skips a point closer than the minimum gap to the newest one", async () => {
      const s = uniqueScheduler();
      expect(await storage.addPoint(s, "memory", { value: 0.5, at: at(0) }, 10, 5000)).toBe(true);
      expect(await storage.addPoint(s, "memory", { value: 0.9, at: at(4.999) }, 10, 5000)).toBe(false);
      expect(await storage.addPoint(s, "memory", { value: 0.7, at: at(5) }, 10, 5000)).toBe(true);
      expect((await storage.points(s, "memory", 10)).map((p) => p.value)).toEqual([0.7, 0.5]);
    });

    it("keeps one list per scheduler and type", async () => {
      const a = uniqueScheduler();
      const b = uniqueScheduler();
      await storage.addPoint(a, "room", { value: 0.3, at: at(0) }, 10, 0);
      await storage.addPoint(a, "cpu", { value: 1.5, at: at(0) }, 10, 0);
      await storage.addPoint(b, "room", { value: 0.9, at: at(0) }, 10, 0);
      expect((await storage.points(a, "room", 10)).map((p) => p.value)).toEqual([0.3]);
      expect((await storage.points(a, "cpu", 10)).map((p) => p.value)).toEqual([1.5]);
      expect((await storage.points(b, "room", 10)).map((p) => p.value)).toEqual([0.9]);
      expect(await storage.points(b, "memory", 10)).toEqual([]);
    });

    it("remembers the last scale time per scheduler", async () => {
      const s = uniqueScheduler();
      expect(await storage.lastScaleAt(s)).toBeUndefined();
      await storage.setLastScaleAt(s, at(30));
      await storage.setLastScaleAt(s, at(90));
      expect(await storage.lastScaleAt(s)).toEqual(at(90));
      expect(await storage.lastScaleAt(uniqueScheduler())).toBeUndefined();
    });

    it("forgets a deleted scheduler's points and last scale, and no other's", async () => {
      const s = uniqueScheduler();
      const other = uniqueScheduler();
      for (const name of [s, other]) {
        await storage.addPoint(name, "room", { value: 0.5, at: at(0) }, 10, 0);
        await storage.addPoint(name, "memory", { value: 0.5, at: at(0) }, 10, 0);
        await storage.setLastScaleAt(name, at(0));
      }
      await storage.deleteScheduler(s);
      expect(await storage.points(s, "room", 10)).toEqual([]);
      expect(await storage.points(s, "memory", 10)).toEqual([]);
      expect(await storage.lastScaleAt(s)).toBeUndefined();
      expect(await storage.points(other, "room", 10)).toHaveLength(1);
      expect(await storage.lastScaleAt(other)).toEqual(at(0));
    });

    it("rejects a call whose signal is already aborted", async () => {
      const signal = AbortSignal.abort();
      await expectCode(storage.points(uniqueScheduler(), "room", 10, { signal }), "canceled");
    });
  });
}
