import type { Scheduler } from "../../entities/scheduler.js";
import { assertValidScheduler, type SchedulerTypes } from "../../entities/scheduler-validation.js";
import { type FieldViolation, MaestroError } from "../../errors.js";

/** A scheduler as operation input holds it: plain JSON, dates as ISO strings, no undefined keys. */
export type SchedulerJson = Record<string, unknown>;

/**
 * The scheduler in the form an operation input keeps. Inputs are stored and shown by the API as JSON, where a Date
 * object would turn into `{}`, so dates travel as ISO strings.
 */
export function schedulerToJson(scheduler: Scheduler): SchedulerJson {
  return JSON.parse(JSON.stringify(scheduler)) as SchedulerJson;
}

/**
 * Reads a scheduler back from operation input (JSON from storage or a caller): checks the shape, revives the dates
 * and applies every scheduler rule. Throws invalid_argument naming the fields, under `field`.
 */
export function schedulerFromJson(value: unknown, field = "scheduler", types?: SchedulerTypes): Scheduler {
  if (!isObject(value)) throw MaestroError.invalid([{ field, message: "must be a scheduler object" }]);
  const violations: FieldViolation[] = [];
  if (!isObject(value.spec)) violations.push({ field: `${field}.spec`, message: "must be an object" });
  else if (!Array.isArray(value.spec.containers)) {
    violations.push({ field: `${field}.spec.containers`, message: "must be an array" });
  }
  for (const key of ["forwarders"] as const) {
    if (value[key] !== undefined && !Array.isArray(value[key])) {
      violations.push({ field: `${field}.${key}`, message: "must be an array" });
    }
  }
  for (const key of ["annotations", "labels", "portRange", "autoscaling", "matchAllocation"] as const) {
    if (value[key] !== undefined && value[key] !== null && !isObject(value[key])) {
      violations.push({ field: `${field}.${key}`, message: "must be an object" });
    }
  }
  const createdAt = reviveDate(value.createdAt);
  if (createdAt === undefined) violations.push({ field: `${field}.createdAt`, message: "must be an ISO date" });
  const lastDownscaleAt = value.lastDownscaleAt == null ? undefined : reviveDate(value.lastDownscaleAt);
  if (value.lastDownscaleAt != null && lastDownscaleAt === undefined) {
    violations.push({ field: `${field}.lastDownscaleAt`, message: "must be an ISO date" });
  }
  if (violations.length > 0) throw MaestroError.invalid(violations);

  const scheduler = {
    ...structuredClone(value),
    forwarders: value.forwarders ?? [],
    annotations: value.annotations ?? {},
    labels: value.labels ?? {},
    createdAt,
    lastDownscaleAt,
  } as unknown as Scheduler;
  assertValidScheduler(scheduler, types);
  return scheduler;
}

function reviveDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : new Date(value.getTime());
  if (typeof value !== "string") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Date);
}
