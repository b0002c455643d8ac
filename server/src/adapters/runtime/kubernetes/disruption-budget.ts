import type { V1PodDisruptionBudget } from "@kubernetes/client-node";
import { SCHEDULER_LABEL } from "./pod-spec.js";

/**
 * Maestro's rule: with fewer than two rooms nothing is protected; otherwise all but the safety share must stay up.
 * `safety` is the share of rooms a drain may take (already clamped to [0.05, 1)).
 */
export function minAvailable(rooms: number, safety: number): number {
  if (rooms < 2) return 0;
  return Math.floor(rooms * (1 - safety));
}

/** The scheduler's PodDisruptionBudget, named after it and selecting its pods. */
export function disruptionBudget(namespace: string, min: number, managedByLabel: string): V1PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: namespace, namespace, labels: { [managedByLabel]: "maestro" } },
    spec: { minAvailable: min, selector: { matchLabels: { [SCHEDULER_LABEL]: namespace } } },
  };
}
