import type { Redis } from "ioredis";
import {
  type Operation,
  type OperationEvent,
  type OperationStage,
  type OperationStatusName,
  operationStage,
} from "../../../core/entities/operation.js";
import { staleLease, statusConflict } from "../../../core/entities/operation-guards.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type {
  OperationStorage,
  OperationWriteGuard,
  SchedulerDeletion,
} from "../../../core/ports/operation-storage.js";
import { defineLuaScript, type LuaScript } from "./lua-scripts.js";
import { decodeOperation, encodeEvent, encodeOperation, statusName, statusNumber } from "./operation-hash.js";
import { redisCall } from "./redis-errors.js";
import {
  allStageKeys,
  leaseKeys,
  operationHashKey,
  operationSequenceKey,
  operationStageKey,
  schedulerDeletionsKey,
  stageKeysFirst,
} from "./redis-keys.js";

/** Definitions Maestro gives a TTL because a scheduler produces them all day long. */
export const highVolumeOperations: readonly string[] = [
  "health_controller",
  "add_rooms",
  "remove_rooms",
  "storage_clean_up",
];

/** `ttlSecondsFor` giving the high-volume definitions Maestro's 24 h TTL (or `seconds`), and the rest none. */
export function highVolumeOperationTtl(seconds = 86_400): (definitionName: string) => number | undefined {
  return (definitionName) => (highVolumeOperations.includes(definitionName) ? seconds : undefined);
}

export interface RedisOperationStorageOptions {
  /** Seconds an operation of this definition is kept; undefined keeps it until deleted. */
  ttlSecondsFor?: ((definitionName: string) => number | undefined) | undefined;
}

// Ids per script call: Lua's unpack has a stack limit of a few thousand values.
const batchSize = 500;

/**
 * OperationStorage on Redis: one hash per operation (`operations:{s}:{id}`) and one sorted set per stage
 * (`operations:{s}:lists:pending|active|history`) scored by creation time, changed together by Lua scripts. Operations
 * with a TTL vanish on their own; their ids are dropped from the sets when a listing meets them or by `cleanExpired`.
 */
export class RedisOperationStorage implements OperationStorage {
  private readonly create: LuaScript;
  private readonly setStatus: LuaScript;
  private readonly append: LuaScript;
  private readonly remove: LuaScript;
  private readonly removeExpired: LuaScript;
  private readonly ttlSecondsFor: (definitionName: string) => number | undefined;

  constructor(
    private readonly client: Redis,
    options: RedisOperationStorageOptions = {},
  ) {
    this.create = defineLuaScript(client, "create-operation");
    this.setStatus = defineLuaScript(client, "update-operation-status");
    this.append = defineLuaScript(client, "append-operation-history");
    this.remove = defineLuaScript(client, "delete-operations");
    this.removeExpired = defineLuaScript(client, "remove-expired-operations");
    this.ttlSecondsFor = options.ttlSecondsFor ?? (() => undefined);
  }

  async createOperation(op: Operation, opts?: CallOptions): Promise<void> {
    const ttl = this.ttlSecondsFor(op.definitionName) ?? 0;
    if (!Number.isInteger(ttl) || ttl < 0) {
      throw new MaestroError("internal", `TTL for ${op.definitionName} must be a whole number of seconds, got ${ttl}`);
    }
    const keys = [
      operationHashKey(op.schedulerName, op.id),
      ...stageKeysFirst(op.schedulerName, operationStage(op.status)),
      operationSequenceKey(op.schedulerName),
    ];
    const args = [op.createdAt.getTime(), ttl, op.id, ...encodeOperation(op)];
    const created = await redisCall(opts, () => this.create(keys, args));
    if (created === 0) throw new MaestroError("already_exists", `operation ${op.id} already exists`);
  }

  async getOperation(schedulerName: string, id: string, opts?: CallOptions): Promise<Operation | undefined> {
    const key = operationHashKey(schedulerName, id);
    const hash = await redisCall(opts, () => this.client.hgetall(key));
    return decodeOperation(key, hash);
  }

  async updateStatus(
    schedulerName: string,
    id: string,
    status: OperationStatusName,
    opts?: OperationWriteGuard,
  ): Promise<void> {
    const keys = [
      operationHashKey(schedulerName, id),
      ...stageKeysFirst(schedulerName, operationStage(status)),
      ...leaseKeys(schedulerName),
    ];
    const expected = opts?.expected === undefined ? "" : statusNumber(opts.expected);
    const args = [id, statusNumber(status), Date.now(), expected, opts?.fence ?? ""];
    const [result, current] = (await redisCall(opts, () => this.setStatus(keys, args))) as [number, string?];
    if (result === 0) throw MaestroError.notFound(`operation ${id}`);
    if (result === 2) throw statusConflict(id, statusName(current ?? ""), status, opts?.expected);
    if (result === 3) throw staleLease(id, opts?.fence ?? 0);
  }

  async appendHistory(
    schedulerName: string,
    id: string,
    event: OperationEvent,
    opts?: CallOptions & { fence?: number | undefined },
  ): Promise<void> {
    const keys = [operationHashKey(schedulerName, id), ...leaseKeys(schedulerName)];
    const appended = await redisCall(opts, () => this.append(keys, [encodeEvent(event), id, opts?.fence ?? ""]));
    if (appended === 0) throw MaestroError.notFound(`operation ${id}`);
    if (appended === 3) throw staleLease(id, opts?.fence ?? 0);
  }

  async listOperations(schedulerName: string, stage: OperationStage, opts?: CallOptions): Promise<Operation[]> {
    const ids = await redisCall(opts, () => this.client.zrange(operationStageKey(schedulerName, stage), 0, "-1"));
    const operations: Operation[] = [];
    const expired: string[] = [];
    for (let start = 0; start < ids.length; start += batchSize) {
      const batch = ids.slice(start, start + batchSize);
      const hashes = await redisCall(opts, () => this.readHashes(schedulerName, batch));
      batch.forEach((id, i) => {
        const op = decodeOperation(operationHashKey(schedulerName, id), hashes[i] ?? {});
        if (op === undefined) expired.push(id);
        // Moved to another stage between the two reads: it belongs to that listing now.
        else if (operationStage(op.status) === stage) operations.push(op);
      });
    }
    if (expired.length > 0) await this.removeIfExpired(schedulerName, expired, opts);
    return operations;
  }

  async deleteOperation(schedulerName: string, id: string, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () =>
      this.remove([...allStageKeys(schedulerName), operationHashKey(schedulerName, id)], [id]),
    );
  }

  async deleteOperations(schedulerName: string, opts?: CallOptions): Promise<void> {
    const ids = await this.listedIds(schedulerName, opts);
    for (let start = 0; start < ids.length; start += batchSize) {
      const batch = ids.slice(start, start + batchSize);
      const keys = [...allStageKeys(schedulerName), ...batch.map((id) => operationHashKey(schedulerName, id))];
      await redisCall(opts, () => this.remove(keys, batch));
    }
  }

  async noteSchedulerDeletion(schedulerName: string, id: string, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.client.sadd(schedulerDeletionsKey, `${schedulerName} ${id}`));
  }

  async listSchedulerDeletions(opts?: CallOptions): Promise<SchedulerDeletion[]> {
    const members = await redisCall(opts, () => this.client.smembers(schedulerDeletionsKey));
    return members.flatMap((member) => {
      const [schedulerName, operationId] = member.split(" ");
      return schedulerName && operationId ? [{ schedulerName, operationId }] : [];
    });
  }

  async forgetSchedulerDeletion(schedulerName: string, id: string, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.client.srem(schedulerDeletionsKey, `${schedulerName} ${id}`));
  }

  /** Drops the ids of operations whose hash has expired from every stage set; returns how many it dropped. */
  async cleanExpired(schedulerName: string, opts?: CallOptions): Promise<number> {
    const ids = await this.listedIds(schedulerName, opts);
    const candidates: string[] = [];
    for (let start = 0; start < ids.length; start += batchSize) {
      const batch = ids.slice(start, start + batchSize);
      const exists = await redisCall(opts, async () => {
        const pipeline = this.client.pipeline();
        for (const id of batch) pipeline.exists(operationHashKey(schedulerName, id));
        return execPipeline(await pipeline.exec());
      });
      batch.forEach((id, i) => {
        if (exists[i] === 0) candidates.push(id);
      });
    }
    return this.removeIfExpired(schedulerName, candidates, opts);
  }

  private async removeIfExpired(schedulerName: string, ids: readonly string[], opts?: CallOptions): Promise<number> {
    let removed = 0;
    for (let start = 0; start < ids.length; start += batchSize) {
      const batch = ids.slice(start, start + batchSize);
      const keys = [...allStageKeys(schedulerName), ...batch.map((id) => operationHashKey(schedulerName, id))];
      removed += Number(await redisCall(opts, () => this.removeExpired(keys, batch)));
    }
    return removed;
  }

  /** Every id in any stage set of the scheduler, each once. */
  private async listedIds(schedulerName: string, opts?: CallOptions): Promise<string[]> {
    const lists = await redisCall(opts, async () => {
      const pipeline = this.client.pipeline();
      for (const key of allStageKeys(schedulerName)) pipeline.zrange(key, 0, "-1");
      return execPipeline(await pipeline.exec());
    });
    return [...new Set((lists as string[][]).flat())];
  }

  private async readHashes(schedulerName: string, ids: readonly string[]): Promise<Record<string, string>[]> {
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hgetall(operationHashKey(schedulerName, id));
    return execPipeline(await pipeline.exec()) as Record<string, string>[];
  }
}

/** The results of a pipeline, or the first error in it (ioredis reports errors per command). */
function execPipeline(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error("Connection is closed.");
  return results.map(([error, value]) => {
    if (error !== null) throw error;
    return value;
  });
}
