import type { Redis } from "ioredis";
import type { OperationLease } from "../../../core/entities/operation.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type Clock, systemClock } from "../../../core/ports/clock.js";
import type { LeaseStorage } from "../../../core/ports/operation-storage.js";
import { defineLuaScript, type LuaScript } from "./lua-scripts.js";
import { redisCall } from "./redis-errors.js";
import { leaseKey } from "./redis-keys.js";

/**
 * LeaseStorage on Redis: Maestro's `operations:{s}:operationsLease` sorted set, member operation id, score expiry in
 * epoch ms. A lease is held while the clock is before its expiry; an expired one counts as absent but stays in the set
 * until revoked or re-granted, so `listExpired` can find operations whose worker died.
 *
 * Time comes from the injected clock rather than Redis TIME, so every process and test agrees on one notion of now.
 */
export class RedisLeaseStorage implements LeaseStorage {
  private readonly grant: LuaScript;
  private readonly renew: LuaScript;

  constructor(
    private readonly client: Redis,
    private readonly clock: Clock = systemClock,
  ) {
    this.grant = defineLuaScript(client, "grant-lease");
    this.renew = defineLuaScript(client, "renew-lease");
  }

  async grantLease(schedulerName: string, operationId: string, ttlMs: number, opts?: CallOptions): Promise<Date> {
    const now = this.clock.now().getTime();
    const expiry = now + ttlMs;
    const granted = await redisCall(opts, () => this.grant([leaseKey(schedulerName)], [operationId, now, expiry]));
    if (granted === 0) {
      throw new MaestroError("already_exists", `lease for operation ${operationId} is already held`);
    }
    return new Date(expiry);
  }

  async renewLease(schedulerName: string, operationId: string, ttlMs: number, opts?: CallOptions): Promise<Date> {
    const now = this.clock.now().getTime();
    const expiry = now + ttlMs;
    const renewed = await redisCall(opts, () => this.renew([leaseKey(schedulerName)], [operationId, now, expiry]));
    if (renewed === 0) throw MaestroError.notFound(`lease for operation ${operationId}`);
    return new Date(expiry);
  }

  async revokeLease(schedulerName: string, operationId: string, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.client.zrem(leaseKey(schedulerName), operationId));
  }

  async getLease(schedulerName: string, operationId: string, opts?: CallOptions): Promise<Date | undefined> {
    const score = await redisCall(opts, () => this.client.zscore(leaseKey(schedulerName), operationId));
    if (score === null) return undefined;
    const expiry = Number(score);
    return expiry > this.clock.now().getTime() ? new Date(expiry) : undefined;
  }

  /** Leases that expired at or before `now` and were never revoked: their operations lost their worker. */
  async listExpired(
    schedulerName: string,
    now: Date = this.clock.now(),
    opts?: CallOptions,
  ): Promise<OperationLease[]> {
    const reply = await redisCall(opts, () =>
      this.client.zrangebyscore(leaseKey(schedulerName), "-inf", now.getTime(), "WITHSCORES"),
    );
    return memberScores(reply).map(([operationId, score]) => ({ operationId, ttl: new Date(Number(score)) }));
  }
}

/** WITHSCORES replies are flat `[member, score, ...]` over RESP2 and `[[member, score], ...]` over RESP3. */
function memberScores(reply: unknown): [string, string][] {
  const items = reply as unknown[];
  if (items.every((item) => Array.isArray(item))) {
    return (items as unknown[][]).map(([member, score]) => [String(member), String(score)]);
  }
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < items.length; i += 2) pairs.push([String(items[i]), String(items[i + 1])]);
  return pairs;
}
