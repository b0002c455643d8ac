import { beforeAll, describe, expect, it } from "vitest";
import type { SchedulerOwnership } from "../../src/core/ports/scheduler-ownership.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";
import { waitFor } from "../support/core-harness.js";

/** Short enough to watch a claim expire quickly. */
const shortTtl = 200;
/** For a claim that must still be held by the next call even on a loaded machine, yet expire within the test. */
const renewableTtl = 1_000;
const longTtl = 60_000;

/**
 * The SchedulerOwnership contract, for every adapter (memory, Redis). Claims expire in real time (Redis expires keys
 * on its own clock), so expiry is observed by polling until a claim is free, never by sleeping. To show a claim outlived
 * its first ttl, a witness claim taken with the same short ttl just after it is watched until it expires.
 */
export function schedulerOwnershipContract(
  name: string,
  factory: () => SchedulerOwnership | Promise<SchedulerOwnership>,
) {
  describe(`SchedulerOwnership contract: ${name}`, () => {
    let ownership: SchedulerOwnership;

    beforeAll(async () => {
      ownership = await factory();
    });

    /** Resolves once `schedulerName` has no holder, i.e. its claim expired. */
    function untilFree(schedulerName: string): Promise<true> {
      return waitFor(async () => (await ownership.holder(schedulerName)) === undefined, `${schedulerName} to expire`);
    }

    /** Resolves once at least `renewableTtl` ms have passed since it was called, as the adapter's expiry sees it. */
    async function renewableTtlElapsed(): Promise<void> {
      const witness = uniqueScheduler();
      expect(await ownership.acquire(witness, "witness", renewableTtl)).toBe(true);
      await untilFree(witness);
    }

    it("has no holder for an unclaimed scheduler", async () => {
      expect(await ownership.holder(uniqueScheduler())).toBeUndefined();
    });

    it("gives the claim to the first owner and refuses others while it is held", async () => {
      const scheduler = uniqueScheduler();
      expect(await ownership.acquire(scheduler, "a", longTtl)).toBe(true);
      expect(await ownership.holder(scheduler)).toBe("a");
      expect(await ownership.acquire(scheduler, "b", longTtl)).toBe(false);
      expect(await ownership.holder(scheduler)).toBe("a");
    });

    it("keeps claims of different schedulers apart", async () => {
      const first = uniqueScheduler();
      const second = uniqueScheduler();
      expect(await ownership.acquire(first, "a", longTtl)).toBe(true);
      expect(await ownership.acquire(second, "b", longTtl)).toBe(true);
      expect(await ownership.holder(first)).toBe("a");
      expect(await ownership.holder(second)).toBe("b");
    });

    it("extends the claim when its holder acquires it again", async () => {
      const scheduler = uniqueScheduler();
      expect(await ownership.acquire(scheduler, "a", renewableTtl)).toBe(true);
      expect(await ownership.acquire(scheduler, "a", longTtl)).toBe(true);
      await renewableTtlElapsed();
      expect(await ownership.holder(scheduler)).toBe("a");
      expect(await ownership.acquire(scheduler, "b", longTtl)).toBe(false);
    });

    it("renews for the holder only", async () => {
      const scheduler = uniqueScheduler();
      expect(await ownership.acquire(scheduler, "a", renewableTtl)).toBe(true);
      expect(await ownership.renew(scheduler, "b", longTtl)).toBe(false);
      expect(await ownership.renew(scheduler, "a", longTtl)).toBe(true);
      await renewableTtlElapsed();
      expect(await ownership.holder(scheduler)).toBe("a");
      expect(await ownership.renew(uniqueScheduler(), "a", longTtl)).toBe(false);
    });

    it("renewing does not take a free claim", async () => {
      const scheduler = uniqueScheduler();
      expect(await ownership.renew(scheduler, "a", longTtl)).toBe(false);
      expect(await ownership.holder(scheduler)).toBeUndefined();
    });

    it("ignores a release by someone who does not hold the claim", async () => {
      const scheduler = uniqueScheduler();
      expect(await ownership.acquire(scheduler, "a", longTtl)).toBe(true);
      await ownership.release(scheduler, "b");
      expect(await ownership.holder(scheduler)).toBe("a");
      expect(await ownership.acquire(scheduler, "b", longTtl)).toBe(false);
      await ownership.release(uniqueScheduler(), "a");
    });

    it("release frees the claim for another owner, and the old holder can no longer renew", async () => {
      const scheduler = uniqueScheduler();
      expect(await ownership.acquire(scheduler, "a", longTtl)).toBe(true);
      await ownership.release(scheduler, "a");
      expect(await ownership.holder(scheduler)).toBeUndefined();
      expect(await ownership.renew(scheduler, "a", longTtl)).toBe(false);
      expect(await ownership.acquire(scheduler, "b", longTtl)).toBe(true);
      expect(await ownership.holder(scheduler)).toBe("b");
      // Releasing twice is harmless and does not touch the new holder.
      await ownership.release(scheduler, "a");
      expect(await ownership.holder(scheduler)).toBe("b");
    });

    it("lets another owner take an expired claim; the old holder then cannot renew, retake or release it", async () => {
      const scheduler = uniqueScheduler();
      expect(await ownership.acquire(scheduler, "a", shortTtl)).toBe(true);
      await untilFree(scheduler);
      expect(await ownership.acquire(scheduler, "b", longTtl)).toBe(true);
      expect(await ownership.renew(scheduler, "a", longTtl)).toBe(false);
      expect(await ownership.acquire(scheduler, "a", longTtl)).toBe(false);
      await ownership.release(scheduler, "a");
      expect(await ownership.holder(scheduler)).toBe("b");
    });

    it("lets the old holder acquire its expired claim again when nobody took it", async () => {
      const scheduler = uniqueScheduler();
      expect(await ownership.acquire(scheduler, "a", shortTtl)).toBe(true);
      await untilFree(scheduler);
      expect(await ownership.renew(scheduler, "a", longTtl)).toBe(false);
      expect(await ownership.acquire(scheduler, "a", longTtl)).toBe(true);
      expect(await ownership.holder(scheduler)).toBe("a");
    });

    it("gives the claim to exactly one of several concurrent owners", async () => {
      for (let round = 0; round < 5; round++) {
        const scheduler = uniqueScheduler();
        const owners = ["o1", "o2", "o3", "o4", "o5"];
        const results = await Promise.all(owners.map((owner) => ownership.acquire(scheduler, owner, longTtl)));
        const winners = owners.filter((_, i) => results[i]);
        expect(winners).toHaveLength(1);
        expect(await ownership.holder(scheduler)).toBe(winners[0]);
      }
    });

    it("rejects a ttl that is not a positive number as invalid_argument", async () => {
      const scheduler = uniqueScheduler();
      await expectCode(ownership.acquire(scheduler, "a", 0), "invalid_argument");
      await expectCode(ownership.acquire(scheduler, "a", -5), "invalid_argument");
      await expectCode(ownership.acquire(scheduler, "a", Number.NaN), "invalid_argument");
      expect(await ownership.holder(scheduler)).toBeUndefined();
      expect(await ownership.acquire(scheduler, "a", longTtl)).toBe(true);
      await expectCode(ownership.renew(scheduler, "a", 0), "invalid_argument");
      expect(await ownership.holder(scheduler)).toBe("a");
    });

    it("rejects calls with an aborted signal as canceled", async () => {
      const scheduler = uniqueScheduler();
      const signal = AbortSignal.abort();
      await expectCode(ownership.acquire(scheduler, "a", longTtl, { signal }), "canceled");
      expect(await ownership.holder(scheduler)).toBeUndefined();
      expect(await ownership.acquire(scheduler, "a", longTtl)).toBe(true);
      await expectCode(ownership.release(scheduler, "a", { signal }), "canceled");
      expect(await ownership.holder(scheduler)).toBe("a");
      await expectCode(ownership.renew(scheduler, "a", longTtl, { signal }), "canceled");
      await expectCode(ownership.holder(scheduler, { signal }), "canceled");
    });
  });
}
