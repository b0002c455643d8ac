import type { V1Pod } from "@kubernetes/client-node";
import { parseQuantity } from "../../../core/entities/scheduler-validation.js";

/** What a pod uses, in the units of RoomUsage. */
export interface PodUsage {
  cpuMillicores: number;
  memoryBytes: number;
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/**
 * Pods' usage from a kubelet summary (`/api/v1/nodes/<node>/proxy/stats/summary`), keyed `namespace/name`. CPU is the
 * pod's usageNanoCores, memory its working set (what metrics-server, hence v9's metrics API, reports); a pod without
 * pod-level figures is the sum of its containers'. Pods the kubelet has no CPU figure for yet are left out.
 */
export function parseKubeletSummary(summary: unknown): Map<string, PodUsage> {
  const out = new Map<string, PodUsage>();
  const pods = isObj(summary) && Array.isArray(summary.pods) ? summary.pods : [];
  for (const pod of pods) {
    if (!isObj(pod) || !isObj(pod.podRef)) continue;
    const { name, namespace } = pod.podRef;
    if (typeof name !== "string" || typeof namespace !== "string") continue;
    const containers = Array.isArray(pod.containers) ? pod.containers.filter(isObj) : [];
    const cpuNano = nanoCores(pod.cpu) ?? sum(containers.map((c) => nanoCores(c.cpu)));
    const memory = workingSet(pod.memory) ?? sum(containers.map((c) => workingSet(c.memory)));
    if (cpuNano === undefined) continue;
    out.set(`${namespace}/${name}`, { cpuMillicores: cpuNano / 1e6, memoryBytes: memory ?? 0 });
  }
  return out;
}

function nanoCores(cpu: unknown): number | undefined {
  return isObj(cpu) ? num(cpu.usageNanoCores) : undefined;
}

function workingSet(memory: unknown): number | undefined {
  return isObj(memory) ? num(memory.workingSetBytes) : undefined;
}

/** Sum of the defined values, or undefined when none is. */
function sum(values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length > 0 ? defined.reduce((a, b) => a + b, 0) : undefined;
}

/** Pods' usage from a metrics.k8s.io PodMetricsList (quantities such as "1234567n" and "24512Ki"), keyed `ns/name`. */
export function parsePodMetricsList(list: unknown): Map<string, PodUsage> {
  const out = new Map<string, PodUsage>();
  const items = isObj(list) && Array.isArray(list.items) ? list.items : [];
  for (const item of items) {
    if (!isObj(item) || !isObj(item.metadata)) continue;
    const { name, namespace } = item.metadata;
    if (typeof name !== "string" || typeof namespace !== "string") continue;
    let cpu = 0;
    let memory = 0;
    for (const c of Array.isArray(item.containers) ? item.containers : []) {
      const usage = isObj(c) && isObj(c.usage) ? c.usage : {};
      cpu += (parseQuantity(String(usage.cpu ?? "0")) ?? 0) * 1000;
      memory += parseQuantity(String(usage.memory ?? "0")) ?? 0;
    }
    out.set(`${namespace}/${name}`, { cpuMillicores: cpu, memoryBytes: memory });
  }
  return out;
}

/** Σ of the pod's containers' requests, as v9 read them from each live pod's spec (not from the scheduler config). */
export function podRequests(pod: V1Pod): { cpuMillicores: number; memoryBytes: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of pod.spec?.containers ?? []) {
    const requests = c.resources?.requests ?? {};
    cpu += (parseQuantity(String(requests.cpu ?? "0")) ?? 0) * 1000;
    memory += parseQuantity(String(requests.memory ?? "0")) ?? 0;
  }
  return { cpuMillicores: cpu, memoryBytes: memory };
}
