import { beforeAll, describe, expect, it } from "vitest";
import type { SchedulerChanges } from "../../src/core/ports/scheduler-changes.js";

/**
 * The SchedulerChanges contract, for every adapter (memory, Redis). The factory gives two handles on one store (two
 * processes on one Redis; the same object in memory).
 */
export function schedulerChangesContract(
  name: string,
  factory: () => Promise<[SchedulerChanges, SchedulerChanges]> | [SchedulerChanges, SchedulerChanges],
) {
  describe(`SchedulerChanges contract: ${name}`, () => {
    let one: SchedulerChanges;
    let other: SchedulerChanges;

    beforeAll(async () => {
      [one, other] = await factory();
    });

    it("keeps the generation while nothing is announced", async () => {
      const g = await one.generation();
      expect(await one.generation()).toBe(g);
      expect(await other.generation()).toBe(g);
    });

    it("moves the generation for every handle once an announcement resolved", async () => {
      const seen = new Set([await one.generation()]);
      for (let i = 0; i < 3; i++) {
        await (i % 2 === 0 ? one : other).announce();
        const g = await other.generation();
        expect(seen.has(g)).toBe(false);
        expect(await one.generation()).toBe(g);
        seen.add(g);
      }
    });

    it("refuses an aborted call", async () => {
      const aborted = AbortSignal.abort();
      await expect(one.generation({ signal: aborted })).rejects.toMatchObject({ code: "canceled" });
    });
  });
}
