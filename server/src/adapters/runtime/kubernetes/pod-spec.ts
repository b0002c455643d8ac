import type { V1Container, V1EnvVar, V1Pod, V1ResourceRequirements } from "@kubernetes/client-node";
import type { GameRoom } from "../../../core/entities/game-room.js";
import type { Container, ContainerResources, Scheduler } from "../../../core/entities/scheduler.js";
import { type FieldViolation, MaestroError } from "../../../core/errors.js";
import type { AllocatedPort, RoomEnvironment } from "../../../core/ports/runtime.js";
import { portVariableName } from "../process/room-env.js";

/** Labels Maestro puts on everything it creates; the watcher and portsInUse select on the first one. */
export const HERITAGE_LABEL = "heritage";
export const HERITAGE_VALUE = "maestro";
export const SCHEDULER_LABEL = "maestro-scheduler";
export const VERSION_LABEL = "version";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

/** Things the API server would refuse anyway, caught before a request so the message names our field. */
export function validatePodInputs(scheduler: Scheduler, ports: readonly AllocatedPort[]): void {
  const violations: FieldViolation[] = [];
  if (scheduler.spec.containers.length === 0) {
    violations.push({ field: "spec.containers", message: "at least one container is needed" });
  }
  scheduler.spec.containers.forEach((c, i) => {
    if (c.image === "") violations.push({ field: `spec.containers[${i}].image`, message: "an image is required" });
    c.ports.forEach((p, j) => {
      if (p.protocol === "sctp") {
        violations.push({ field: `spec.containers[${i}].ports[${j}].protocol`, message: "sctp is not supported" });
      }
    });
  });
  for (const port of ports) {
    if (port.protocol === "sctp") violations.push({ field: `ports.${port.name}`, message: "sctp is not supported" });
  }
  if (violations.length > 0) throw MaestroError.invalid(violations);
}

function resources(requests: ContainerResources, limits: ContainerResources): V1ResourceRequirements | undefined {
  const pick = (r: ContainerResources) => {
    const out: Record<string, string> = {};
    if (r.cpu) out.cpu = r.cpu;
    if (r.memory) out.memory = r.memory;
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const req = pick(requests);
  const lim = pick(limits);
  if (!req && !lim) return undefined;
  return { ...(req ? { requests: req } : {}), ...(lim ? { limits: lim } : {}) };
}

function containerEnv(
  container: Container,
  scheduler: Scheduler,
  room: GameRoom,
  ports: readonly AllocatedPort[],
  env: RoomEnvironment,
): V1EnvVar[] {
  const vars: V1EnvVar[] = container.environment.map((v) => {
    if (v.valueFrom?.fieldRef)
      return { name: v.name, valueFrom: { fieldRef: { fieldPath: v.valueFrom.fieldRef.fieldPath } } };
    if (v.valueFrom?.secretKeyRef) {
      const { name, key } = v.valueFrom.secretKeyRef;
      return { name: v.name, valueFrom: { secretKeyRef: { name, key } } };
    }
    return { name: v.name, value: v.value ?? "" };
  });
  const own = new Set(vars.map((v) => v.name));
  // Maestro's example rooms read ROOMS_API_ADDRESS; a scheduler that sets it itself wins (as in the process runtime).
  if (!own.has("ROOMS_API_ADDRESS")) vars.push({ name: "ROOMS_API_ADDRESS", value: env.roomsApiUrl });
  const fixed: V1EnvVar[] = [
    { name: "MAESTRO_SCHEDULER_NAME", value: scheduler.name },
    { name: "MAESTRO_ROOM_ID", value: room.id },
    { name: "MAESTRO_ROOMS_API_URL", value: env.roomsApiUrl },
    { name: "MAESTRO_ROOM_TOKEN", value: env.roomToken },
    // The port to listen on inside the pod: the node's hostPort is mapped onto the declared container port.
    ...ports.map((p) => ({ name: portVariableName(p.name), value: String(p.containerPort) })),
  ];
  // Maestro's own variables win over a user variable of the same name: a room must not be able to pose as another.
  const fixedNames = new Set(fixed.map((v) => v.name));
  return [...vars.filter((v) => !fixedNames.has(v.name)), ...fixed];
}

/** Maestro's convertGameRoomSpec: one pod per room, named after the room, in the scheduler's namespace. */
export function buildPod(
  scheduler: Scheduler,
  room: GameRoom,
  ports: readonly AllocatedPort[],
  env: RoomEnvironment,
): V1Pod {
  const spec = scheduler.spec;
  const containers: V1Container[] = spec.containers.map((c) => {
    const mine = ports.filter((p) => c.ports.some((cp) => cp.name === p.name));
    const res = resources(c.requests, c.limits);
    return {
      name: c.name,
      image: c.image,
      imagePullPolicy: c.imagePullPolicy,
      ...(c.command.length > 0 ? { command: c.command } : {}),
      env: containerEnv(c, scheduler, room, ports, env),
      ports: mine.map((p) => ({
        name: p.name,
        protocol: p.protocol.toUpperCase(),
        containerPort: p.containerPort,
        hostPort: p.hostPort,
      })),
      ...(res ? { resources: res } : {}),
      // A room that crashes says why in its last lines: the kubelet copies them into the container's status, and so
      // into the room's status description.
      terminationMessagePolicy: "FallbackToLogsOnError",
    };
  });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: room.id,
      namespace: scheduler.name,
      // The scheduler's labels first: the watcher and the disruption budget select on ours, so they cannot be replaced.
      labels: {
        ...scheduler.labels,
        [HERITAGE_LABEL]: HERITAGE_VALUE,
        [SCHEDULER_LABEL]: scheduler.name,
        [VERSION_LABEL]: room.version,
      },
      annotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "true", ...scheduler.annotations },
    },
    spec: {
      containers,
      restartPolicy: spec.restartPolicy || "Never",
      // 0 means "not set" in Maestro's spec, which leaves the Kubernetes default (30 s).
      ...(spec.terminationGracePeriodSeconds > 0
        ? { terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds }
        : {}),
      ...(spec.toleration
        ? { tolerations: [{ key: "dedicated", operator: "Equal", value: spec.toleration, effect: "NoSchedule" }] }
        : {}),
      ...(spec.affinity
        ? {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: spec.affinity, operator: "In", values: ["true"] }] }],
                },
              },
            },
          }
        : {}),
    },
  };
}
