import type {
  Autoscaling,
  AutoscalingPolicy,
  Container,
  ContainerEnvironment,
  ContainerPort,
  ContainerResources,
  Forwarder,
  ImagePullPolicy,
  MatchAllocation,
  PortRange,
  Scheduler,
} from "./scheduler.js";

/** A change to the active scheduler: only the fields present (not undefined) change. */
export interface SchedulerPatch {
  spec?: SpecPatch | undefined;
  portRange?: PortRange | undefined;
  maxSurge?: string | undefined;
  roomsReplicas?: number | undefined;
  /** Merged field by field; created when the scheduler has none. */
  autoscaling?: AutoscalingPatch | undefined;
  /** Replace the current lists/maps wholesale. */
  forwarders?: Forwarder[] | undefined;
  annotations?: Record<string, string> | undefined;
  labels?: Record<string, string> | undefined;
  matchAllocation?: MatchAllocation | undefined;
  occupiedTimeout?: number | undefined;
}

export interface SpecPatch {
  terminationGracePeriodSeconds?: number | undefined;
  /** Applied by index: entry i patches container i; entries past the end become new containers. */
  containers?: ContainerPatch[] | undefined;
  toleration?: string | undefined;
  affinity?: string | undefined;
}

/** Each present field replaces the container's field wholesale. */
export interface ContainerPatch {
  name?: string | undefined;
  image?: string | undefined;
  imagePullPolicy?: ImagePullPolicy | undefined;
  command?: string[] | undefined;
  environment?: ContainerEnvironment[] | undefined;
  requests?: ContainerResources | undefined;
  limits?: ContainerResources | undefined;
  ports?: ContainerPort[] | undefined;
}

export interface AutoscalingPatch {
  enabled?: boolean | undefined;
  min?: number | undefined;
  max?: number | undefined;
  cooldown?: number | undefined;
  /** Replaced wholesale. */
  policy?: AutoscalingPolicy | undefined;
}

/**
 * Maestro's PatchScheduler: the active scheduler with the patch's present fields applied. The result is a new object
 * (the input is untouched) and is not validated: a patch can produce an invalid scheduler, which validation reports.
 */
export function applySchedulerPatch(current: Scheduler, patch: SchedulerPatch): Scheduler {
  const next = structuredClone(current);
  const p = structuredClone(patch);
  if (p.portRange !== undefined) next.portRange = p.portRange;
  if (p.maxSurge !== undefined) next.maxSurge = p.maxSurge;
  if (p.roomsReplicas !== undefined) next.roomsReplicas = p.roomsReplicas;
  if (p.forwarders !== undefined) next.forwarders = p.forwarders;
  if (p.annotations !== undefined) next.annotations = p.annotations;
  if (p.labels !== undefined) next.labels = p.labels;
  if (p.matchAllocation !== undefined) next.matchAllocation = p.matchAllocation;
  if (p.occupiedTimeout !== undefined) next.occupiedTimeout = p.occupiedTimeout;
  if (p.spec !== undefined) {
    const spec = p.spec;
    if (spec.terminationGracePeriodSeconds !== undefined) {
      next.spec.terminationGracePeriodSeconds = spec.terminationGracePeriodSeconds;
    }
    if (spec.toleration !== undefined) next.spec.toleration = spec.toleration;
    if (spec.affinity !== undefined) next.spec.affinity = spec.affinity;
    spec.containers?.forEach((containerPatch, i) => {
      next.spec.containers[i] = patchContainer(next.spec.containers[i] ?? emptyContainer(), containerPatch);
    });
  }
  if (p.autoscaling !== undefined) next.autoscaling = patchAutoscaling(next.autoscaling, p.autoscaling);
  return next;
}

const containerFields = [
  "name",
  "image",
  "imagePullPolicy",
  "command",
  "environment",
  "requests",
  "limits",
  "ports",
] as const satisfies readonly (keyof ContainerPatch & keyof Container)[];

function patchContainer(c: Container, p: ContainerPatch): Container {
  const out: Record<string, unknown> = { ...c };
  for (const key of containerFields) {
    if (p[key] !== undefined) out[key] = p[key];
  }
  return out as unknown as Container;
}

function patchAutoscaling(current: Autoscaling | undefined, p: AutoscalingPatch): Autoscaling {
  // Like Maestro's zero-valued struct: whatever the patch leaves unset fails validation instead of being guessed.
  const out: Autoscaling = current ?? {
    enabled: false,
    min: 0,
    max: 0,
    cooldown: 0,
    policy: { type: "", parameters: {} },
  };
  if (p.enabled !== undefined) out.enabled = p.enabled;
  if (p.min !== undefined) out.min = p.min;
  if (p.max !== undefined) out.max = p.max;
  if (p.cooldown !== undefined) out.cooldown = p.cooldown;
  if (p.policy !== undefined) out.policy = p.policy;
  return out;
}

/** A container appended by a patch starts empty, so validation names every field the patch did not give. */
function emptyContainer(): Container {
  return {
    name: "",
    image: "",
    imagePullPolicy: "" as ImagePullPolicy,
    command: [],
    environment: [],
    requests: { memory: "", cpu: "" },
    limits: { memory: "", cpu: "" },
    ports: [],
  };
}
