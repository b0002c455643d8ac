import type { Redis } from "ioredis";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { SchedulerOwnership } from "../../../core/ports/scheduler-ownership.js";
import { defineLuaScript, type LuaScript } from "./lua-scripts.js";
import { redisCall } from "./redis-errors.js";
import { schedulerTag } from "./redis-keys.js";

/** String key holding the owner id, with a Redis expiry of the claim's ttl. */
export function schedulerOwnerKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:owner`;
}

/**
 * SchedulerOwnership on Redis: one string key per scheduler whose value is the owner and whose PX expiry is the claim.
 * Expiry is Redis's own, so replicas with skewed clocks still agree on who holds a claim; every change is a Lua
 * compare-and-set on the owner, so a replica that lost its claim cannot extend or delete its successor's.
 */
export class RedisSchedulerOwnership implements SchedulerOwnership {
  private readonly acquireScript: LuaScript;
  private readonly renewScript: LuaScript;
  private readonly releaseScript: LuaScript;

  constructor(private readonly client: Redis) {
    this.acquireScript = defineLuaScript(client, "acquire-ownership");
    this.renewScript = defineLuaScript(client, "renew-ownership");
    this.releaseScript = defineLuaScript(client, "release-ownership");
  }

  async acquire(schedulerName: string, owner: string, ttlMs: number, opts?: CallOptions): Promise<boolean> {
    const ttl = claimTtlMs(ttlMs);
    const held = await redisCall(opts, () => this.acquireScript([schedulerOwnerKey(schedulerName)], [owner, ttl]));
    return held === 1;
  }

  async renew(schedulerName: string, owner: string, ttlMs: number, opts?: CallOptions): Promise<boolean> {
    const ttl = claimTtlMs(ttlMs);
    const renewed = await redisCall(opts, () => this.renewScript([schedulerOwnerKey(schedulerName)], [owner, ttl]));
    return renewed === 1;
  }

  async release(schedulerName: string, owner: string, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.releaseScript([schedulerOwnerKey(schedulerName)], [owner]));
  }

  async holder(schedulerName: string, opts?: CallOptions): Promise<string | undefined> {
    const owner = await redisCall(opts, () => this.client.get(schedulerOwnerKey(schedulerName)));
    return owner ?? undefined;
  }
}

/** Whole milliseconds, rounded up so a fractional ttl never shortens the claim; PX rejects zero and fractions. */
function claimTtlMs(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw MaestroError.invalid([
      { field: "ttlMs", message: `must be a positive number of milliseconds, got ${ttlMs}` },
    ]);
  }
  return Math.ceil(ttlMs);
}
