import { MaestroError } from "../errors.js";
import type { AutoscalingPolicyImpl, RoomsSnapshot } from "./policy.js";

/**
 * Maestro's roomOccupancy: keep `readyTarget` of all match slots free. desiredMatches = ⌈running / (1 − readyTarget)⌉,
 * desiredRooms = ⌈desiredMatches / maxMatches⌉. A downscale is allowed only while the free slots the target wants are
 * at most `downThreshold` of the free slots there are (so small dips do not flap the fleet).
 */
export const roomOccupancyPolicy: AutoscalingPolicyImpl = {
  type: "roomOccupancy",
  desiredRooms(rooms, config) {
    const { readyTarget } = params(config);
    const desiredMatches = ceil(rooms.runningMatches / (1 - readyTarget));
    return ceil(desiredMatches / rooms.maxMatches);
  },
  canDownscale(rooms, config, desired) {
    const { readyTarget, downThreshold } = params(config);
    const free = freeSlots(rooms);
    if (free <= 0) return false;
    const desiredFree = ceil(desired * rooms.maxMatches * readyTarget);
    return desiredFree / free <= downThreshold;
  },
};

function freeSlots(rooms: RoomsSnapshot): number {
  const s = rooms.byStatus;
  return (s.ready + s.active + s.occupied + s.allocated) * rooms.maxMatches - rooms.runningMatches;
}

function params(config: {
  parameters: { roomOccupancy?: { readyTarget: number; downThreshold: number } | undefined };
}) {
  const p = config.parameters.roomOccupancy;
  if (!p || !(p.readyTarget > 0 && p.readyTarget < 1) || !(p.downThreshold > 0 && p.downThreshold < 1)) {
    throw new MaestroError(
      "failed_precondition",
      "roomOccupancy needs parameters.roomOccupancy with 0 < readyTarget < 1 and 0 < downThreshold < 1",
    );
  }
  return p;
}

/** Ceiling that ignores binary floating-point noise: 1 / (1 − 0.9) is 10.000000000000002, and must give 10. */
function ceil(x: number): number {
  return Math.ceil(x - 1e-9);
}
