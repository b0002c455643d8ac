import { beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/ports/clock.js";
import type { LeaseStorage } from "../../src/core/ports/operation-storage.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private epochMs: number) {}

  now(): Date {
    return new Date(this.epochMs);
  }

  advance(ms: number): void {
    this.epochMs += ms;
  }
}

/**
 * The LeaseStorage contract, for every adapter (memory, Redis). The factory gets the clock the adapter must use for
 * expiry; it is called once per suite and tests use scheduler names of their own. Expiries keep millisecond precision.
 */
export function leaseStorageContract(name: string, factory: (clock: Clock) => LeaseStorage | Promise<LeaseStorage>) {
  describe(`LeaseStorage contract: ${name}`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 4, 10, 0, 0, 250));
    let storage: LeaseStorage;

    beforeAll(async () => {
      storage = await factory(clock);
    });

    it("grants a lease expiring ttl after now and reports it", async () => {
      const scheduler = uniqueScheduler();
      const expected = new Date(clock.now().getTime() + 30_000);
      expect(await storage.grantLease(scheduler, "op-1", 30_000)).toEqual(expected);
      expect(await storage.getLease(scheduler, "op-1")).toEqual(expected);
    });

    it("throws already_exists when the lease is held, and keeps the first ttl", async () => {
      const scheduler = uniqueScheduler();
      const first = await storage.grantLease(scheduler, "op-1", 10_000);
      await expectCode(storage.grantLease(scheduler, "op-1", 60_000), "already_exists");
      expect(await storage.getLease(scheduler, "op-1")).toEqual(first);
    });

    it("returns undefined for an operation without a lease", async () => {
      const scheduler = uniqueScheduler();
      await storage.grantLease(scheduler, "op-1", 10_000);
      expect(await storage.getLease(scheduler, "op-2")).toBeUndefined();
      expect(await storage.getLease(uniqueScheduler(), "op-1")).toBeUndefined();
    });

    it("keeps leases of different operations and schedulers apart", async () => {
      const scheduler = uniqueScheduler();
      const other = uniqueScheduler();
      const a = await storage.grantLease(scheduler, "op-1", 1_000);
      const b = await storage.grantLease(scheduler, "op-2", 2_000);
      const c = await storage.grantLease(other, "op-1", 3_000);
      expect(await storage.getLease(scheduler, "op-1")).toEqual(a);
      expect(await storage.getLease(scheduler, "op-2")).toEqual(b);
      expect(await storage.getLease(other, "op-1")).toEqual(c);
    });

    it("renew moves the expiry to ttl after now", async () => {
      const scheduler = uniqueScheduler();
      await storage.grantLease(scheduler, "op-1", 10_000);
      clock.advance(4_000);
      const expected = new Date(clock.now().getTime() + 10_000);
      expect(await storage.renewLease(scheduler, "op-1", 10_000)).toEqual(expected);
      expect(await storage.getLease(scheduler, "op-1")).toEqual(expected);
      // Past the first expiry the renewed lease still holds.
      clock.advance(7_000);
      expect(await storage.getLease(scheduler, "op-1")).toEqual(expected);
      await expectCode(storage.grantLease(scheduler, "op-1", 1_000), "already_exists");
    });

    it("throws not_found when renewing a lease that is not held", async () => {
      const scheduler = uniqueScheduler();
      await expectCode(storage.renewLease(scheduler, "op-1", 10_000), "not_found");
      expect(await storage.getLease(scheduler, "op-1")).toBeUndefined();
      await storage.grantLease(scheduler, "op-2", 1_000);
      clock.advance(1_000);
      await expectCode(storage.renewLease(scheduler, "op-2", 10_000), "not_found");
      expect(await storage.getLease(scheduler, "op-2")).toBeUndefined();
    });

    it("treats an expired lease as absent: it can be granted again", async () => {
      const scheduler = uniqueScheduler();
      const granted = await storage.grantLease(scheduler, "op-1", 5_000);
      clock.advance(4_999);
      expect(await storage.getLease(scheduler, "op-1")).toEqual(granted);
      clock.advance(1);
      expect(await storage.getLease(scheduler, "op-1")).toBeUndefined();
      const regranted = await storage.grantLease(scheduler, "op-1", 5_000);
      expect(regranted).toEqual(new Date(clock.now().getTime() + 5_000));
      expect(await storage.getLease(scheduler, "op-1")).toEqual(regranted);
    });

    it("revoke removes the lease so it can be granted again; revoking twice is fine", async () => {
      const scheduler = uniqueScheduler();
      await storage.grantLease(scheduler, "op-1", 60_000);
      await storage.grantLease(scheduler, "op-2", 60_000);
      await storage.revokeLease(scheduler, "op-1");
      expect(await storage.getLease(scheduler, "op-1")).toBeUndefined();
      expect(await storage.getLease(scheduler, "op-2")).toBeDefined();
      await storage.revokeLease(scheduler, "op-1");
      await storage.revokeLease(scheduler, "never-leased");
      await storage.grantLease(scheduler, "op-1", 60_000);
    });

    it("rejects calls with an aborted signal as canceled", async () => {
      const scheduler = uniqueScheduler();
      await expectCode(storage.grantLease(scheduler, "op-1", 1_000, { signal: AbortSignal.abort() }), "canceled");
      expect(await storage.getLease(scheduler, "op-1")).toBeUndefined();
    });
  });
}
