import { MaestroError } from "../errors.js";
import type { AutoscalingPolicyImpl } from "./policy.js";

/** Maestro's fixedBuffer: always `amount` rooms beyond those in use (occupied + allocated). */
export const fixedBufferPolicy: AutoscalingPolicyImpl = {
  type: "fixedBuffer",
  desiredRooms(rooms, config) {
    return rooms.byStatus.occupied + rooms.byStatus.allocated + amount(config);
  },
  canDownscale(rooms, _config, desired) {
    return rooms.total - rooms.byStatus.terminating - rooms.byStatus.error > desired;
  },
};

function amount(config: { parameters: { fixedBuffer?: { amount: number } | undefined } }): number {
  const a = config.parameters.fixedBuffer?.amount;
  if (a === undefined || !Number.isInteger(a) || a < 1) {
    throw new MaestroError("failed_precondition", "fixedBuffer needs parameters.fixedBuffer.amount, an integer ≥ 1");
  }
  return a;
}
