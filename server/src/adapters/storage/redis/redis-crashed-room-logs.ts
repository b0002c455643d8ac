import type { Redis } from "ioredis";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { CrashedRoomLogs } from "../../../core/ports/crashed-room-logs.js";
import { defineLuaScript, type LuaScript } from "./lua-scripts.js";
import { redisCall } from "./redis-errors.js";
import { crashedLogOrderKey, crashedLogsKey } from "./redis-keys.js";

/** A week: long enough to look into last night's crashes, bounded for schedulers deleted while Redis was away. */
const TTL_SECONDS = 7 * 24 * 3600;

/** CrashedRoomLogs on Redis: a hash of tails and a sorted set of their ages, under the scheduler's hash tag. */
export class RedisCrashedRoomLogs implements CrashedRoomLogs {
  private readonly keepScript: LuaScript;

  constructor(private readonly client: Redis) {
    this.keepScript = defineLuaScript(client, "keep-crashed-log");
  }

  async keep(
    schedulerName: string,
    roomId: string,
    log: string,
    at: Date,
    keepLast: number,
    opts?: CallOptions,
  ): Promise<void> {
    await redisCall(opts, () =>
      this.keepScript(
        [crashedLogsKey(schedulerName), crashedLogOrderKey(schedulerName)],
        [roomId, log, at.getTime(), Math.max(keepLast, 1), TTL_SECONDS],
      ),
    );
  }

  async get(schedulerName: string, roomId: string, opts?: CallOptions): Promise<string | undefined> {
    const log = await redisCall(opts, () => this.client.hget(crashedLogsKey(schedulerName), roomId));
    return log ?? undefined;
  }

  async deleteScheduler(schedulerName: string, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.client.del(crashedLogsKey(schedulerName), crashedLogOrderKey(schedulerName)));
  }
}
