import type { Redis } from "ioredis";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { SchedulerChanges } from "../../../core/ports/scheduler-changes.js";
import { type LuaScript, scriptText } from "./lua-scripts.js";
import { redisCall } from "./redis-errors.js";
import { schedulerChangesKey } from "./redis-keys.js";
import { scriptChannelOf } from "./script-channel.js";

/**
 * SchedulerChanges on Redis: one counter key, INCR after a write and GET before a cached read. A version key rather
 * than pub/sub: a message may arrive after the writer answered, while a GET issued after the INCR returned cannot
 * miss it, so a read that follows a write's answer is never served the old scheduler.
 */
export class RedisSchedulerChanges implements SchedulerChanges {
  /** Every cached management read asks for the generation: on a single Redis it goes over a script channel. */
  private readonly read: LuaScript | undefined;

  constructor(private readonly client: Redis) {
    this.read = scriptChannelOf(client, "scheduler-generation", scriptText("scheduler-generation"));
  }

  async generation(opts?: CallOptions): Promise<string> {
    const read = this.read;
    if (read === undefined) return (await redisCall(opts, () => this.client.get(schedulerChangesKey))) ?? "0";
    const [generation] = (await redisCall(opts, () => read([schedulerChangesKey], []))) as [string | null];
    return generation ?? "0";
  }

  async announce(opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.client.incr(schedulerChangesKey));
  }
}
