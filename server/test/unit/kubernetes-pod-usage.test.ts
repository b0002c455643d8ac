import { readFileSync } from "node:fs";
import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  parseKubeletSummary,
  parsePodMetricsList,
  podRequests,
} from "../../src/adapters/runtime/kubernetes/pod-usage.js";

// Shaped like a kubelet 1.3x `/stats/summary` (node and pod sections trimmed of fields we do not read, not renamed).
const summary = {
  node: {
    nodeName: "kind-worker",
    systemContainers: [{ name: "kubelet", cpu: { usageNanoCores: 21_000_000 } }],
    startTime: "2026-12-05T08:00:00Z",
    cpu: { time: "2026-12-05T10:30:00Z", usageNanoCores: 480_000_000, usageCoreNanoSeconds: 9_000_000_000_000 },
    memory: { time: "2026-12-05T10:30:00Z", availableBytes: 6e9, usageBytes: 2e9, workingSetBytes: 1.5e9 },
  },
  pods: [
    {
      podRef: { name: "game-a1b2c3d4", namespace: "game", uid: "0d1c2f6e-3b7a-4c1e-9f0a-1b2c3d4e5f60" },
      startTime: "2026-12-05T10:00:00Z",
      containers: [
        {
          name: "room",
          startTime: "2026-12-05T10:00:01Z",
          cpu: { time: "2026-12-05T10:30:00Z", usageNanoCores: 250_000_000, usageCoreNanoSeconds: 1_800_000_000_000 },
          memory: {
            time: "2026-12-05T10:30:00Z",
            usageBytes: 60_000_000,
            workingSetBytes: 52_428_800,
            rssBytes: 40_000_000,
            pageFaults: 12000,
            majorPageFaults: 3,
          },
          rootfs: { time: "2026-12-05T10:30:00Z", usedBytes: 24576 },
          logs: { time: "2026-12-05T10:30:00Z", usedBytes: 8192 },
        },
        {
          name: "sidecar",
          cpu: { time: "2026-12-05T10:30:00Z", usageNanoCores: 5_000_000, usageCoreNanoSeconds: 36_000_000_000 },
          memory: { time: "2026-12-05T10:30:00Z", usageBytes: 9_000_000, workingSetBytes: 8_388_608 },
        },
      ],
      cpu: { time: "2026-12-05T10:30:00Z", usageNanoCores: 256_000_000, usageCoreNanoSeconds: 1_836_000_000_000 },
      memory: { time: "2026-12-05T10:30:00Z", usageBytes: 70_000_000, workingSetBytes: 61_865_984 },
      network: { time: "2026-12-05T10:30:00Z", name: "eth0", rxBytes: 1000, txBytes: 2000 },
      "ephemeral-storage": { time: "2026-12-05T10:30:00Z", usedBytes: 32768 },
    },
    {
      // Older kubelets (and kwok) may give container figures only.
      podRef: { name: "game-e5f6a7b8", namespace: "game", uid: "1" },
      containers: [
        { name: "room", cpu: { usageNanoCores: 1_000_000 }, memory: { workingSetBytes: 10_485_760 } },
        { name: "sidecar", cpu: { usageNanoCores: 500_000 }, memory: { workingSetBytes: 1_048_576 } },
      ],
    },
    {
      // Just started: the kubelet has no CPU rate for it yet.
      podRef: { name: "game-00000000", namespace: "game", uid: "2" },
      containers: [{ name: "room", memory: { workingSetBytes: 1_000_000 } }],
    },
    {
      podRef: { name: "coredns-5d78c9869d-x", namespace: "kube-system", uid: "3" },
      cpu: { usageNanoCores: 3_000_000 },
    },
  ],
};

// Shaped like `GET /apis/metrics.k8s.io/v1beta1/namespaces/game/pods` from metrics-server 0.7.
const podMetrics = {
  kind: "PodMetricsList",
  apiVersion: "metrics.k8s.io/v1beta1",
  metadata: {},
  items: [
    {
      metadata: {
        name: "game-a1b2c3d4",
        namespace: "game",
        creationTimestamp: "2026-12-05T10:30:05Z",
        labels: { heritage: "maestro" },
      },
      timestamp: "2026-12-05T10:29:58Z",
      window: "10.282s",
      containers: [
        { name: "room", usage: { cpu: "249872314n", memory: "51200Ki" } },
        { name: "sidecar", usage: { cpu: "5m", memory: "8Mi" } },
      ],
    },
  ],
};

describe("kubelet summary", () => {
  it("reads pod CPU (usageNanoCores → millicores) and working set, summing containers when the pod has no totals", () => {
    const pods = parseKubeletSummary(summary);
    expect(pods.get("game/game-a1b2c3d4")).toEqual({ cpuMillicores: 256, memoryBytes: 61_865_984 });
    expect(pods.get("game/game-e5f6a7b8")).toEqual({ cpuMillicores: 1.5, memoryBytes: 11_534_336 });
    expect(pods.has("game/game-00000000")).toBe(false);
    expect(pods.get("kube-system/coredns-5d78c9869d-x")?.cpuMillicores).toBe(3);
  });

  it("reads a summary captured from a real kubelet (v1.36, containerd) for a room pod", () => {
    const real = JSON.parse(readFileSync(new URL("./kubelet-summary.real.json", import.meta.url), "utf8"));
    expect(parseKubeletSummary(real).get("real-e2e/real-e2e-ezm1y")).toEqual({
      cpuMillicores: 0.070701,
      memoryBytes: 14_774_272,
    });
  });

  it("reads nothing from a body that is not a summary", () => {
    expect(parseKubeletSummary({ kind: "Status", status: "Failure" }).size).toBe(0);
    expect(parseKubeletSummary(null).size).toBe(0);
  });
});

describe("metrics.k8s.io PodMetricsList", () => {
  it("sums the containers' quantities", () => {
    const pods = parsePodMetricsList(podMetrics);
    const pod = pods.get("game/game-a1b2c3d4");
    expect(pod?.cpuMillicores).toBeCloseTo(254.872314, 6);
    expect(pod?.memoryBytes).toBe(51200 * 1024 + 8 * 2 ** 20);
  });
});

describe("pod requests", () => {
  it("sums every container's requests; a container without requests adds nothing", () => {
    const pod: V1Pod = {
      spec: {
        containers: [
          { name: "room", resources: { requests: { cpu: "1", memory: "1Gi" } } },
          { name: "sidecar", resources: { requests: { cpu: "250m", memory: "64Mi" } } },
          { name: "bare" },
        ],
      },
    };
    expect(podRequests(pod)).toEqual({ cpuMillicores: 1250, memoryBytes: 2 ** 30 + 64 * 2 ** 20 });
  });
});
