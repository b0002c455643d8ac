import type { GameRoom } from "../entities/game-room.js";
import type { Scheduler } from "../entities/scheduler.js";
import { MaestroError } from "../errors.js";
import type { CallOptions } from "../ports/call-options.js";
import { fixedBufferPolicy } from "./fixed-buffer.js";
import { type AnyPolicy, isStateful, type PolicyDecision, snapshotOf } from "./policy.js";
import { roomOccupancyPolicy } from "./room-occupancy.js";

export interface AutoscaleDecision {
  /** Rooms the scheduler should have, within min and max. */
  desired: number;
  /** Whether going down to `desired` is allowed now (policy and cooldown); upscales are always allowed. */
  canDownscale: boolean;
  /** Why a downscale is held back, for the operation history. */
  heldBack?: string | undefined;
  /** A stateful policy's explanation, for the operation history. */
  reason?: string | undefined;
  /** To call once the scale this decision asked for is enqueued. */
  scaled?: PolicyDecision["scaled"];
}

/** Policies by type; plugins add theirs with `register`. */
export class Autoscaler {
  private readonly policies = new Map<string, AnyPolicy>();

  constructor(policies: AnyPolicy[] = [roomOccupancyPolicy, fixedBufferPolicy]) {
    for (const p of policies) this.register(p);
  }

  register(policy: AnyPolicy): void {
    this.policies.set(policy.type, policy);
  }

  has(type: string): boolean {
    return this.policies.has(type);
  }

  types(): string[] {
    return [...this.policies.keys()];
  }

  /**
   * The decision of any policy, stateful ones included. `available` is the number of rooms the caller counts towards
   * the desired number.
   */
  async evaluate(
    scheduler: Scheduler,
    rooms: readonly GameRoom[],
    available: number,
    now: Date,
    opts: CallOptions,
  ): Promise<AutoscaleDecision> {
    const { autoscaling, policy } = this.policyOf(scheduler);
    if (!isStateful(policy)) return this.decide(scheduler, rooms, now);
    const snapshot = snapshotOf(rooms, scheduler.matchAllocation.maxMatches);
    const d = await policy.decide({ scheduler, rooms: snapshot, available, now }, opts);
    return { ...d, desired: clamp(d.desired, autoscaling.min, autoscaling.max) };
  }

  /** The decision for an autoscaled scheduler; throws failed_precondition for an unknown policy or bad parameters. */
  decide(scheduler: Scheduler, rooms: readonly GameRoom[], now: Date): AutoscaleDecision {
    const { autoscaling, policy } = this.policyOf(scheduler);
    if (isStateful(policy)) {
      throw new MaestroError("failed_precondition", `policy ${policy.type} decides asynchronously (use evaluate)`);
    }
    const snapshot = snapshotOf(rooms, scheduler.matchAllocation.maxMatches);
    const wanted = policy.desiredRooms(snapshot, autoscaling.policy);
    const desired = clamp(wanted, autoscaling.min, autoscaling.max);
    if (!policy.canDownscale(snapshot, autoscaling.policy, desired)) {
      return { desired, canDownscale: false, heldBack: `policy ${policy.type} holds the downscale` };
    }
    const last = scheduler.lastDownscaleAt?.getTime() ?? 0;
    const cooldownEnds = last + autoscaling.cooldown * 1000;
    if (now.getTime() < cooldownEnds) {
      const wait = Math.ceil((cooldownEnds - now.getTime()) / 1000);
      return { desired, canDownscale: false, heldBack: `downscale cooldown: ${wait}s left` };
    }
    return { desired, canDownscale: true };
  }

  private policyOf(scheduler: Scheduler) {
    const autoscaling = scheduler.autoscaling;
    if (!autoscaling?.enabled)
      throw new MaestroError("failed_precondition", `scheduler ${scheduler.name} is not autoscaled`);
    const policy = this.policies.get(autoscaling.policy.type);
    if (!policy) {
      throw new MaestroError(
        "failed_precondition",
        `unknown autoscaling policy ${JSON.stringify(autoscaling.policy.type)}`,
      );
    }
    return { autoscaling, policy };
  }
}

/** Maestro's clamp: at least min, at most max unless max is -1 (unlimited). */
export function clamp(value: number, min: number, max: number): number {
  const low = Math.max(value, min);
  return max === -1 ? low : Math.min(low, max);
}
