import type { CallOptions } from "./call-options.js";

/**
 * Which replica executes a scheduler's operations: an expiring, renewable claim per scheduler. Exactly one holder at a
 * time; a holder that stops renewing (it died) loses the claim after `ttlMs`, and another replica may take it.
 */
export interface SchedulerOwnership {
  /** True when `owner` now holds the claim (newly, or already held by it — then it is extended). */
  acquire(schedulerName: string, owner: string, ttlMs: number, opts?: CallOptions): Promise<boolean>;
  /** Extends the claim; false when `owner` no longer holds it (expired and taken, or released). */
  renew(schedulerName: string, owner: string, ttlMs: number, opts?: CallOptions): Promise<boolean>;
  /** Gives the claim up if `owner` holds it; no error otherwise. */
  release(schedulerName: string, owner: string, opts?: CallOptions): Promise<void>;
  /** The current holder, if any. */
  holder(schedulerName: string, opts?: CallOptions): Promise<string | undefined>;
}
