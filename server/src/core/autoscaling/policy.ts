import type { GameRoom, RoomStatusName } from "../entities/game-room.js";
import type { AutoscalingPolicy as PolicyConfig, Scheduler } from "../entities/scheduler.js";
import type { CallOptions } from "../ports/call-options.js";

/** What a policy sees of a scheduler's rooms. */
export interface RoomsSnapshot {
  byStatus: Record<RoomStatusName, number>;
  /** Matches being played: the rooms' reported runningMatches plus one per allocated room. */
  runningMatches: number;
  maxMatches: number;
  total: number;
}

/**
 * An autoscaling policy: how many rooms a scheduler wants now, and whether giving some back is allowed. Custom policies
 * from plugins implement the same interface.
 */
export interface AutoscalingPolicyImpl {
  readonly type: string;
  desiredRooms(rooms: RoomsSnapshot, config: PolicyConfig): number;
  canDownscale(rooms: RoomsSnapshot, config: PolicyConfig, desired: number): boolean;
  /**
   * Checks the policy's `parameters.custom` (an empty object when the scheduler sets none) before a scheduler naming
   * this policy is stored. Each field is relative to `custom`; Maestro reports it as
   * `autoscaling.policy.parameters.custom.<field>` in a 400.
   */
  validate?(parameters: Record<string, unknown>): Array<{ field: string; message: string }>;
}

/**
 * A built-in policy that keeps history or reads the runtime (metricsTriggers): it makes the whole decision, its own
 * cooldowns included; the autoscaler still clamps `desired` to min and max.
 */
export interface StatefulPolicy {
  readonly type: string;
  decide(context: PolicyContext, opts: CallOptions): Promise<PolicyDecision>;
}

export type AnyPolicy = AutoscalingPolicyImpl | StatefulPolicy;

export function isStateful(policy: AnyPolicy): policy is StatefulPolicy {
  return typeof (policy as Partial<StatefulPolicy>).decide === "function";
}

/** What a stateful policy decides from. */
export interface PolicyContext {
  scheduler: Scheduler;
  rooms: RoomsSnapshot;
  /** Rooms the health controller counts towards the desired number (created or coming, not expired). */
  available: number;
  now: Date;
}

export interface PolicyDecision {
  desired: number;
  canDownscale: boolean;
  heldBack?: string | undefined;
  /** Why, for the operation history. */
  reason?: string | undefined;
  /** Called once the health controller has enqueued the scale this decision asked for (starts the cooldowns). */
  scaled?: ((opts: CallOptions) => Promise<void>) | undefined;
}

function noRooms(): Record<RoomStatusName, number> {
  return {
    pending: 0,
    unready: 0,
    ready: 0,
    occupied: 0,
    terminating: 0,
    error: 0,
    terminated: 0,
    active: 0,
    allocated: 0,
  };
}

export function snapshotOf(rooms: readonly GameRoom[], maxMatches: number): RoomsSnapshot {
  const byStatus = noRooms();
  let runningMatches = 0;
  for (const room of rooms) {
    byStatus[room.status]++;
    if (room.status === "allocated") runningMatches += 1;
    else if (room.status === "occupied" || room.status === "active") runningMatches += Math.max(room.runningMatches, 1);
  }
  return { byStatus, runningMatches, maxMatches: Math.max(maxMatches, 1), total: rooms.length };
}

/** A snapshot from room counts by status (missing statuses count 0): for testing policies without rooms. */
export function roomsSnapshot(
  counts: Partial<Record<RoomStatusName, number>>,
  { runningMatches = 0, maxMatches = 1 }: { runningMatches?: number; maxMatches?: number } = {},
): RoomsSnapshot {
  const byStatus = { ...noRooms(), ...counts };
  return { byStatus, runningMatches, maxMatches, total: Object.values(byStatus).reduce((a, b) => a + b, 0) };
}
