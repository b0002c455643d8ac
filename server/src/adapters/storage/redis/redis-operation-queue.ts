import type { Redis } from "ioredis";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { OperationQueue } from "../../../core/ports/operation-storage.js";
import { dedicatedConnection } from "./redis-client.js";
import { canceled, redisCall, throwIfAborted, toMaestroError } from "./redis-errors.js";
import { queueAuxiliaryKey, queueKey } from "./redis-keys.js";

export interface RedisOperationQueueOptions {
  /**
   * Seconds one BLMOVE waits before it is issued again. Aborts do not wait for it (they drop the connection); it only
   * bounds how long a silently dead connection can go unnoticed. Default 5.
   */
  blockSeconds?: number | undefined;
}

/**
 * Maestro's reliable queue: ids wait in `pending_operations:{s}` (RPUSH, LPUSH for priority); next() moves the head
 * into `pending_operations:{s}:auxiliary` with BLMOVE and hands out the head of that list until ack() removes it, so an
 * id taken by a worker that dies before ack is handed out again.
 *
 * Blocking calls run on connections of their own (one per waiting next(), reused afterwards): a BLMOVE on the shared
 * client would stall every other command, and one waiter per scheduler must not queue behind another's.
 */
export class RedisOperationQueue implements OperationQueue {
  private readonly idle: Redis[] = [];
  private readonly busy = new Set<Redis>();
  private readonly blockSeconds: number;
  private closed = false;

  constructor(
    private readonly client: Redis,
    options: RedisOperationQueueOptions = {},
  ) {
    this.blockSeconds = options.blockSeconds ?? 5;
  }

  async enqueue(
    schedulerName: string,
    operationId: string,
    opts?: CallOptions & { priority?: boolean },
  ): Promise<void> {
    const key = queueKey(schedulerName);
    await redisCall(opts, () =>
      opts?.priority === true ? this.client.lpush(key, operationId) : this.client.rpush(key, operationId),
    );
  }

  async next(schedulerName: string, opts: Required<CallOptions>): Promise<string> {
    const { signal } = opts;
    const aux = queueAuxiliaryKey(schedulerName);
    const reserved = await redisCall(opts, () => this.client.lindex(aux, 0));
    if (reserved !== null) return reserved;
    const conn = await this.acquire(opts);
    let broken = true;
    const onAbort = () => conn.disconnect();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        throwIfAborted(opts);
        const id = await conn.blmove(queueKey(schedulerName), aux, "LEFT", "RIGHT", this.blockSeconds);
        if (id !== null) {
          broken = false;
          return id;
        }
      }
    } catch (e) {
      // The connection was dropped by the abort; an id it may have moved meanwhile waits in the auxiliary list.
      if (signal.aborted) throw canceled(signal);
      throw toMaestroError(e);
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.release(conn, broken || signal.aborted);
    }
  }

  async ack(schedulerName: string, operationId: string, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.client.lrem(queueAuxiliaryKey(schedulerName), 1, operationId));
  }

  async pendingIds(schedulerName: string, opts?: CallOptions): Promise<string[]> {
    const results = await redisCall(opts, () =>
      this.client.multi().lrange(queueAuxiliaryKey(schedulerName), 0, -1).lrange(queueKey(schedulerName), 0, -1).exec(),
    );
    if (results === null) throw toMaestroError(new Error("Connection is closed."));
    return results.flatMap(([error, ids]) => {
      if (error !== null) throw toMaestroError(error);
      return ids as string[];
    });
  }

  async clear(schedulerName: string, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.client.del(queueKey(schedulerName), queueAuxiliaryKey(schedulerName)));
  }

  /** Drops the blocking connections; a next() still waiting rejects as unavailable. */
  async close(): Promise<void> {
    this.closed = true;
    for (const conn of [...this.idle.splice(0), ...this.busy]) conn.disconnect();
    this.busy.clear();
  }

  private async acquire(opts: Required<CallOptions>): Promise<Redis> {
    throwIfAborted(opts);
    if (this.closed) throw toMaestroError(new Error("Connection is closed."));
    let conn = this.idle.pop();
    while (conn !== undefined && conn.status !== "ready") {
      conn.disconnect();
      conn = this.idle.pop();
    }
    conn ??= await dedicatedConnection(this.client, "queue", opts);
    this.busy.add(conn);
    return conn;
  }

  private release(conn: Redis, discard: boolean): void {
    this.busy.delete(conn);
    if (discard || this.closed || conn.status !== "ready") conn.disconnect();
    else this.idle.push(conn);
  }
}
