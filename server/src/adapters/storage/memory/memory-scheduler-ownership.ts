import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type Clock, systemClock } from "../../../core/ports/clock.js";
import type { SchedulerOwnership } from "../../../core/ports/scheduler-ownership.js";
import { throwIfAborted } from "./abort.js";

interface Claim {
  owner: string;
  /** Epoch milliseconds; the claim is held while the clock is before it. */
  expiry: number;
}

/** SchedulerOwnership in process memory, for a single replica and tests. Expiry follows the injected clock. */
export class MemorySchedulerOwnership implements SchedulerOwnership {
  private readonly claims = new Map<string, Claim>();

  constructor(private readonly clock: Clock = systemClock) {}

  async acquire(schedulerName: string, owner: string, ttlMs: number, opts?: CallOptions): Promise<boolean> {
    throwIfAborted(opts);
    const ttl = claimTtlMs(ttlMs);
    const claim = this.live(schedulerName);
    if (claim !== undefined && claim.owner !== owner) return false;
    this.claims.set(schedulerName, { owner, expiry: this.clock.now().getTime() + ttl });
    return true;
  }

  async renew(schedulerName: string, owner: string, ttlMs: number, opts?: CallOptions): Promise<boolean> {
    throwIfAborted(opts);
    const ttl = claimTtlMs(ttlMs);
    const claim = this.live(schedulerName);
    if (claim?.owner !== owner) return false;
    claim.expiry = this.clock.now().getTime() + ttl;
    return true;
  }

  async release(schedulerName: string, owner: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    if (this.live(schedulerName)?.owner === owner) this.claims.delete(schedulerName);
  }

  async holder(schedulerName: string, opts?: CallOptions): Promise<string | undefined> {
    throwIfAborted(opts);
    return this.live(schedulerName)?.owner;
  }

  private live(schedulerName: string): Claim | undefined {
    const claim = this.claims.get(schedulerName);
    if (claim === undefined) return undefined;
    if (claim.expiry <= this.clock.now().getTime()) {
      this.claims.delete(schedulerName);
      return undefined;
    }
    return claim;
  }
}

/** Whole milliseconds, rounded up so a fractional ttl never shortens the claim; zero or less would never hold. */
function claimTtlMs(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw MaestroError.invalid([
      { field: "ttlMs", message: `must be a positive number of milliseconds, got ${ttlMs}` },
    ]);
  }
  return Math.ceil(ttlMs);
}
