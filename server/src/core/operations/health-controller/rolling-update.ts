import type { GameRoom, RoomStatusName } from "../../entities/game-room.js";
import { isSameMajor } from "../../entities/semver.js";

const serving: readonly RoomStatusName[] = ["ready", "occupied", "active", "allocated"];

/** Extra rooms allowed during a rolling update: `maxSurge` is a count ("3") or a share of the desired rooms ("25%"). */
export function surgeOf(maxSurge: string, desired: number): number {
  const pct = /^(\d+)%$/.exec(maxSurge.trim());
  const n = pct ? Math.ceil((Number(pct[1]) / 100) * desired) : Number.parseInt(maxSurge, 10);
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

export interface RollingStep {
  /** New-version rooms to create now. */
  add: number;
  /** Old-version rooms to remove now, most expendable first. */
  remove: GameRoom[];
}

/**
 * One step of replacing rooms of an older major version (Maestro's rolling update, with maxUnavailable 0 made strict):
 * new rooms are created up to `maxSurge` above the desired number, and an old room goes only when a new room is
 * serving in its place — pending or unready new rooms do not count, so capacity never drops below `desired`.
 * Returns undefined when no available room is of another major version (no rolling update in progress).
 */
export function rollingUpdateStep(
  available: readonly GameRoom[],
  activeVersion: string,
  desired: number,
  maxSurge: string,
  byDeletionPriority: (rooms: GameRoom[]) => GameRoom[],
): RollingStep | undefined {
  const old = available.filter((r) => !isSameMajor(r.version, activeVersion));
  if (old.length === 0) return undefined;
  const fresh = available.filter((r) => isSameMajor(r.version, activeVersion));
  const freshServing = fresh.filter((r) => serving.includes(r.status)).length;
  const ceiling = desired + surgeOf(maxSurge, desired);
  const add = Math.max(0, Math.min(ceiling - available.length, desired - fresh.length));
  const removable = Math.max(0, Math.min(old.length, freshServing + old.length - desired));
  return { add, remove: byDeletionPriority(old).slice(0, removable) };
}
