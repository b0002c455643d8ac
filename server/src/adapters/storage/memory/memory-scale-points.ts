import type { MetricsTriggerType } from "../../../core/entities/scheduler.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { ScalePoint, ScalePointStorage } from "../../../core/ports/scale-points.js";
import { throwIfAborted } from "./abort.js";

/** ScalePointStorage in process memory (the embedded default). */
export class MemoryScalePoints implements ScalePointStorage {
  /** Newest first, per `scheduler\0type`. */
  private readonly lists = new Map<string, ScalePoint[]>();
  private readonly lastScale = new Map<string, Date>();

  async addPoint(
    schedulerName: string,
    type: MetricsTriggerType,
    point: ScalePoint,
    keep: number,
    minGapMs: number,
    opts?: CallOptions,
  ): Promise<boolean> {
    throwIfAborted(opts);
    const key = listKey(schedulerName, type);
    const list = this.lists.get(key) ?? [];
    const newest = list[0];
    if (newest && point.at.getTime() - newest.at.getTime() < minGapMs) return false;
    list.unshift({ value: point.value, at: new Date(point.at) });
    list.length = Math.min(list.length, Math.max(keep, 1));
    this.lists.set(key, list);
    return true;
  }

  async points(
    schedulerName: string,
    type: MetricsTriggerType,
    count: number,
    opts?: CallOptions,
  ): Promise<ScalePoint[]> {
    throwIfAborted(opts);
    const list = this.lists.get(listKey(schedulerName, type)) ?? [];
    return list.slice(0, Math.max(count, 0)).map((p) => ({ value: p.value, at: new Date(p.at) }));
  }

  async lastScaleAt(schedulerName: string, opts?: CallOptions): Promise<Date | undefined> {
    throwIfAborted(opts);
    const at = this.lastScale.get(schedulerName);
    return at && new Date(at);
  }

  async setLastScaleAt(schedulerName: string, at: Date, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    this.lastScale.set(schedulerName, new Date(at));
  }

  async deleteScheduler(schedulerName: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    for (const key of [...this.lists.keys()]) if (key.startsWith(`${schedulerName}\0`)) this.lists.delete(key);
    this.lastScale.delete(schedulerName);
  }
}

function listKey(schedulerName: string, type: string): string {
  return `${schedulerName}\0${type}`;
}
