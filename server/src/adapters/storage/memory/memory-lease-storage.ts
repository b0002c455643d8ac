import { staleLease } from "../../../core/entities/operation-guards.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type Clock, systemClock } from "../../../core/ports/clock.js";
import type { Lease, LeaseStorage } from "../../../core/ports/operation-storage.js";
import { throwIfAborted } from "./abort.js";

interface Held {
  owner: string;
  token: number;
  /** Epoch milliseconds. */
  expiry: number;
}

/**
 * LeaseStorage in process memory. A lease is held while the clock is before its expiry; an expired lease counts as
 * absent everywhere (it can be granted again with a new token, cannot be renewed, and getLease returns undefined).
 */
export class MemoryLeaseStorage implements LeaseStorage {
  private readonly leases = new Map<string, Held>();
  /** Last token granted per scheduler. */
  private readonly tokens = new Map<string, number>();

  constructor(private readonly clock: Clock = systemClock) {}

  async grantLease(
    schedulerName: string,
    operationId: string,
    ttlMs: number,
    opts?: CallOptions & { owner?: string | undefined },
  ): Promise<Lease> {
    throwIfAborted(opts);
    const key = leaseKey(schedulerName, operationId);
    if (this.live(key) !== undefined) {
      throw new MaestroError("already_exists", `lease for operation ${operationId} is already held`);
    }
    const token = (this.tokens.get(schedulerName) ?? 0) + 1;
    this.tokens.set(schedulerName, token);
    const held = { owner: opts?.owner ?? "", token, expiry: this.clock.now().getTime() + ttlMs };
    this.leases.set(key, held);
    return toLease(operationId, held);
  }

  async renewLease(
    schedulerName: string,
    operationId: string,
    token: number,
    ttlMs: number,
    opts?: CallOptions,
  ): Promise<Lease> {
    throwIfAborted(opts);
    const held = this.live(leaseKey(schedulerName, operationId));
    if (held?.token !== token) throw staleLease(operationId, token);
    held.expiry = this.clock.now().getTime() + ttlMs;
    return toLease(operationId, held);
  }

  async revokeLease(
    schedulerName: string,
    operationId: string,
    opts?: CallOptions & { token?: number | undefined },
  ): Promise<void> {
    throwIfAborted(opts);
    const key = leaseKey(schedulerName, operationId);
    if (opts?.token !== undefined && this.leases.get(key)?.token !== opts.token) return;
    this.leases.delete(key);
  }

  async getLease(schedulerName: string, operationId: string, opts?: CallOptions): Promise<Lease | undefined> {
    throwIfAborted(opts);
    const held = this.live(leaseKey(schedulerName, operationId));
    return held === undefined ? undefined : toLease(operationId, held);
  }

  /** Whether `token` holds a live lease on the operation: the fence MemoryOperationStorage checks before a write. */
  holds(schedulerName: string, operationId: string, token: number): boolean {
    return this.live(leaseKey(schedulerName, operationId))?.token === token;
  }

  private live(key: string): Held | undefined {
    const held = this.leases.get(key);
    if (held === undefined) return undefined;
    if (held.expiry <= this.clock.now().getTime()) {
      this.leases.delete(key);
      return undefined;
    }
    return held;
  }
}

function toLease(operationId: string, held: Held): Lease {
  return { operationId, owner: held.owner, token: held.token, expiresAt: new Date(held.expiry) };
}

function leaseKey(schedulerName: string, operationId: string): string {
  return `${schedulerName}\u0000${operationId}`;
}
