import type { Redis } from "ioredis";
import { type MetricsTriggerType, metricsTriggerTypes } from "../../../core/entities/scheduler.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { ScalePoint, ScalePointStorage } from "../../../core/ports/scale-points.js";
import { defineLuaScript, type LuaScript } from "./lua-scripts.js";
import { redisCall } from "./redis-errors.js";
import { lastScaleKey, scalePointsKey } from "./redis-keys.js";

/**
 * ScalePointStorage on Redis: like Maestro v9's `maestro:scale:<type>:<scheduler>` lists (LPUSH + LTRIM), with each
 * point carrying its time so extra runs can be told apart, under the scheduler's hash tag.
 */
export class RedisScalePoints implements ScalePointStorage {
  private readonly add: LuaScript;

  constructor(private readonly client: Redis) {
    this.add = defineLuaScript(client, "add-scale-point");
  }

  async addPoint(
    schedulerName: string,
    type: MetricsTriggerType,
    point: ScalePoint,
    keep: number,
    minGapMs: number,
    opts?: CallOptions,
  ): Promise<boolean> {
    const at = point.at.getTime();
    const added = await redisCall(opts, () =>
      this.add([scalePointsKey(schedulerName, type)], [`${at}:${point.value}`, at, Math.max(keep, 1), minGapMs]),
    );
    return added === 1;
  }

  async points(
    schedulerName: string,
    type: MetricsTriggerType,
    count: number,
    opts?: CallOptions,
  ): Promise<ScalePoint[]> {
    if (count <= 0) return [];
    const raw = await redisCall(opts, () => this.client.lrange(scalePointsKey(schedulerName, type), 0, count - 1));
    return raw.flatMap((entry) => {
      const sep = entry.indexOf(":");
      const at = Number(entry.slice(0, sep));
      const value = Number(entry.slice(sep + 1));
      return sep > 0 && Number.isFinite(at) && Number.isFinite(value) ? [{ value, at: new Date(at) }] : [];
    });
  }

  async lastScaleAt(schedulerName: string, opts?: CallOptions): Promise<Date | undefined> {
    const raw = await redisCall(opts, () => this.client.get(lastScaleKey(schedulerName)));
    return raw === null ? undefined : new Date(Number(raw));
  }

  async setLastScaleAt(schedulerName: string, at: Date, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.client.set(lastScaleKey(schedulerName), String(at.getTime())));
  }

  async deleteScheduler(schedulerName: string, opts?: CallOptions): Promise<void> {
    const keys = [lastScaleKey(schedulerName), ...metricsTriggerTypes.map((t) => scalePointsKey(schedulerName, t))];
    await redisCall(opts, () => this.client.del(...keys));
  }
}
