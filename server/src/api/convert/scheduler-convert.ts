import { create, type JsonObject } from "@bufbuild/protobuf";
import { type Duration, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type CreateSchedulerRequest,
  type OptionalAutoscaling,
  type OptionalContainer,
  type PatchSchedulerRequest,
  type Autoscaling as PbAutoscaling,
  type AutoscalingPolicy as PbAutoscalingPolicy,
  type Container as PbContainer,
  type ContainerEnvironment as PbContainerEnvironment,
  type ContainerPort as PbContainerPort,
  type Forwarder as PbForwarder,
  type MetricsTriggersDirection as PbMetricsTriggersDirection,
  type Scheduler as PbScheduler,
  type SchedulerVersion as PbSchedulerVersion,
  type Spec as PbSpec,
  SchedulerInfoSchema,
  SchedulerSchema,
  SchedulerVersionSchema,
  SchedulerWithoutSpecSchema,
} from "@maestro/proto";
import type {
  Autoscaling,
  Container,
  Forwarder,
  ImagePullPolicy,
  MetricsTriggersDirection,
  MetricsTriggerType,
  PortProtocol,
  RestartPolicy,
  RoomsCrashing,
  Scheduler,
  SchedulerInfo,
  SchedulerVersion,
  Spec,
} from "../../core/entities/scheduler.js";
import type { AutoscalingPatch, ContainerPatch, SchedulerPatch } from "../../core/entities/scheduler-patch.js";

/** Maestro's API defaults, applied where the request leaves a field out. */
const DEFAULT_MAX_MATCHES = 1;
const DEFAULT_RESTART_POLICY: RestartPolicy = "Never";
const DEFAULT_DOWN_THRESHOLD = 0.99;

type SchedulerFields = Pick<
  CreateSchedulerRequest,
  | "name"
  | "game"
  | "spec"
  | "portRange"
  | "maxSurge"
  | "roomsReplicas"
  | "autoscaling"
  | "forwarders"
  | "annotations"
  | "labels"
  | "matchAllocation"
  | "occupiedTimeout"
>;

/** Request → domain. Nothing is validated here: core validation reports every problem with its field path. */
export function schedulerFromRequest(req: SchedulerFields, now: Date): Scheduler {
  return {
    name: req.name,
    game: req.game,
    state: "creating",
    spec: specFromPb(req.spec),
    portRange: req.portRange ? { start: req.portRange.start, end: req.portRange.end } : undefined,
    maxSurge: req.maxSurge,
    roomsReplicas: req.roomsReplicas,
    autoscaling: req.autoscaling ? autoscalingFromPb(req.autoscaling) : undefined,
    forwarders: req.forwarders.map(forwarderFromPb),
    annotations: { ...req.annotations },
    labels: { ...req.labels },
    matchAllocation: { maxMatches: req.matchAllocation?.maxMatches || DEFAULT_MAX_MATCHES },
    occupiedTimeout: req.occupiedTimeout === undefined ? undefined : Number(req.occupiedTimeout),
    createdAt: now,
  };
}

function specFromPb(spec: PbSpec | undefined): Spec {
  return {
    version: spec?.version ?? "",
    terminationGracePeriodSeconds: durationSeconds(spec?.terminationGracePeriod),
    containers: (spec?.containers ?? []).map(containerFromPb),
    toleration: spec?.toleration ?? "",
    affinity: spec?.affinity ?? "",
    restartPolicy: (spec?.restartPolicy || DEFAULT_RESTART_POLICY) as RestartPolicy,
  };
}

function containerFromPb(c: PbContainer): Container {
  return {
    name: c.name,
    image: c.image,
    imagePullPolicy: c.imagePullPolicy as ImagePullPolicy,
    command: [...c.command],
    environment: c.environment.map(environmentFromPb),
    requests: { memory: c.requests?.memory ?? "", cpu: c.requests?.cpu ?? "" },
    limits: { memory: c.limits?.memory ?? "", cpu: c.limits?.cpu ?? "" },
    ports: c.ports.map(portFromPb),
  };
}

function environmentFromPb(e: PbContainerEnvironment): Container["environment"][number] {
  return {
    name: e.name,
    value: e.value,
    valueFrom: e.valueFrom && {
      fieldRef: e.valueFrom.fieldRef && { fieldPath: e.valueFrom.fieldRef.fieldPath },
      secretKeyRef: e.valueFrom.secretKeyRef && {
        name: e.valueFrom.secretKeyRef.name,
        key: e.valueFrom.secretKeyRef.key,
      },
    },
  };
}

function portFromPb(p: PbContainerPort): Container["ports"][number] {
  return {
    name: p.name,
    protocol: p.protocol as PortProtocol,
    port: p.port,
    hostPortRange: p.hostPortRange && { start: p.hostPortRange.start, end: p.hostPortRange.end },
  };
}

function autoscalingFromPb(a: PbAutoscaling): Autoscaling {
  return { enabled: a.enabled, min: a.min, max: a.max, cooldown: a.cooldown, policy: policyFromPb(a.policy) };
}

function policyFromPb(policy: PbAutoscalingPolicy | undefined): Autoscaling["policy"] {
  const ro = policy?.parameters?.roomOccupancy;
  const fb = policy?.parameters?.fixedBuffer;
  const custom = policy?.parameters?.custom;
  const mt = policy?.parameters?.metricsTriggers;
  return {
    type: policy?.type ?? "",
    parameters: {
      roomOccupancy: ro && { readyTarget: ro.readyTarget, downThreshold: ro.downThreshold ?? DEFAULT_DOWN_THRESHOLD },
      fixedBuffer: fb && { amount: fb.amount ?? 0 },
      custom: custom && { ...custom },
      metricsTriggers: mt && {
        up: mt.up && directionFromPb(mt.up),
        down: mt.down && directionFromPb(mt.down),
      },
    },
  };
}

function directionFromPb(d: PbMetricsTriggersDirection): MetricsTriggersDirection {
  return {
    cooldown: d.cooldown,
    triggers: d.triggers.map((t) => ({
      type: t.type as MetricsTriggerType,
      usage: t.usage,
      threshold: t.threshold,
      time: t.time,
      limit: t.limit,
      delta: t.delta,
    })),
  };
}

/**
 * PatchSchedulerRequest → domain patch. Presence follows proto3: `optional` fields are undefined when absent; repeated
 * and map fields cannot say "absent", so an empty one means "leave as is" (as the proto comments document).
 */
export function schedulerPatchFromRequest(req: PatchSchedulerRequest): SchedulerPatch {
  const spec = req.spec;
  return {
    spec: spec && {
      terminationGracePeriodSeconds:
        spec.terminationGracePeriod === undefined ? undefined : durationSeconds(spec.terminationGracePeriod),
      containers: spec.containers.length > 0 ? spec.containers.map(containerPatchFromPb) : undefined,
      toleration: spec.toleration,
      affinity: spec.affinity,
    },
    portRange: req.portRange && { start: req.portRange.start, end: req.portRange.end },
    maxSurge: req.maxSurge,
    roomsReplicas: req.roomsReplicas,
    autoscaling: req.autoscaling && autoscalingPatchFromPb(req.autoscaling),
    forwarders: req.forwarders.length > 0 ? req.forwarders.map(forwarderFromPb) : undefined,
    annotations: Object.keys(req.annotations).length > 0 ? { ...req.annotations } : undefined,
    labels: Object.keys(req.labels).length > 0 ? { ...req.labels } : undefined,
    // Same default as creation: a match allocation sent without maxMatches means one match per room.
    matchAllocation: req.matchAllocation && { maxMatches: req.matchAllocation.maxMatches || DEFAULT_MAX_MATCHES },
    occupiedTimeout: req.occupiedTimeout === undefined ? undefined : Number(req.occupiedTimeout),
  };
}

function containerPatchFromPb(c: OptionalContainer): ContainerPatch {
  return {
    name: c.name,
    image: c.image,
    imagePullPolicy: c.imagePullPolicy as ImagePullPolicy | undefined,
    command: c.command.length > 0 ? [...c.command] : undefined,
    environment: c.environment.length > 0 ? c.environment.map(environmentFromPb) : undefined,
    requests: c.requests && { memory: c.requests.memory, cpu: c.requests.cpu },
    limits: c.limits && { memory: c.limits.memory, cpu: c.limits.cpu },
    ports: c.ports.length > 0 ? c.ports.map(portFromPb) : undefined,
  };
}

function autoscalingPatchFromPb(a: OptionalAutoscaling): AutoscalingPatch {
  return {
    enabled: a.enabled,
    min: a.min,
    max: a.max,
    cooldown: a.cooldown,
    policy: a.policy && policyFromPb(a.policy),
  };
}

function forwarderFromPb(f: PbForwarder): Forwarder {
  return {
    name: f.name,
    enable: f.enable,
    type: f.type,
    address: f.address,
    options: f.options && { timeout: Number(f.options.timeout), metadata: { ...(f.options.metadata ?? {}) } },
  };
}

function durationSeconds(d: Duration | undefined): number {
  return d ? Number(d.seconds) + d.nanos / 1e9 : 0;
}

function durationFromSeconds(seconds: number): { seconds: bigint; nanos: number } {
  const whole = Math.floor(seconds);
  return { seconds: BigInt(whole), nanos: Math.round((seconds - whole) * 1e9) };
}

/** Domain → API. */
export function schedulerToPb(s: Scheduler): PbScheduler {
  return create(SchedulerSchema, {
    name: s.name,
    game: s.game,
    state: s.state,
    portRange: s.portRange,
    createdAt: timestampFromDate(s.createdAt),
    maxSurge: s.maxSurge,
    roomsReplicas: s.roomsReplicas,
    spec: {
      version: s.spec.version,
      terminationGracePeriod: durationFromSeconds(s.spec.terminationGracePeriodSeconds),
      containers: s.spec.containers.map((c) => ({
        ...c,
        ports: c.ports.map((p) => ({
          name: p.name,
          protocol: p.protocol,
          port: p.port,
          hostPortRange: p.hostPortRange,
        })),
      })),
      toleration: s.spec.toleration,
      affinity: s.spec.affinity,
      restartPolicy: s.spec.restartPolicy,
    },
    autoscaling: s.autoscaling && {
      ...s.autoscaling,
      policy: {
        type: s.autoscaling.policy.type,
        // Stored custom parameters came in as JSON, so they go back out as a Struct unchanged.
        parameters: {
          ...s.autoscaling.policy.parameters,
          custom: s.autoscaling.policy.parameters.custom as JsonObject | undefined,
        },
      },
    },
    forwarders: s.forwarders.map((f) => ({
      ...f,
      options: f.options && { timeout: BigInt(f.options.timeout), metadata: f.options.metadata as never },
    })),
    annotations: s.annotations,
    labels: s.labels,
    matchAllocation: s.matchAllocation,
    occupiedTimeout: s.occupiedTimeout === undefined ? undefined : BigInt(s.occupiedTimeout),
    roomsCrashing: roomsCrashingToPb(s.roomsCrashing),
  });
}

function roomsCrashingToPb(c: RoomsCrashing | undefined) {
  return (
    c && {
      crashes: c.crashes,
      lastReason: c.lastReason,
      lastRoomId: c.lastRoomId,
      lastCrashAt: timestampFromDate(new Date(c.lastCrashAtMs)),
    }
  );
}

export function schedulerWithoutSpecToPb(s: Scheduler) {
  return create(SchedulerWithoutSpecSchema, {
    name: s.name,
    game: s.game,
    state: s.state,
    version: s.spec.version,
    portRange: s.portRange,
    createdAt: timestampFromDate(s.createdAt),
    maxSurge: s.maxSurge,
    roomsReplicas: s.roomsReplicas,
    matchAllocation: s.matchAllocation,
    roomsCrashing: roomsCrashingToPb(s.roomsCrashing),
  });
}

export function schedulerInfoToPb(i: SchedulerInfo) {
  return create(SchedulerInfoSchema, {
    ...i,
    autoscaling: i.autoscaling,
    roomsCrashing: roomsCrashingToPb(i.roomsCrashing),
  });
}

export function schedulerVersionToPb(v: SchedulerVersion): PbSchedulerVersion {
  return create(SchedulerVersionSchema, { ...v, createdAt: timestampFromDate(v.createdAt) });
}

export { timestampDate };
