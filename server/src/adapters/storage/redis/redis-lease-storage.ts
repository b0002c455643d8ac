import type { Redis } from "ioredis";
import type { OperationLease } from "../../../core/entities/operation.js";
import { staleLease } from "../../../core/entities/operation-guards.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { Lease, LeaseStorage } from "../../../core/ports/operation-storage.js";
import { defineLuaScript, type LuaScript } from "./lua-scripts.js";
import { redisCall } from "./redis-errors.js";
import { leaseFenceKey, leaseKey, leaseKeys } from "./redis-keys.js";

/**
 * LeaseStorage on Redis: Maestro's `operations:{s}:operationsLease` sorted set (member operation id, score expiry in
 * epoch ms), plus a hash naming each lease's holder and fencing token and a per-scheduler token counter. Time is Redis
 * TIME, read inside the scripts, so replicas with skewed clocks agree on expiry. An expired lease counts as absent but
 * stays in the set until revoked or re-granted, so `listExpired` can find operations whose worker died.
 */
export class RedisLeaseStorage implements LeaseStorage {
  private readonly grant: LuaScript;
  private readonly renew: LuaScript;
  private readonly revoke: LuaScript;
  private readonly read: LuaScript;

  constructor(private readonly client: Redis) {
    this.grant = defineLuaScript(client, "grant-lease");
    this.renew = defineLuaScript(client, "renew-lease");
    this.revoke = defineLuaScript(client, "revoke-lease");
    this.read = defineLuaScript(client, "get-lease");
  }

  async grantLease(
    schedulerName: string,
    operationId: string,
    ttlMs: number,
    opts?: CallOptions & { owner?: string | undefined },
  ): Promise<Lease> {
    const owner = opts?.owner ?? "";
    const keys = [...leaseKeys(schedulerName), leaseFenceKey(schedulerName)];
    const [granted, token, expiry] = (await redisCall(opts, () =>
      this.grant(keys, [operationId, wholeMs(ttlMs), owner]),
    )) as number[];
    if (granted === 0) {
      throw new MaestroError("already_exists", `lease for operation ${operationId} is already held`);
    }
    return { operationId, owner, token: Number(token), expiresAt: new Date(Number(expiry)) };
  }

  async renewLease(
    schedulerName: string,
    operationId: string,
    token: number,
    ttlMs: number,
    opts?: CallOptions,
  ): Promise<Lease> {
    const reply = (await redisCall(opts, () =>
      this.renew(leaseKeys(schedulerName), [operationId, token, wholeMs(ttlMs)]),
    )) as number[];
    if (reply[0] === 0) throw staleLease(operationId, token);
    const lease = await this.getLease(schedulerName, operationId, opts);
    return lease ?? { operationId, owner: "", token, expiresAt: new Date(Number(reply[1])) };
  }

  async revokeLease(
    schedulerName: string,
    operationId: string,
    opts?: CallOptions & { token?: number | undefined },
  ): Promise<void> {
    await redisCall(opts, () => this.revoke(leaseKeys(schedulerName), [operationId, opts?.token ?? ""]));
  }

  async getLease(schedulerName: string, operationId: string, opts?: CallOptions): Promise<Lease | undefined> {
    const reply = (await redisCall(opts, () => this.read(leaseKeys(schedulerName), [operationId]))) as string[];
    if (reply.length < 2) return undefined;
    const [holder = "", expiry] = reply;
    const bar = holder.indexOf("|");
    return {
      operationId,
      token: Number(holder.slice(0, bar)),
      owner: holder.slice(bar + 1),
      expiresAt: new Date(Number(expiry)),
    };
  }

  /** Leases that expired by Redis time (or by `now`) and were never revoked: their operations lost their worker. */
  async listExpired(schedulerName: string, now?: Date, opts?: CallOptions): Promise<OperationLease[]> {
    const at = now?.getTime() ?? (await this.redisNow(opts));
    const reply = await redisCall(opts, () =>
      this.client.zrangebyscore(leaseKey(schedulerName), "-inf", at, "WITHSCORES"),
    );
    return memberScores(reply).map(([operationId, score]) => ({ operationId, ttl: new Date(Number(score)) }));
  }

  private async redisNow(opts?: CallOptions): Promise<number> {
    const [seconds, micros] = await redisCall(opts, () => this.client.time());
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }
}

/** PX-style whole milliseconds; a lease of zero or a fraction would be a caller's bug. */
function wholeMs(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw MaestroError.invalid([
      { field: "ttlMs", message: `must be a positive number of milliseconds, got ${ttlMs}` },
    ]);
  }
  return Math.ceil(ttlMs);
}

/** WITHSCORES replies are flat `[member, score, ...]` over RESP2 and `[[member, score], ...]` over RESP3. */
function memberScores(reply: unknown): [string, string][] {
  const items = reply as unknown[];
  if (items.every((item) => Array.isArray(item))) {
    return (items as unknown[][]).map(([member, score]) => [String(member), String(score)]);
  }
  const pairs: [string, string][] = [];
  for (let i = 0; i < items.length; i += 2) pairs.push([String(items[i]), String(items[i + 1])]);
  return pairs;
}
