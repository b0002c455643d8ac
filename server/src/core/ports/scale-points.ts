import type { MetricsTriggerType } from "../entities/scheduler.js";
import type { CallOptions } from "./call-options.js";

/** One utilization sample (a fraction: 0.8 = 80%) taken by the metricsTriggers policy. */
export interface ScalePoint {
  value: number;
  at: Date;
}

/**
 * Point history of the metricsTriggers policy, one list per scheduler and measured type, shared by its up and down
 * triggers (Maestro v9's `maestro:scale:<type>:<scheduler>`), plus the time of the scheduler's last autoscaler scale,
 * which both directions' cooldowns count from.
 */
export interface ScalePointStorage {
  /**
   * Adds a point as the newest and keeps only the `keep` newest. A point closer than `minGapMs` to the newest one is
   * not added (returns false): extra health-controller runs woken by room events must not thin the time window.
   */
  addPoint(
    schedulerName: string,
    type: MetricsTriggerType,
    point: ScalePoint,
    keep: number,
    minGapMs: number,
    opts?: CallOptions,
  ): Promise<boolean>;
  /** Up to `count` newest points, newest first. */
  points(schedulerName: string, type: MetricsTriggerType, count: number, opts?: CallOptions): Promise<ScalePoint[]>;
  lastScaleAt(schedulerName: string, opts?: CallOptions): Promise<Date | undefined>;
  setLastScaleAt(schedulerName: string, at: Date, opts?: CallOptions): Promise<void>;
  /** Forgets every point and the last scale time of a scheduler. */
  deleteScheduler(schedulerName: string, opts?: CallOptions): Promise<void>;
}
