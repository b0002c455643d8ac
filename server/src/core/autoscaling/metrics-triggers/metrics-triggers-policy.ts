import { type RoomUsage, resourceUtilization } from "../../entities/room-usage.js";
import type { MetricsTriggers, MetricsTriggerType, Scheduler } from "../../entities/scheduler.js";
import { MaestroError } from "../../errors.js";
import type { CallOptions } from "../../ports/call-options.js";
import type { ScalePointStorage } from "../../ports/scale-points.js";
import type { PolicyContext, PolicyDecision, RoomsSnapshot, StatefulPolicy } from "../policy.js";
import { decideTriggers, measuredType, triggerCapacity } from "./decide.js";

export const METRICS_TRIGGERS = "metricsTriggers";

/** Points kept per type even when no trigger needs that many, so the dashboard can draw the last minutes. */
const HISTORY_POINTS = 60;

export interface MetricsTriggersDeps {
  points: ScalePointStorage;
  /** The runtime's per-room usage; resolves to [] when the runtime cannot measure rooms. */
  usage: (scheduler: Scheduler, opts: CallOptions) => Promise<RoomUsage[]>;
}

/**
 * Maestro v9's autoscaler as a policy: every health-controller run records room, cpu and memory utilization as points
 * (one list per type, shared by up and down triggers), then `decideTriggers` picks the scale.
 */
export class MetricsTriggersPolicy implements StatefulPolicy {
  readonly type = METRICS_TRIGGERS;

  private deps: MetricsTriggersDeps | undefined;

  /**
   * @param periodMs the health-controller period: one point per run, so a trigger's `time` spans ⌊time / period⌋
   * points.
   */
  constructor(
    private readonly periodMs: number,
    deps?: MetricsTriggersDeps,
  ) {
    this.deps = deps;
  }

  /** Storage and runtime open after plugins load; the policy is registered first so no plugin can take its name. */
  attach(deps: MetricsTriggersDeps): void {
    this.deps = deps;
  }

  async decide(ctx: PolicyContext, opts: CallOptions): Promise<PolicyDecision> {
    const deps = this.deps;
    if (!deps) throw new MaestroError("unavailable", "metricsTriggers policy has no point storage yet");
    const { scheduler, available, now } = ctx;
    const autoscaling = scheduler.autoscaling;
    const params = autoscaling?.policy.parameters.metricsTriggers;
    if (!autoscaling || !params) {
      throw new MaestroError("failed_precondition", "metricsTriggers needs parameters.metricsTriggers");
    }
    const periodSeconds = this.periodMs / 1000;
    // A runtime that cannot measure now (kubelet unreachable) silences cpu and memory triggers for this run only;
    // room triggers and the min/max correction still act.
    const usages = await deps.usage(scheduler, opts).catch((err: unknown) => {
      if (opts.signal?.aborted) throw err;
      return [];
    });
    const utilization = currentUtilization(ctx.rooms, available, usages);
    const keep = pointsToKeep(params, periodSeconds);
    const points: Partial<Record<MetricsTriggerType, number[]>> = {};
    for (const type of ["room", "cpu", "memory"] as const) {
      const value = utilization[type];
      const count = keep[type];
      if (value !== undefined) {
        await deps.points.addPoint(scheduler.name, type, { value, at: now }, count, this.periodMs / 2, opts);
      }
      points[type] = (await deps.points.points(scheduler.name, type, count, opts)).map((p) => p.value);
    }
    // v9 recorded points in every state but decided nothing while the scheduler was being created or deleted.
    if (scheduler.state === "creating" || scheduler.state === "terminating") {
      return { desired: available, canDownscale: false, reason: `scheduler is ${scheduler.state}` };
    }
    const last = await deps.points.lastScaleAt(scheduler.name, opts);
    const decision = decideTriggers({
      available,
      inUse: ctx.rooms.runningMatches / ctx.rooms.maxMatches,
      min: autoscaling.min,
      max: autoscaling.max,
      params,
      utilization,
      points,
      periodSeconds,
      nowMs: now.getTime(),
      // Like v9, a scheduler counts as scaled when it was created: the first trigger waits one cooldown.
      lastScaleAtMs: (last ?? scheduler.createdAt).getTime(),
    });
    const byTrigger = typeof decision.by === "object";
    return {
      desired: available + decision.delta,
      canDownscale: decision.delta < 0,
      heldBack: decision.delta < 0 ? undefined : decision.reason,
      reason: decision.reason,
      // Only trigger scales start the cooldowns (v9 did not count min/max corrections either).
      scaled: byTrigger ? (o) => deps.points.setLastScaleAt(scheduler.name, now, o) : undefined,
    };
  }
}

/**
 * Utilization per measured type. Room: match slots in use over the slots of the available rooms, which is v9's
 * occupied / available when rooms hold one match. With no available rooms v9 computed 0/0 = NaN and never fired;
 * nothing in use out of nothing is 0 here.
 */
export function currentUtilization(
  rooms: RoomsSnapshot,
  available: number,
  usages: readonly RoomUsage[],
): Partial<Record<MetricsTriggerType, number>> {
  const slots = available * rooms.maxMatches;
  const out: Partial<Record<MetricsTriggerType, number>> = { room: slots > 0 ? rooms.runningMatches / slots : 0 };
  const cpu = resourceUtilization(usages, "cpu");
  const memory = resourceUtilization(usages, "memory");
  if (cpu !== undefined) out.cpu = cpu;
  if (memory !== undefined) out.memory = memory;
  return out;
}

/**
 * Points to keep per type: one more than the longest window among that type's triggers, up or down. v9 meant to keep
 * the longer window but let a down trigger's time always win, which could make an up threshold unreachable.
 */
export function pointsToKeep(
  params: MetricsTriggers,
  periodSeconds: number,
): Record<"room" | "cpu" | "memory", number> {
  const keep = { room: HISTORY_POINTS, cpu: HISTORY_POINTS, memory: HISTORY_POINTS };
  for (const trigger of [...(params.up?.triggers ?? []), ...(params.down?.triggers ?? [])]) {
    const type = measuredType(trigger.type);
    keep[type] = Math.max(keep[type], triggerCapacity(trigger, periodSeconds) + 1);
  }
  return keep;
}
