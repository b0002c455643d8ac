import {
  DEFAULT_TRIGGER_LIMIT,
  type MetricsTrigger,
  type MetricsTriggers,
  type MetricsTriggerType,
} from "../../entities/scheduler.js";

/** What one metricsTriggers decision looks at. Every number of rooms counts creating, ready and in-use rooms. */
export interface TriggerInput {
  /** Rooms that exist or are coming (Maestro v9's creating + occupied + ready; terminating and failed ones excluded). */
  available: number;
  /** Rooms in use, in room units (match slots in use / matches per room; v9's occupied). */
  inUse: number;
  min: number;
  /** -1 = unbounded. */
  max: number;
  params: MetricsTriggers;
  /** Current utilization per measured type as a fraction; a missing type cannot fire (no usage data). */
  utilization: Partial<Record<MetricsTriggerType, number>>;
  /** Newest-first points per measured type. */
  points: Partial<Record<MetricsTriggerType, readonly number[]>>;
  /** Seconds between two points (the health-controller period): a trigger's window holds ⌊time / period⌋ points. */
  periodSeconds: number;
  nowMs: number;
  /** Last autoscaler scale, shared by both directions' cooldowns. */
  lastScaleAtMs: number;
}

export interface TriggerDecision {
  /** Rooms to add (> 0) or remove (< 0), already clamped to min and max. */
  delta: number;
  /** The delta before clamping (v9's AUTO_SCALE_START amount). */
  wanted: number;
  /** Why, for the operation history. */
  reason: string;
  /** Which rule decided: min/max correction, a trigger, or none. */
  by?: { direction: "up" | "down"; index: number; type: MetricsTriggerType; limit: boolean } | "min" | "max";
}

/** Utilization and the triggers' types as stored points: `legacy` is measured like `room`. */
export function measuredType(type: MetricsTriggerType): Exclude<MetricsTriggerType, "legacy"> {
  return type === "legacy" ? "room" : type;
}

/** Points one trigger looks at: ⌊time / period⌋ (v9's capacity); it reads one more than that. */
export function triggerCapacity(trigger: MetricsTrigger, periodSeconds: number): number {
  return Math.floor(trigger.time / periodSeconds);
}

/**
 * Maestro v9's autoscaler decision (watcher checkState + checkMetricsTrigger), as one pure function:
 * min/max correction first, then up triggers in order (limit at once, else threshold over points, then up cooldown),
 * then, only when no up trigger fired, down triggers (threshold, down cooldown); the first trigger that fires and is out
 * of cooldown wins; the result is clamped like v9's SetScalingAmount.
 */
export function decideTriggers(input: TriggerInput): TriggerDecision {
  const { available, min, max } = input;
  if (available < min)
    return { delta: min - available, wanted: min - available, reason: `below min ${min}`, by: "min" };
  if (max !== -1 && available > max) {
    return { delta: max - available, wanted: max - available, reason: `above max ${max}`, by: "max" };
  }

  let upCooling: string | undefined;
  const up = input.params.up;
  if (up && (max === -1 || available < max)) {
    for (const [index, trigger] of up.triggers.entries()) {
      const u = input.utilization[measuredType(trigger.type)];
      if (u === undefined) continue;
      const limit = (trigger.limit ?? DEFAULT_TRIGGER_LIMIT) / 100;
      if (u >= limit) {
        const wanted = triggerDelta(trigger, input, u);
        return {
          delta: clampUp(wanted, input),
          wanted,
          reason: `${describe("up", index, trigger)}: usage ${pct(u)} at or above limit ${pct(limit)}`,
          by: { direction: "up", index, type: trigger.type, limit: true },
        };
      }
      if (!triggerFires(trigger, input, "up")) continue;
      const wanted = triggerDelta(trigger, input, u);
      // v9 treats a fired trigger as "not in sync" only when it wants rooms; a zero delta lets the next one try.
      if (wanted <= 0) continue;
      if (!(input.nowMs - input.lastScaleAtMs > up.cooldown * 1000)) {
        upCooling ??= `${describe("up", index, trigger)} wants +${wanted}, in cooldown`;
        continue;
      }
      return {
        delta: clampUp(wanted, input),
        wanted,
        reason: `${describe("up", index, trigger)}: ${pct(trigger.usage / 100)} exceeded over ${trigger.time}s`,
        by: { direction: "up", index, type: trigger.type, limit: false },
      };
    }
  }
  // A fired up trigger still cooling down holds every down trigger back, as in v9.
  if (upCooling) return { delta: 0, wanted: 0, reason: upCooling };

  let downCooling: string | undefined;
  const down = input.params.down;
  if (down && available > min) {
    for (const [index, trigger] of down.triggers.entries()) {
      const u = input.utilization[measuredType(trigger.type)];
      if (u === undefined || !triggerFires(trigger, input, "down")) continue;
      const wanted = triggerDelta(trigger, input, u, "down");
      if (wanted >= 0) continue;
      if (!(input.nowMs - input.lastScaleAtMs > down.cooldown * 1000)) {
        downCooling ??= `${describe("down", index, trigger)} wants ${wanted}, in cooldown`;
        continue;
      }
      return {
        delta: clampDown(wanted, input),
        wanted,
        reason: `${describe("down", index, trigger)}: under ${pct(trigger.usage / 100)} over ${trigger.time}s`,
        by: { direction: "down", index, type: trigger.type, limit: false },
      };
    }
  }
  return { delta: 0, wanted: 0, reason: downCooling ?? "in sync" };
}

/** v9's threshold rule: more than `threshold`% of the window's capacity beyond `usage` (strictly, both ways). */
export function triggerFires(
  trigger: MetricsTrigger,
  input: Pick<TriggerInput, "points" | "periodSeconds">,
  direction: "up" | "down",
): boolean {
  const capacity = triggerCapacity(trigger, input.periodSeconds);
  const points = (input.points[measuredType(trigger.type)] ?? []).slice(0, capacity + 1);
  const usage = trigger.usage / 100;
  const beyond = points.filter((p) => (direction === "up" ? p > usage : p < usage)).length;
  return beyond * 100 > trigger.threshold * capacity;
}

/** Rooms a trigger asks for at utilization `u`: the room formula, the resource formula, or legacy's fixed delta. */
export function triggerDelta(
  trigger: MetricsTrigger,
  input: Pick<TriggerInput, "available" | "inUse">,
  u: number,
  direction: "up" | "down" = "up",
): number {
  const target = trigger.usage / 100;
  switch (trigger.type) {
    case "legacy": {
      const d = trigger.delta ?? 1;
      return direction === "up" ? d : -d;
    }
    case "room":
      // Sizes the fleet so that inUse / (available + delta) comes back to the target.
      return roundHalfAwayFromZero((input.inUse - target * input.available) / target);
    case "cpu":
    case "memory": {
      const ratio = Math.round((u / target) * 100) / 100;
      return ceil(ratio * input.available) - input.available;
    }
  }
}

/** v9's SetScalingAmount for a scale-up: never past max, never short of min. */
function clampUp(delta: number, { available, min, max }: TriggerInput): number {
  if (max !== -1 && available >= max) return 0;
  let amount = delta;
  if (max !== -1 && available + amount > max) amount = max - available;
  if (available + amount < min) amount = min - available;
  return amount;
}

/** v9's scale-down clamp: never under min. */
function clampDown(delta: number, { available, min, max }: TriggerInput): number {
  if (available <= min) return 0;
  let amount = -delta;
  if (available - amount < min) amount = available - min;
  if (max !== -1 && available - amount > max) amount = available - max;
  return -amount;
}

/** Go's math.Round: halves go away from zero (JavaScript's Math.round sends -2.5 to -2). */
function roundHalfAwayFromZero(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** Ceiling that ignores binary floating-point noise (0.7 · 10 must give 7, not 8). */
function ceil(x: number): number {
  return Math.ceil(x - 1e-9);
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

function describe(direction: "up" | "down", index: number, trigger: MetricsTrigger): string {
  return `${direction} trigger ${index} (${trigger.type})`;
}
