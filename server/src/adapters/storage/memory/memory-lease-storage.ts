import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type Clock, systemClock } from "../../../core/ports/clock.js";
import type { LeaseStorage } from "../../../core/ports/operation-storage.js";
import { throwIfAborted } from "./abort.js";

/**
 * LeaseStorage in process memory. A lease is held while the clock is before its expiry; an expired lease counts as
 * absent everywhere (it can be granted again, cannot be renewed, and getLease returns undefined).
 */
export class MemoryLeaseStorage implements LeaseStorage {
  /** Expiry in epoch milliseconds, keyed by scheduler and operation. */
  private readonly leases = new Map<string, number>();

  constructor(private readonly clock: Clock = systemClock) {}

  async grantLease(schedulerName: string, operationId: string, ttlMs: number, opts?: CallOptions): Promise<Date> {
    throwIfAborted(opts);
    const key = leaseKey(schedulerName, operationId);
    if (this.live(key) !== undefined) {
      throw new MaestroError("already_exists", `lease for operation ${operationId} is already held`);
    }
    return this.set(key, ttlMs);
  }

  async renewLease(schedulerName: string, operationId: string, ttlMs: number, opts?: CallOptions): Promise<Date> {
    throwIfAborted(opts);
    const key = leaseKey(schedulerName, operationId);
    if (this.live(key) === undefined) throw MaestroError.notFound(`lease for operation ${operationId}`);
    return this.set(key, ttlMs);
  }

  async revokeLease(schedulerName: string, operationId: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    this.leases.delete(leaseKey(schedulerName, operationId));
  }

  async getLease(schedulerName: string, operationId: string, opts?: CallOptions): Promise<Date | undefined> {
    throwIfAborted(opts);
    const expiry = this.live(leaseKey(schedulerName, operationId));
    return expiry === undefined ? undefined : new Date(expiry);
  }

  private live(key: string): number | undefined {
    const expiry = this.leases.get(key);
    if (expiry === undefined) return undefined;
    if (expiry <= this.clock.now().getTime()) {
      this.leases.delete(key);
      return undefined;
    }
    return expiry;
  }

  private set(key: string, ttlMs: number): Date {
    const expiry = this.clock.now().getTime() + ttlMs;
    this.leases.set(key, expiry);
    return new Date(expiry);
  }
}

function leaseKey(schedulerName: string, operationId: string): string {
  return `${schedulerName}\u0000${operationId}`;
}
