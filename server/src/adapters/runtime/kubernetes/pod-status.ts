import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { Instance, InstanceAddress, InstanceStatusType } from "../../../core/entities/game-room.js";
import { crashLine } from "../crash-line.js";

/** Container waiting reasons that mean the room will not start without someone changing something (Maestro #677). */
const failedWaitingReasons = new Set([
  "ErrImageNeverPull",
  "ErrImagePullBackOff",
  "ImagePullBackOff",
  "ErrInvalidImageName",
  "ErrImagePull",
  "CrashLoopBackOff",
  "RunContainerError",
  "ContainerStatusUnknown",
]);

export interface PodInstanceStatus {
  type: InstanceStatusType;
  description: string;
}

function describe(reason: string | undefined, message: string | undefined): string {
  return [reason, message].filter((s) => s !== undefined && s !== "").join(": ");
}

/**
 * Why a container that ended badly did, as the process runtime says it: `exit code 1: <the line naming the error>`.
 * The line comes from the termination message, which the kubelet fills with the end of the log (pods are built with
 * FallbackToLogsOnError); a reason other than the plain "Error" (OOMKilled) is said too.
 */
function describeExit(terminated: { exitCode: number; reason?: string; message?: string; signal?: number }): string {
  const reason = terminated.reason && terminated.reason !== "Error" ? ` (${terminated.reason})` : "";
  const line = terminated.message ? crashLine(terminated.message) : "";
  return `exit code ${terminated.exitCode}${reason}${line ? `: ${line}` : ""}`;
}

/** A container that ended with a failure, if any: what makes a Failed pod failed when the pod gives no reason. */
function failedContainer(pod: V1Pod) {
  return pod.status?.containerStatuses
    ?.map((c) => c.state?.terminated)
    .find((t) => t !== undefined && t.exitCode !== 0 && t.reason !== "Completed");
}

/** Maestro's convertPodStatus, in its order: the first rule that matches wins. */
export function convertPodStatus(pod: V1Pod): PodInstanceStatus {
  if (pod.metadata?.deletionTimestamp) return { type: "terminating", description: "" };
  const status = pod.status;
  const phase = status?.phase;
  if (phase === "Succeeded") return { type: "terminating", description: "" };
  if (phase === "Failed" || phase === "Unknown") {
    const exited = failedContainer(pod);
    return {
      type: "error",
      description:
        describe(status?.reason, status?.message) || (exited && describeExit(exited)) || `pod phase ${phase}`,
    };
  }
  for (const container of status?.containerStatuses ?? []) {
    const waiting = container.state?.waiting;
    if (waiting?.reason && failedWaitingReasons.has(waiting.reason)) {
      return { type: "error", description: describe(waiting.reason, waiting.message) };
    }
    const terminated = container.state?.terminated;
    if (terminated) {
      if (terminated.exitCode === 0 || terminated.reason === "Completed")
        return { type: "terminating", description: "" };
      return { type: "error", description: describeExit(terminated) };
    }
  }
  for (const condition of status?.conditions ?? []) {
    if (condition.status === "False") {
      return { type: "pending", description: describe(condition.reason, condition.message) };
    }
  }
  if (status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) {
    return { type: "ready", description: "" };
  }
  if (phase === "Pending" || phase === undefined) return { type: "pending", description: "" };
  if (phase === "Running") return { type: "ready", description: "" };
  return { type: "error", description: `unexpected pod phase ${phase}` };
}

/** Public address types in Maestro's order of preference: what clients outside the cluster can reach first. */
const addressPreference = ["ExternalDNS", "ExternalIP", "InternalDNS", "InternalIP"] as const;

/** The node address rooms are reached at, or undefined when the node has none Maestro would use. */
export function nodeAddress(node: V1Node): string | undefined {
  const addresses = node.status?.addresses ?? [];
  for (const type of addressPreference) {
    const found = addresses.find((a) => a.type === type && a.address !== "");
    if (found) return found.address;
  }
  return undefined;
}

/** Host ports of the pod's containers, as the instance's address ports. */
export function podPorts(pod: V1Pod): InstanceAddress["ports"] {
  return (pod.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => p.hostPort !== undefined && p.hostPort !== 0)
      .map((p) => ({ name: p.name ?? "", port: p.hostPort as number, protocol: (p.protocol ?? "TCP").toLowerCase() })),
  );
}

/**
 * A pod as Maestro sees it. The address always carries the host ports (they are allocated before the pod exists and
 * released from it); its host stays empty until the pod is on a node with a usable address.
 */
export function podToInstance(pod: V1Pod, node: V1Node | undefined): Instance {
  const status = convertPodStatus(pod);
  const host = node ? nodeAddress(node) : undefined;
  if (status.type === "ready" && pod.spec?.nodeName && node && host === undefined) {
    status.type = "error";
    status.description = `node ${pod.spec.nodeName} has no public address`;
  }
  return {
    id: pod.metadata?.name ?? "",
    schedulerName: pod.metadata?.namespace ?? "",
    status,
    address: { host: host ?? "", ports: podPorts(pod) },
    resourceVersion: pod.metadata?.resourceVersion,
  };
}
