import type { Scheduler } from "./scheduler.js";
import { nextMajor, nextMinor } from "./semver.js";

/**
 * Fields whose change makes only a minor version: they do not alter what a room is, so running rooms are kept.
 * Everything else (the spec, port ranges, forwarders, annotations, labels and any field added later) is major.
 * occupiedTimeout is our addition from Maestro v9 and, like roomsReplicas, only affects how many rooms run.
 */
const minorFields = [
  "name",
  "game",
  "state",
  "rollbackVersion",
  "createdAt",
  "lastDownscaleAt",
  "maxSurge",
  "roomsReplicas",
  "autoscaling",
  "matchAllocation",
  "occupiedTimeout",
  "roomsCrashing",
] as const satisfies readonly (keyof Scheduler)[];

/**
 * Maestro's IsMajorVersion: true when `next` changes anything a room is made of. Unlike Maestro, restartPolicy is
 * persisted, so resubmitting an unchanged definition is not mistaken for a major change.
 */
export function isMajorChange(current: Scheduler, next: Scheduler): boolean {
  return !deepEqual(majorView(current), majorView(next));
}

/** Fields that say which version a definition is, not what it is: a resubmitted definition differs only in them. */
const identityFields = [
  "name",
  "game",
  "state",
  "rollbackVersion",
  "createdAt",
  "lastDownscaleAt",
  "roomsCrashing",
] as const satisfies readonly (keyof Scheduler)[];

/** True when `next` would make a version identical to `current` (what `apply` of an unchanged file sends). */
export function isSameDefinition(current: Scheduler, next: Scheduler): boolean {
  const view = (s: Scheduler) => {
    const v: Record<string, unknown> = { ...s, spec: { ...s.spec, version: undefined } };
    for (const field of identityFields) delete v[field];
    return v;
  };
  return deepEqual(view(current), view(next));
}

/**
 * Number of the version that follows `current`: a major change takes the greatest major among all versions plus one
 * (v3.0.0 after switching back to v1 while v2 exists), a minor one the greatest minor within current's major plus one.
 */
export function nextVersion(existing: readonly string[], current: string, major: boolean): string {
  const all = existing.includes(current) ? existing : [...existing, current];
  return major ? nextMajor(all) : nextMinor(all, current);
}

/**
 * Structural equality for domain values: arrays compare in order, objects by key whatever their key order, a key
 * holding undefined counts as absent (storage drops such keys), dates by instant.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = definedKeys(x);
  if (keys.length !== definedKeys(y).length) return false;
  return keys.every((k) => y[k] !== undefined && deepEqual(x[k], y[k]));
}

function definedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}

function majorView(s: Scheduler): Record<string, unknown> {
  const view: Record<string, unknown> = { ...s, spec: { ...s.spec, version: undefined } };
  for (const field of minorFields) delete view[field];
  return view;
}
