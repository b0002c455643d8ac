/** A scheduler: the versioned recipe for a fleet of game rooms. Field names follow Maestro's JSON (camelCase). */
export interface Scheduler {
  name: string;
  game: string;
  state: SchedulerState;
  spec: Spec;
  /** Legacy range shared by all container ports; exactly one of this or every port's hostPortRange is set. */
  portRange?: PortRange | undefined;
  /** Integer ≥ 1 (`"3"`) or a percentage (`"10%"`). */
  maxSurge: string;
  roomsReplicas: number;
  autoscaling?: Autoscaling | undefined;
  forwarders: Forwarder[];
  annotations: Record<string, string>;
  labels: Record<string, string>;
  matchAllocation: MatchAllocation;
  /** Seconds a room may stay occupied before it is replaced (Maestro v9's occupiedTimeout); unset = no limit. */
  occupiedTimeout?: number | undefined;
  /** Previous active version, set when a new version becomes active. */
  rollbackVersion?: string | undefined;
  createdAt: Date;
  lastDownscaleAt?: Date | undefined;
  /** Set by the health controller while rooms keep crashing; not part of the definition a client sends. */
  roomsCrashing?: RoomsCrashing | undefined;
}

/** Rooms that crashed since a room of the scheduler last came up, and why the last one did. */
export interface RoomsCrashing {
  crashes: number;
  lastReason: string;
  lastRoomId: string;
  /** Epoch milliseconds (plain JSON, as the version's definition is stored). */
  lastCrashAtMs: number;
}

export const schedulerStates = ["creating", "in-sync", "terminating", "on-error"] as const;
export type SchedulerState = (typeof schedulerStates)[number];

export interface Spec {
  /** Semantic version `vMAJOR.MINOR.PATCH`; assigned by Maestro, never by the client. */
  version: string;
  /** Seconds a room gets between SIGTERM (pod deletion) and being killed. */
  terminationGracePeriodSeconds: number;
  containers: Container[];
  toleration: string;
  affinity: string;
  restartPolicy: RestartPolicy;
}

export const restartPolicies = ["Always", "OnFailure", "Never"] as const;
export type RestartPolicy = (typeof restartPolicies)[number];

export const imagePullPolicies = ["Always", "Never", "IfNotPresent"] as const;
export type ImagePullPolicy = (typeof imagePullPolicies)[number];

export interface Container {
  name: string;
  image: string;
  imagePullPolicy: ImagePullPolicy;
  command: string[];
  environment: ContainerEnvironment[];
  requests: ContainerResources;
  limits: ContainerResources;
  ports: ContainerPort[];
}

export interface ContainerEnvironment {
  name: string;
  value?: string | undefined;
  valueFrom?:
    | {
        fieldRef?: { fieldPath: string } | undefined;
        secretKeyRef?: { name: string; key: string } | undefined;
      }
    | undefined;
}

export interface ContainerResources {
  memory: string;
  cpu: string;
}

export const portProtocols = ["tcp", "udp", "sctp"] as const;
export type PortProtocol = (typeof portProtocols)[number];

export interface ContainerPort {
  name: string;
  protocol: PortProtocol;
  port: number;
  /** Per-port range used instead of the scheduler-wide portRange. */
  hostPortRange?: PortRange | undefined;
}

/** Both ends inclusive (Maestro's allocator treats `end` as inclusive although its docs say exclusive). */
export interface PortRange {
  start: number;
  end: number;
}

export interface Autoscaling {
  enabled: boolean;
  min: number;
  /** -1 means no upper bound. */
  max: number;
  /** Seconds between two downscales. */
  cooldown: number;
  policy: AutoscalingPolicy;
}

export interface AutoscalingPolicy {
  type: string;
  parameters: {
    roomOccupancy?: { readyTarget: number; downThreshold: number } | undefined;
    fixedBuffer?: { amount: number } | undefined;
    metricsTriggers?: MetricsTriggers | undefined;
    /** A plugin policy's own parameters, as JSON; the plugin reads and validates them. */
    custom?: Record<string, unknown> | undefined;
  };
}

export const metricsTriggerTypes = ["room", "cpu", "memory", "legacy"] as const;
/**
 * What a trigger measures: `room` match slots in use, `cpu`/`memory` the rooms' usage relative to their containers'
 * requests; `legacy` is room usage with a fixed `delta` (Maestro v9's `type: legacy`).
 */
export type MetricsTriggerType = (typeof metricsTriggerTypes)[number];

/** One Maestro v9 metrics trigger. Percentages are 0..100. */
export interface MetricsTrigger {
  type: MetricsTriggerType;
  /** Target usage in percent: the room and resource formulas size the fleet so usage comes back to it. */
  usage: number;
  /** Percent of the last `time` seconds' points that must be beyond `usage` for the trigger to fire. */
  threshold: number;
  /** Seconds of points the threshold looks at. */
  time: number;
  /** Up only: usage in percent at or above which the trigger fires at once, ignoring points and cooldown (default 90). */
  limit?: number | undefined;
  /** `legacy` only: rooms added (up) or removed (down) when it fires. */
  delta?: number | undefined;
}

/** One direction of the metricsTriggers policy: its triggers, in the order they are tried, and its cooldown. */
export interface MetricsTriggersDirection {
  /** Seconds since the last autoscaler scale (either direction) before this direction may scale again. */
  cooldown: number;
  triggers: MetricsTrigger[];
}

/** Parameters of the metricsTriggers policy (Maestro v9's autoscaling.up/down.metricsTrigger). */
export interface MetricsTriggers {
  up?: MetricsTriggersDirection | undefined;
  down?: MetricsTriggersDirection | undefined;
}

export const DEFAULT_TRIGGER_LIMIT = 90;

export interface Forwarder {
  name: string;
  enable: boolean;
  type: string;
  address: string;
  options?: { timeout: number; metadata: Record<string, unknown> } | undefined;
}

export interface MatchAllocation {
  maxMatches: number;
}

export const DEFAULT_SPEC_VERSION = "v1.0.0";
export const MAX_MATCHES_LIMIT = 35;

export interface SchedulerVersion {
  version: string;
  isActive: boolean;
  createdAt: Date;
}

export interface SchedulerFilter {
  name?: string | undefined;
  game?: string | undefined;
  version?: string | undefined;
}

export interface SchedulerInfo {
  name: string;
  game: string;
  state: SchedulerState;
  roomsReplicas: number;
  roomsReady: number;
  roomsOccupied: number;
  roomsPending: number;
  roomsTerminating: number;
  roomsError: number;
  roomsUnready: number;
  roomsAllocated: number;
  roomsActive: number;
  autoscaling?: { enabled: boolean; min: number; max: number; cooldown: number } | undefined;
  matchAllocation?: MatchAllocation | undefined;
  roomsCrashing?: RoomsCrashing | undefined;
}

/** The host ports a room listens on, one per declared container port. */
export function declaredPorts(spec: Spec): ContainerPort[] {
  return spec.containers.flatMap((c) => c.ports);
}
