import { beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/ports/clock.js";
import type { Lease, LeaseStorage } from "../../src/core/ports/operation-storage.js";
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
 * How a suite sees the adapter's time: the memory adapter follows a manual clock; Redis uses its own TIME, so `now`
 * reads the machine's clock (Redis runs on it) and `advance` waits.
 */
export interface LeaseTime {
  now(): number;
  advance(ms: number): Promise<void>;
}

/** Expiry is ttl after the storage's now, taken somewhere between `before` and the answer. */
function expectExpiry(lease: Lease | Date, before: number, after: number, ttlMs: number) {
  const expiry = lease instanceof Date ? lease.getTime() : lease.expiresAt.getTime();
  expect(expiry).toBeGreaterThanOrEqual(before + ttlMs);
  expect(expiry).toBeLessThanOrEqual(after + ttlMs);
}

/**
 * The LeaseStorage contract, for every adapter (memory, Redis). The factory is called once per suite and tests use
 * scheduler names of their own. Expiry tests use short TTLs so that Redis's real time passes them quickly.
 */
export function leaseStorageContract(
  name: string,
  factory: () => Promise<{ storage: LeaseStorage; time: LeaseTime }> | { storage: LeaseStorage; time: LeaseTime },
) {
  describe(`LeaseStorage contract: ${name}`, () => {
    let storage: LeaseStorage;
    let time: LeaseTime;

    beforeAll(async () => {
      ({ storage, time } = await factory());
    });

    it("grants a lease to its owner with a token, expiring ttl after now, and reports it", async () => {
      const scheduler = uniqueScheduler();
      const before = time.now();
      const lease = await storage.grantLease(scheduler, "op-1", 30_000, { owner: "replica-a" });
      expectExpiry(lease, before, time.now(), 30_000);
      expect(lease).toMatchObject({ operationId: "op-1", owner: "replica-a" });
      expect(lease.token).toBeGreaterThan(0);
      expect(await storage.getLease(scheduler, "op-1")).toEqual(lease);
    });

    it("hands out ever larger tokens within a scheduler, also to a re-granted lease", async () => {
      const scheduler = uniqueScheduler();
      const a = await storage.grantLease(scheduler, "op-1", 60_000);
      const b = await storage.grantLease(scheduler, "op-2", 60_000);
      await storage.revokeLease(scheduler, "op-1");
      const c = await storage.grantLease(scheduler, "op-1", 60_000);
      expect(b.token).toBeGreaterThan(a.token);
      expect(c.token).toBeGreaterThan(b.token);
    });

    it("throws already_exists when the lease is held, and keeps the first holder", async () => {
      const scheduler = uniqueScheduler();
      const first = await storage.grantLease(scheduler, "op-1", 10_000, { owner: "a" });
      await expectCode(storage.grantLease(scheduler, "op-1", 60_000, { owner: "b" }), "already_exists");
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
      const a = await storage.grantLease(scheduler, "op-1", 10_000);
      const b = await storage.grantLease(scheduler, "op-2", 20_000);
      const c = await storage.grantLease(other, "op-1", 30_000);
      expect(await storage.getLease(scheduler, "op-1")).toEqual(a);
      expect(await storage.getLease(scheduler, "op-2")).toEqual(b);
      expect(await storage.getLease(other, "op-1")).toEqual(c);
    });

    it("renew with the holder's token moves the expiry to ttl after now", async () => {
      const scheduler = uniqueScheduler();
      const granted = await storage.grantLease(scheduler, "op-1", 10_000, { owner: "a" });
      await time.advance(50);
      const before = time.now();
      const renewed = await storage.renewLease(scheduler, "op-1", granted.token, 20_000);
      expectExpiry(renewed, before, time.now(), 20_000);
      expect(renewed).toMatchObject({ token: granted.token, owner: "a" });
      expect((await storage.getLease(scheduler, "op-1"))?.expiresAt).toEqual(renewed.expiresAt);
      await expectCode(storage.grantLease(scheduler, "op-1", 1_000), "already_exists");
    });

    it("refuses with failed_precondition a renewal of an absent, expired or taken-over lease", async () => {
      const scheduler = uniqueScheduler();
      await expectCode(storage.renewLease(scheduler, "op-1", 1, 10_000), "failed_precondition");
      expect(await storage.getLease(scheduler, "op-1")).toBeUndefined();

      const short = await storage.grantLease(scheduler, "op-2", 100);
      await time.advance(150);
      await expectCode(storage.renewLease(scheduler, "op-2", short.token, 10_000), "failed_precondition");
      expect(await storage.getLease(scheduler, "op-2")).toBeUndefined();

      // Expired, then taken over: the old token stays refused while the new holder renews.
      const successor = await storage.grantLease(scheduler, "op-2", 60_000, { owner: "b" });
      await expectCode(storage.renewLease(scheduler, "op-2", short.token, 10_000), "failed_precondition");
      await storage.renewLease(scheduler, "op-2", successor.token, 60_000);
      expect((await storage.getLease(scheduler, "op-2"))?.token).toBe(successor.token);
    });

    it("treats an expired lease as absent: it can be granted again, with a newer token", async () => {
      const scheduler = uniqueScheduler();
      const granted = await storage.grantLease(scheduler, "op-1", 100);
      expect(await storage.getLease(scheduler, "op-1")).toEqual(granted);
      await time.advance(150);
      expect(await storage.getLease(scheduler, "op-1")).toBeUndefined();
      const before = time.now();
      const regranted = await storage.grantLease(scheduler, "op-1", 5_000);
      expectExpiry(regranted, before, time.now(), 5_000);
      expect(regranted.token).toBeGreaterThan(granted.token);
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

    it("revoke with a token leaves a lease another token holds", async () => {
      const scheduler = uniqueScheduler();
      const old = await storage.grantLease(scheduler, "op-1", 100);
      await time.advance(150);
      const successor = await storage.grantLease(scheduler, "op-1", 60_000);
      await storage.revokeLease(scheduler, "op-1", { token: old.token });
      expect(await storage.getLease(scheduler, "op-1")).toEqual(successor);
      await storage.revokeLease(scheduler, "op-1", { token: successor.token });
      expect(await storage.getLease(scheduler, "op-1")).toBeUndefined();
    });

    it("rejects calls with an aborted signal as canceled", async () => {
      const scheduler = uniqueScheduler();
      await expectCode(storage.grantLease(scheduler, "op-1", 1_000, { signal: AbortSignal.abort() }), "canceled");
      expect(await storage.getLease(scheduler, "op-1")).toBeUndefined();
    });
  });
}
