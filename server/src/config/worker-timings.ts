import type { MaestroConfig } from "./schema.js";

/** Lease and ownership timings with the derived defaults (0 in the config) filled in. */
export interface WorkerTimings {
  operationLeaseTtlMs: number;
  operationLeaseRenewIntervalMs: number;
  leaseRecoveryIntervalMs: number;
  ownershipTtlMs: number;
  ownershipRenewIntervalMs: number;
}

export function workerTimings(workers: MaestroConfig["workers"]): WorkerTimings {
  return {
    operationLeaseTtlMs: workers.operationLeaseTtlMs,
    operationLeaseRenewIntervalMs: workers.operationLeaseRenewIntervalMs || Math.ceil(workers.operationLeaseTtlMs / 3),
    leaseRecoveryIntervalMs: workers.leaseRecoveryIntervalMs || workers.operationLeaseTtlMs,
    ownershipTtlMs: workers.ownershipTtlMs,
    ownershipRenewIntervalMs: workers.ownershipRenewIntervalMs || Math.ceil(workers.ownershipTtlMs / 3),
  };
}

/**
 * Combinations of worker timings that would break the lease guarantees, each as a line naming the settings. An
 * operation lease must expire before the scheduler claim does, so that the replica taking a scheduler over finds the
 * dead owner's operation leases already expired and recovers them at once; a renewal interval at or above its TTL
 * lets the lease lapse between two renewals while its holder is healthy.
 */
export function workerTimingProblems(workers: MaestroConfig["workers"]): string[] {
  const t = workerTimings(workers);
  const problems: string[] = [];
  if (t.operationLeaseTtlMs >= t.ownershipTtlMs) {
    problems.push(
      `workers.operationLeaseTtlMs (${t.operationLeaseTtlMs}) must be below workers.ownershipTtlMs (${t.ownershipTtlMs})`,
    );
  }
  if (t.operationLeaseRenewIntervalMs >= t.operationLeaseTtlMs) {
    problems.push(
      `workers.operationLeaseRenewIntervalMs (${t.operationLeaseRenewIntervalMs}) must be below workers.operationLeaseTtlMs (${t.operationLeaseTtlMs})`,
    );
  }
  if (t.ownershipRenewIntervalMs >= t.ownershipTtlMs) {
    problems.push(
      `workers.ownershipRenewIntervalMs (${t.ownershipRenewIntervalMs}) must be below workers.ownershipTtlMs (${t.ownershipTtlMs})`,
    );
  }
  return problems;
}
