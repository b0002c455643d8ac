import type { CallOptions } from "./call-options.js";

/**
 * The ends of the logs of a scheduler's last few crashed rooms, kept after the rooms are gone, where every replica
 * reaches them: on Kubernetes the worker deletes a crashed pod, and the management API, in another pod, is asked for
 * its log afterwards (`maestroctl rooms logs`, `apply --wait-ready`).
 */
export interface CrashedRoomLogs {
  /**
   * Keeps a room's log tail as the one kept at `at`, then drops the oldest of the scheduler's beyond `keepLast`.
   * Keeping the same room again replaces its tail.
   */
  keep(
    schedulerName: string,
    roomId: string,
    log: string,
    at: Date,
    keepLast: number,
    opts?: CallOptions,
  ): Promise<void>;
  /** The kept tail of a room, or undefined when none is kept (never crashed, or dropped as older). */
  get(schedulerName: string, roomId: string, opts?: CallOptions): Promise<string | undefined>;
  /** Forgets every tail of a scheduler. */
  deleteScheduler(schedulerName: string, opts?: CallOptions): Promise<void>;
}
