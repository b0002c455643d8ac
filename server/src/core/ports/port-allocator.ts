import type { Scheduler } from "../entities/scheduler.js";
import type { CallOptions } from "./call-options.js";
import type { AllocatedPort } from "./runtime.js";

/**
 * Chooses host ports for a new room: one per declared container port, from the scheduler's portRange or each port's
 * hostPortRange, never one held by another live room. Throws resource_exhausted when a range has no free port left.
 */
export interface PortAllocator {
  allocate(scheduler: Scheduler, opts?: CallOptions): Promise<AllocatedPort[]>;
  /** Returns ports of a deleted room to the pool. */
  release(ports: readonly number[]): void;
}
