import type { V1Node, V1Pod, V1PodStatus } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { minAvailable } from "../../src/adapters/runtime/kubernetes/disruption-budget.js";
import { tailBytes } from "../../src/adapters/runtime/kubernetes/pod-log.js";
import { buildPod, validatePodInputs } from "../../src/adapters/runtime/kubernetes/pod-spec.js";
import { convertPodStatus, nodeAddress, podToInstance } from "../../src/adapters/runtime/kubernetes/pod-status.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { GameRoom } from "../../src/core/entities/game-room.js";
import { isMaestroError } from "../../src/core/errors.js";
import { validContainer, validScheduler } from "../support/fixtures.js";

const pod = (status: V1PodStatus, deleting = false): V1Pod => ({
  metadata: { name: "r1", namespace: "s1", ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  status,
});
const waiting = (reason: string, message = "details"): V1PodStatus => ({
  phase: "Pending",
  containerStatuses: [
    { name: "game", image: "x", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason, message } } },
  ],
});
const terminated = (exitCode: number, reason?: string, message?: string, phase = "Running"): V1PodStatus => ({
  phase,
  containerStatuses: [
    {
      name: "game",
      image: "x",
      imageID: "",
      ready: false,
      restartCount: 0,
      state: { terminated: { exitCode, ...(reason ? { reason } : {}), ...(message ? { message } : {}) } },
    },
  ],
});

describe("convertPodStatus (Maestro's rules, first match wins)", () => {
  const cases: [string, V1Pod, string, string?][] = [
    ["a deletion timestamp", pod({ phase: "Running" }, true), "terminating"],
    ["phase Succeeded", pod({ phase: "Succeeded" }), "terminating"],
    [
      "phase Failed",
      pod({ phase: "Failed", reason: "Evicted", message: "low memory" }),
      "error",
      "Evicted: low memory",
    ],
    ["phase Unknown", pod({ phase: "Unknown" }), "error"],
    ["ErrImagePull", pod(waiting("ErrImagePull", "no such image")), "error", "ErrImagePull: no such image"],
    ["ImagePullBackOff", pod(waiting("ImagePullBackOff")), "error"],
    ["ErrInvalidImageName", pod(waiting("ErrInvalidImageName")), "error"],
    ["CrashLoopBackOff", pod(waiting("CrashLoopBackOff")), "error"],
    ["RunContainerError", pod(waiting("RunContainerError")), "error"],
    ["ContainerStatusUnknown", pod(waiting("ContainerStatusUnknown")), "error"],
    ["ErrImageNeverPull", pod(waiting("ErrImageNeverPull")), "error"],
    ["a harmless waiting reason", pod(waiting("ContainerCreating")), "pending"],
    ["a container that exited 0", pod(terminated(0)), "terminating"],
    ["a container Completed", pod(terminated(3, "Completed")), "terminating"],
    ["a container that failed", pod(terminated(2, "Error")), "error", "exit code 2"],
    ["a container killed for memory", pod(terminated(137, "OOMKilled")), "error", "exit code 137 (OOMKilled)"],
    [
      "a crashed container, with the end of its log as termination message",
      pod(terminated(1, "Error", "booting\nError: Cannot find module '/srv/gmae.js'\n\nNode.js v20.19.0\n")),
      "error",
      "exit code 1: Error: Cannot find module '/srv/gmae.js'",
    ],
    [
      "phase Failed without a reason of its own: its failed container's",
      pod(terminated(1, "Error", "panic: no config", "Failed")),
      "error",
      "exit code 1: panic: no config",
    ],
    ["phase Failed with nothing to say", pod({ phase: "Failed" }), "error", "pod phase Failed"],
    [
      "a False condition",
      pod({ phase: "Running", conditions: [{ type: "Ready", status: "False", reason: "NotReady", message: "probe" }] }),
      "pending",
      "NotReady: probe",
    ],
    ["Ready=True", pod({ phase: "Pending", conditions: [{ type: "Ready", status: "True" }] }), "ready"],
    ["phase Pending", pod({ phase: "Pending" }), "pending"],
    ["no status yet", { metadata: { name: "r1" } }, "pending"],
    ["phase Running", pod({ phase: "Running" }), "ready"],
    ["an unheard-of phase", pod({ phase: "Weird" }), "error"],
  ];
  it.each(cases)("%s", (_name, input, type, description) => {
    const status = convertPodStatus(input);
    expect(status.type).toBe(type);
    if (description !== undefined) expect(status.description).toBe(description);
  });

  it("an error in the waiting state wins over a terminated container listed after it", () => {
    const status = pod(waiting("ErrImagePull"));
    status.status?.containerStatuses?.push({
      name: "b",
      image: "x",
      imageID: "",
      ready: false,
      restartCount: 0,
      state: { terminated: { exitCode: 0 } },
    });
    expect(convertPodStatus(status).type).toBe("error");
  });
});

describe("node address", () => {
  const node = (...addresses: [string, string][]): V1Node => ({
    metadata: { name: "n" },
    status: { addresses: addresses.map(([type, address]) => ({ type, address })) },
  });
  it("prefers ExternalDNS, then ExternalIP, then InternalDNS, then InternalIP", () => {
    expect(nodeAddress(node(["InternalIP", "10.0.0.1"], ["ExternalIP", "1.2.3.4"], ["ExternalDNS", "n.example"]))).toBe(
      "n.example",
    );
    expect(nodeAddress(node(["InternalIP", "10.0.0.1"], ["ExternalIP", "1.2.3.4"], ["InternalDNS", "n.local"]))).toBe(
      "1.2.3.4",
    );
    expect(nodeAddress(node(["InternalIP", "10.0.0.1"], ["InternalDNS", "n.local"]))).toBe("n.local");
    expect(nodeAddress(node(["Hostname", "n"], ["InternalIP", "10.0.0.1"]))).toBe("10.0.0.1");
    expect(nodeAddress(node(["Hostname", "n"]))).toBeUndefined();
  });

  it("a ready pod on a node without a usable address is an error; its host ports are the address ports", () => {
    const p: V1Pod = {
      metadata: { name: "r1", namespace: "s1" },
      spec: {
        nodeName: "n",
        containers: [
          { name: "game", ports: [{ name: "game", containerPort: 7000, hostPort: 31000, protocol: "UDP" }] },
        ],
      },
      status: { phase: "Running" },
    };
    const instance = podToInstance(p, node(["Hostname", "n"]));
    expect(instance.status.type).toBe("error");
    expect(instance.address).toEqual({ host: "", ports: [{ name: "game", port: 31000, protocol: "udp" }] });
    expect(podToInstance(p, node(["ExternalIP", "1.2.3.4"])).address?.host).toBe("1.2.3.4");
  });
});

describe("pod spec", () => {
  const room: GameRoom = {
    id: "room-1",
    schedulerName: "game-a",
    version: "v1.2.0",
    status: "pending",
    pingStatus: "unknown",
    metadata: {},
    isValidationRoom: false,
    runningMatches: 0,
    createdAt: new Date(),
    lastPingAt: new Date(),
  };
  const scheduler = validScheduler({
    name: "game-a",
    labels: { team: "x", heritage: "someone-else" },
    annotations: { note: "hi" },
    spec: {
      terminationGracePeriodSeconds: 7,
      toleration: "game",
      affinity: "game-node",
      restartPolicy: "Never",
      containers: [
        validContainer({
          image: "game:1",
          command: [],
          environment: [
            { name: "PLAIN", value: "v" },
            { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            { name: "SECRET", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
            { name: "MAESTRO_ROOM_ID", value: "spoofed" },
          ],
        }),
      ],
    },
  });
  const ports = [{ name: "game", protocol: "tcp", containerPort: 7000, hostPort: 31234 }];
  const built = buildPod(scheduler, room, ports, { roomsApiUrl: "http://maestro:8070", roomToken: "tok" });

  it("carries Maestro's labels (not overridable), annotations, grace, toleration, affinity and restart policy", () => {
    expect(built.metadata?.name).toBe("room-1");
    expect(built.metadata?.namespace).toBe("game-a");
    expect(built.metadata?.labels).toEqual({
      team: "x",
      heritage: "maestro",
      "maestro-scheduler": "game-a",
      version: "v1.2.0",
    });
    expect(built.metadata?.annotations).toEqual({
      "cluster-autoscaler.kubernetes.io/safe-to-evict": "true",
      note: "hi",
    });
    expect(built.spec?.terminationGracePeriodSeconds).toBe(7);
    expect(built.spec?.restartPolicy).toBe("Never");
    expect(built.spec?.tolerations).toEqual([
      { key: "dedicated", operator: "Equal", value: "game", effect: "NoSchedule" },
    ]);
    expect(
      built.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]
        ?.matchExpressions,
    ).toEqual([{ key: "game-node", operator: "In", values: ["true"] }]);
  });

  it("maps ports to host ports, resources to quantities and keeps the image entrypoint without a command", () => {
    const c = built.spec?.containers[0];
    expect(c?.ports).toEqual([{ name: "game", protocol: "TCP", containerPort: 7000, hostPort: 31234 }]);
    expect(c?.resources).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
    expect(c?.command).toBeUndefined();
    expect(c?.image).toBe("game:1");
  });

  it("passes user env (value, fieldRef, secretKeyRef) and Maestro's variables, which a user cannot override", () => {
    const env = built.spec?.containers[0]?.env ?? [];
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    expect(byName.PLAIN).toEqual({ name: "PLAIN", value: "v" });
    expect(byName.NODE?.valueFrom?.fieldRef?.fieldPath).toBe("spec.nodeName");
    expect(byName.SECRET?.valueFrom?.secretKeyRef).toEqual({ name: "s", key: "k" });
    expect(byName.MAESTRO_ROOM_ID?.value).toBe("room-1");
    expect(env.filter((e) => e.name === "MAESTRO_ROOM_ID")).toHaveLength(1);
    expect(byName.MAESTRO_SCHEDULER_NAME?.value).toBe("game-a");
    expect(byName.MAESTRO_ROOMS_API_URL?.value).toBe("http://maestro:8070");
    expect(byName.MAESTRO_ROOM_TOKEN?.value).toBe("tok");
    // Where the room listens inside the pod; clients reach it on the node's host port 31234.
    expect(byName.MAESTRO_PORT_GAME?.value).toBe("7000");
  });

  it("refuses sctp before any request", () => {
    const sctp = validScheduler({
      spec: { containers: [validContainer({ ports: [{ name: "g", protocol: "sctp", port: 1 }] })] },
    });
    let caught: unknown;
    try {
      validatePodInputs(sctp, []);
    } catch (err) {
      caught = err;
    }
    expect(isMaestroError(caught, "invalid_argument")).toBe(true);
    expect((caught as Error).message).toContain("sctp");
  });
});

describe("disruption budget", () => {
  it("protects nothing under two rooms, then all but the safety share", () => {
    expect(minAvailable(0, 0.05)).toBe(0);
    expect(minAvailable(1, 0.05)).toBe(0);
    expect(minAvailable(2, 0.05)).toBe(1);
    expect(minAvailable(100, 0.05)).toBe(95);
    expect(minAvailable(10, 0.5)).toBe(5);
  });
});

describe("Kubernetes runtime settings", () => {
  it("read from MAESTRO_RUNTIME_KUBERNETES_* with defaults, and bad values are refused naming the setting", () => {
    const config = loadConfig({
      env: {
        MAESTRO_RUNTIME_KIND: "kubernetes",
        MAESTRO_RUNTIME_KUBERNETES_INCLUSTER: "true",
        MAESTRO_RUNTIME_KUBERNETES_QPS: "50",
      },
    });
    expect(config.runtime.kind).toBe("kubernetes");
    expect(config.runtime.kubernetes).toMatchObject({
      inCluster: true,
      qps: 50,
      burst: 200,
      kubeconfig: "",
      disruptionSafetyPercentage: 0.05,
    });
    let caught: unknown;
    try {
      loadConfig({ env: {}, overrides: { "runtime.kubernetes.disruptionSafetyPercentage": 1.5 } });
    } catch (err) {
      caught = err;
    }
    expect(isMaestroError(caught, "invalid_argument")).toBe(true);
    expect((caught as Error).message).toContain("runtime.kubernetes.disruptionSafetyPercentage");
  });
});

describe("kept log tails", () => {
  it("keep the end of a log within the byte bound, from a line start when one is in reach", () => {
    expect(tailBytes("a\nb\n", 100)).toBe("a\nb\n");
    expect(tailBytes(`${"x".repeat(50)}\nlast line\n`, 20)).toBe("last line\n");
    // No line start in reach: the bytes themselves, never half a character.
    expect(tailBytes("ééééé", 5)).toBe("éé");
  });
});
