import { type FieldViolation, MaestroError } from "../errors.js";
import {
  type Autoscaling,
  type Container,
  type ContainerEnvironment,
  type ContainerResources,
  type Forwarder,
  imagePullPolicies,
  MAX_MATCHES_LIMIT,
  type MetricsTriggers,
  metricsTriggerTypes,
  type PortRange,
  restartPolicies,
  type Scheduler,
  type Spec,
  schedulerStates,
} from "./scheduler.js";
import { defaultSchedulerLimits, type SchedulerLimits } from "./scheduler-limits.js";
import { isValidVersion } from "./semver.js";

export const autoscalingPolicyTypes = ["roomOccupancy", "fixedBuffer", "metricsTriggers"] as const;
export const forwarderTypes = ["gRPC"] as const;
/** Protocols a room port may use. Maestro also accepted sctp and then failed at pod creation, so we refuse it early. */
export const supportedPortProtocols = ["tcp", "udp"] as const;

/** Forwarder and policy types a scheduler may name: the built-in ones plus those plugins registered. */
export interface SchedulerTypes {
  isForwarderType(type: string): boolean;
  /** The type's own address rule (returns why an address is refused); undefined = the address must be host:port. */
  forwarderAddressRule(type: string): ((address: string) => string | undefined) | undefined;
  forwarderTypes(): string[];
  isPolicyType(type: string): boolean;
  policyTypes(): string[];
  /** A plugin policy's check of its custom parameters (returns violations with fields relative to `custom`). */
  policyParametersRule?(type: string): ((custom: Record<string, unknown>) => FieldViolation[]) | undefined;
  /** Size bounds from the settings; the built-in defaults when omitted. */
  limits?: SchedulerLimits | undefined;
  /** What the configured runtime refuses to run (Runtime.refusedFields); nothing when omitted. */
  runtimeRule?: ((scheduler: Scheduler) => FieldViolation[]) | undefined;
}

export const builtinSchedulerTypes: SchedulerTypes = {
  isForwarderType: (t) => (forwarderTypes as readonly string[]).includes(t),
  forwarderAddressRule: () => undefined,
  forwarderTypes: () => [...forwarderTypes],
  isPolicyType: (t) => (autoscalingPolicyTypes as readonly string[]).includes(t),
  policyTypes: () => [...autoscalingPolicyTypes],
};

const REQUIRED = "is required";
const MAX_NAME_LENGTH = 63;
const MAX_PORT_NAME_LENGTH = 15;
const rfc1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const rfc1123Message = `must match ${rfc1123Label.source} (lowercase letters, digits and '-')`;
// Kubernetes' historical env-name rule; it also keeps names safe to pass to a child process.
const envVarName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const maxSurgePattern = /^(\d{1,9})(%?)$/;
const quantityPattern = /^(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const quantityMultipliers: Record<string, number> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/**
 * Every rule a scheduler must satisfy before it is stored or turned into rooms. Pure: returns all violations, in
 * field order, so a client can fix everything in one round trip.
 */
export function validateScheduler(s: Scheduler, types: SchedulerTypes = builtinSchedulerTypes): FieldViolation[] {
  const v = new Violations();
  const limits = types.limits ?? defaultSchedulerLimits;
  validateIdentity(v, s);
  validateRoomCounts(v, s, limits);
  validateSpec(v, s.spec, limits);
  validatePortRanges(v, s);
  if (s.autoscaling != null) {
    validateAutoscaling(v, s.autoscaling, types);
    const triggers = s.autoscaling.policy?.parameters?.metricsTriggers;
    if (triggers != null) validateMetricsTriggers(v, triggers, s.spec);
  }
  validateForwarders(v, s.forwarders, types);
  validateMapKeys(v, "annotations", s.annotations);
  validateMapKeys(v, "labels", s.labels);
  if (types.runtimeRule && s.spec != null) v.list.push(...types.runtimeRule(s));
  return v.list;
}

/** Throws invalid_argument listing every violation, or returns when the scheduler is valid. */
export function assertValidScheduler(s: Scheduler, types: SchedulerTypes = builtinSchedulerTypes): void {
  const violations = validateScheduler(s, types);
  if (violations.length > 0) throw MaestroError.invalid(violations);
}

/**
 * Name of the environment variable through which a room learns the host port of a declared port. Port names must
 * stay unique under this mapping, so `game-a` and `GAME_A` count as the same name.
 */
export function portEnvName(portName: string): string {
  return `MAESTRO_PORT_${portName.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** A Kubernetes resource quantity ("100Mi", "0.5", "100m", "1Gi", "2e3") in base units, or undefined if malformed. */
export function parseQuantity(quantity: string): number | undefined {
  const m = quantityPattern.exec(quantity);
  if (!m) return undefined;
  const suffix = m[2] ?? "";
  // A bare "E" is the exa suffix; "E3" or "e3" is a decimal exponent.
  const multiplier = /^[eE]./.test(suffix) ? 10 ** Number(suffix.slice(1)) : quantityMultipliers[suffix];
  if (multiplier === undefined) return undefined;
  const value = Number(m[1]) * multiplier;
  return Number.isFinite(value) ? value : undefined;
}

class Violations {
  readonly list: FieldViolation[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  /** Adds "is required" for a missing or blank string and tells the caller whether to check it further. */
  requiredString(field: string, value: unknown): value is string {
    if (typeof value === "string" && value.trim() !== "") return true;
    this.add(field, REQUIRED);
    return false;
  }

  oneOf(field: string, value: unknown, allowed: readonly string[]): boolean {
    if (!this.requiredString(field, value)) return false;
    if (allowed.includes(value)) return true;
    this.add(field, `must be one of ${allowed.join(", ")}`);
    return false;
  }

  intBetween(field: string, value: unknown, min: number, max: number): value is number {
    if (isInt(value) && value >= min && value <= max) return true;
    this.add(field, `must be an integer between ${min} and ${max}`);
    return false;
  }

  intAtLeast(field: string, value: unknown, min: number): value is number {
    if (isInt(value) && value >= min) return true;
    this.add(field, `must be an integer greater than or equal to ${min}`);
    return false;
  }

  /** RFC 1123 label: what Kubernetes accepts as a namespace or container name. */
  label(field: string, value: unknown): boolean {
    if (!this.requiredString(field, value)) return false;
    let ok = true;
    if (value.length > MAX_NAME_LENGTH) {
      this.add(field, `must be at most ${MAX_NAME_LENGTH} characters`);
      ok = false;
    }
    if (!rfc1123Label.test(value)) {
      this.add(field, rfc1123Message);
      ok = false;
    }
    return ok;
  }
}

function validateIdentity(v: Violations, s: Scheduler): void {
  v.label("name", s.name);
  v.requiredString("game", s.game);
  v.oneOf("state", s.state, schedulerStates);
  if (v.requiredString("maxSurge", s.maxSurge)) {
    const m = maxSurgePattern.exec(s.maxSurge);
    const n = m ? Number(m[1]) : Number.NaN;
    if (!m || n < 1) {
      v.add("maxSurge", "must be an integer from 1 to 999999999 or a percentage N% in that range (e.g. 3 or 10%)");
    }
  }
  v.intAtLeast("roomsReplicas", s.roomsReplicas, 0);
  if (s.matchAllocation == null) v.add("matchAllocation", REQUIRED);
  else v.intBetween("matchAllocation.maxMatches", s.matchAllocation.maxMatches, 1, MAX_MATCHES_LIMIT);
  const occupied = s.occupiedTimeout;
  if (occupied != null && (typeof occupied !== "number" || !Number.isFinite(occupied) || occupied < 0)) {
    v.add("occupiedTimeout", "must be greater than or equal to 0 (seconds)");
  }
}

/** roomsReplicas and the autoscaling bounds decide how many rooms get spawned: each stays within the setting. */
function validateRoomCounts(v: Violations, s: Scheduler, limits: SchedulerLimits): void {
  const max = limits.roomsPerScheduler;
  const rule = `must be at most ${max} (limits.roomsPerScheduler)`;
  if (isInt(s.roomsReplicas) && s.roomsReplicas > max) v.add("roomsReplicas", rule);
  const a = s.autoscaling;
  if (a == null) return;
  if (isInt(a.min) && a.min > max) v.add("autoscaling.min", rule);
  if (isInt(a.max) && a.max > max) v.add("autoscaling.max", `${rule}, or -1 (unlimited up to that limit)`);
}

function validateSpec(v: Violations, spec: Spec | undefined, limits: SchedulerLimits): void {
  if (spec == null) {
    v.add("spec", REQUIRED);
    return;
  }
  if (v.requiredString("spec.version", spec.version) && !isValidVersion(spec.version)) {
    v.add("spec.version", "must be a semantic version vMAJOR.MINOR.PATCH (e.g. v1.0.0)");
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (typeof grace !== "number" || !Number.isFinite(grace) || grace <= 0) {
    v.add("spec.terminationGracePeriod", "must be greater than 0");
  }
  v.oneOf("spec.restartPolicy", spec.restartPolicy, restartPolicies);

  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) v.add("spec.containers", "must have at least 1 container");
  if (containers.length > limits.containersPerSpec) {
    v.add("spec.containers", `must have at most ${limits.containersPerSpec} containers (limits.containersPerSpec)`);
    // Each container's own checks would only repeat the same story thousands of times.
    return;
  }

  const containerNames = new Map<string, string>();
  const portNames = new Map<string, string>();
  containers.forEach((c, i) => {
    const path = `spec.containers[${i}]`;
    if (c == null) {
      v.add(path, REQUIRED);
      return;
    }
    if (v.label(`${path}.name`, c.name)) {
      const previous = containerNames.get(c.name);
      if (previous === undefined) containerNames.set(c.name, path);
      else v.add(`${path}.name`, `must be unique within the spec (${previous}.name is also "${c.name}")`);
    }
    validateContainer(v, path, c, portNames, limits);
  });
}

function validateContainer(
  v: Violations,
  path: string,
  c: Container,
  portNames: Map<string, string>,
  bounds: SchedulerLimits,
): void {
  validateImage(v, path, c, bounds.kubernetesFieldsRequired);
  validateCommand(v, `${path}.command`, c.command, bounds);

  const environment = Array.isArray(c.environment) ? c.environment : [];
  if (environment.length > bounds.envVarsPerContainer) {
    v.add(
      `${path}.environment`,
      `must have at most ${bounds.envVarsPerContainer} variables (limits.envVarsPerContainer)`,
    );
  } else {
    environment.forEach((env, k) => {
      validateEnvironment(v, `${path}.environment[${k}]`, env);
    });
  }

  const requests = validateResources(v, `${path}.requests`, c.requests, bounds.kubernetesFieldsRequired);
  const limits = validateResources(v, `${path}.limits`, c.limits, bounds.kubernetesFieldsRequired);
  // Kubernetes refuses such a pod at creation; saying so here beats a room stuck in error.
  for (const key of ["memory", "cpu"] as const) {
    const request = requests[key];
    const limit = limits[key];
    if (request !== undefined && limit !== undefined && request > limit * (1 + 1e-12)) {
      v.add(`${path}.requests.${key}`, `must be less than or equal to limits.${key}`);
    }
  }

  const ports = Array.isArray(c.ports) ? c.ports : [];
  ports.forEach((p, j) => {
    const portPath = `${path}.ports[${j}]`;
    if (p == null) {
      v.add(portPath, REQUIRED);
      return;
    }
    if (v.requiredString(`${portPath}.name`, p.name)) {
      if (p.name.length > MAX_PORT_NAME_LENGTH) {
        v.add(`${portPath}.name`, `must be at most ${MAX_PORT_NAME_LENGTH} characters`);
      }
      const env = portEnvName(p.name);
      const previous = portNames.get(env);
      if (previous === undefined) portNames.set(env, portPath);
      else {
        v.add(
          `${portPath}.name`,
          `must be unique across all containers (${previous}.name also maps to the room's env ${env})`,
        );
      }
    }
    if (p.protocol === "sctp") {
      v.add(`${portPath}.protocol`, `sctp is not supported: must be one of ${supportedPortProtocols.join(", ")}`);
    } else {
      v.oneOf(`${portPath}.protocol`, p.protocol, supportedPortProtocols);
    }
    v.intBetween(`${portPath}.port`, p.port, 1, 65535);
  });
}

/**
 * Kubernetes needs an image and its pull policy; the process runtime runs `command` and ignores both, so there they
 * are optional (a given pull policy must still be one Kubernetes knows, so the file stays valid for both runtimes).
 */
function validateImage(v: Violations, path: string, c: Container, required: boolean): void {
  if (required) v.requiredString(`${path}.image`, c.image);
  if (required || (c.imagePullPolicy as string | undefined)) {
    v.oneOf(`${path}.imagePullPolicy`, c.imagePullPolicy, imagePullPolicies);
  }
}

/**
 * An empty command means "the image's entrypoint" on Kubernetes but nothing to run on the process runtime; a blank
 * program name is never runnable. The size bound keeps one room from carrying megabytes of arguments into every spawn.
 */
function validateCommand(v: Violations, path: string, command: unknown, limits: SchedulerLimits): void {
  const args = Array.isArray(command) ? command : [];
  if (args.length === 0) {
    if (limits.commandRequired) v.add(path, "must name the program to run (this runtime has no image entrypoint)");
    return;
  }
  if (typeof args[0] !== "string" || args[0].trim() === "") v.add(`${path}[0]`, "must name the program to run");
  let bytes = 0;
  for (const arg of args) bytes += typeof arg === "string" ? Buffer.byteLength(arg, "utf8") + 1 : 0;
  if (bytes > limits.commandBytes) {
    v.add(path, `must be at most ${limits.commandBytes} bytes in all (limits.commandBytes), got ${bytes}`);
  }
}

function validateEnvironment(v: Violations, path: string, env: ContainerEnvironment): void {
  if (env == null) {
    v.add(path, REQUIRED);
    return;
  }
  if (v.requiredString(`${path}.name`, env.name) && !envVarName.test(env.name)) {
    v.add(`${path}.name`, `must be a valid environment variable name matching ${envVarName.source}`);
  }
  const from = env.valueFrom;
  if (from == null) return;
  // An empty value is how "unset" arrives from proto3 and Maestro's Go structs, so it does not conflict.
  if (env.value != null && env.value !== "") {
    v.add(`${path}.valueFrom`, "must not be set together with value (set at most one of value or valueFrom)");
  }
  const sources = [from.fieldRef, from.secretKeyRef].filter((x) => x != null).length;
  if (sources !== 1) {
    v.add(`${path}.valueFrom`, "must set exactly one of fieldRef or secretKeyRef");
  }
  if (from.fieldRef != null) v.requiredString(`${path}.valueFrom.fieldRef.fieldPath`, from.fieldRef.fieldPath);
  if (from.secretKeyRef != null) {
    v.requiredString(`${path}.valueFrom.secretKeyRef.name`, from.secretKeyRef.name);
    v.requiredString(`${path}.valueFrom.secretKeyRef.key`, from.secretKeyRef.key);
  }
}

/** Returns the parsed quantities so requests can be compared with limits. */
function validateResources(
  v: Violations,
  path: string,
  resources: ContainerResources | undefined,
  required: boolean,
): { memory?: number; cpu?: number } {
  if (resources == null) {
    if (required) v.add(path, REQUIRED);
    return {};
  }
  const parsed: { memory?: number; cpu?: number } = {};
  for (const key of ["memory", "cpu"] as const) {
    const value = resources[key];
    // Optional on the process runtime (it only reads requests for cpu and memory autoscaling triggers).
    if (!required && (value === undefined || value === "")) continue;
    if (!v.requiredString(`${path}.${key}`, value)) continue;
    const quantity = parseQuantity(value);
    if (quantity === undefined) {
      v.add(`${path}.${key}`, "must be a Kubernetes quantity such as 100Mi, 1Gi, 0.5, 100m or 2");
    } else {
      parsed[key] = quantity;
    }
  }
  return parsed;
}

/**
 * Host ports come either from the scheduler-wide portRange (Maestro's legacy field) or from a hostPortRange on every
 * container port, never a mix, so the allocator always knows where each port draws from.
 */
function validatePortRanges(v: Violations, s: Scheduler): void {
  const containers = Array.isArray(s.spec?.containers) ? s.spec.containers : [];
  const ports = containers.flatMap((c, i) =>
    (Array.isArray(c?.ports) ? c.ports : [])
      .map((port, j) => ({ port, path: `spec.containers[${i}].ports[${j}]` }))
      .filter((x) => x.port != null),
  );
  const withRange = ports.filter((x) => x.port.hostPortRange != null);

  if (s.portRange != null) {
    const size = validateRange(v, "portRange", "portRange", s.portRange);
    if (withRange.length > 0) {
      v.add("portRange", "must not be set together with hostPortRange on container ports (configure one or the other)");
    } else if (size !== undefined && size < ports.length) {
      v.add("portRange", `must hold at least ${ports.length} ports (one per container port) but holds ${size}`);
    }
  } else if (withRange.length === 0) {
    v.add("portRange", "is required unless every container port sets hostPortRange (no port range configured)");
  } else {
    for (const x of ports) {
      if (x.port.hostPortRange == null) {
        v.add(
          `${x.path}.hostPortRange`,
          "is required: when portRange is not set, every container port must set hostPortRange",
        );
      }
    }
  }

  // Ports declaring the same range draw from one pool, so that pool must fit all of them for a single room.
  const pools = new Map<string, { path: string; size: number; count: number }>();
  for (const x of withRange) {
    const range = x.port.hostPortRange as PortRange;
    const path = `${x.path}.hostPortRange`;
    const size = validateRange(v, path, "hostPortRange", range);
    if (size === undefined) continue;
    const key = `${range.start}-${range.end}`;
    const pool = pools.get(key);
    if (pool === undefined) pools.set(key, { path, size, count: 1 });
    else pool.count++;
  }
  for (const pool of pools.values()) {
    if (pool.count > pool.size) {
      v.add(pool.path, `must hold at least ${pool.count} ports (ports sharing this range) but holds ${pool.size}`);
    }
  }
}

/** Returns the number of ports in the range (both ends inclusive) when the range is valid. */
function validateRange(v: Violations, path: string, label: string, range: PortRange): number | undefined {
  const startOk = v.intBetween(`${path}.start`, range.start, 1, 65535);
  const endOk = v.intBetween(`${path}.end`, range.end, 1, 65535);
  if (!startOk || !endOk) return undefined;
  if (range.start >= range.end) {
    v.add(`${path}.start`, `must be less than ${label}.end`);
    return undefined;
  }
  return range.end - range.start + 1;
}

// Checked even when disabled, as Maestro does: enabling later must not be the moment a bad policy is discovered.
function validateAutoscaling(v: Violations, a: Autoscaling, types: SchedulerTypes): void {
  const minOk = v.intAtLeast("autoscaling.min", a.min, 1);
  let maxOk = false;
  if (isInt(a.max) && (a.max === -1 || a.max >= 1)) maxOk = true;
  else v.add("autoscaling.max", "must be -1 (unlimited) or an integer greater than or equal to 1");
  if (minOk && maxOk && a.max !== -1 && a.min > a.max) {
    v.add("autoscaling.min", "must be less than or equal to autoscaling.max");
  }
  v.intAtLeast("autoscaling.cooldown", a.cooldown, 0);

  if (a.policy == null) {
    v.add("autoscaling.policy", REQUIRED);
    return;
  }
  if (v.requiredString("autoscaling.policy.type", a.policy.type) && !types.isPolicyType(a.policy.type)) {
    v.add("autoscaling.policy.type", `must be one of ${types.policyTypes().join(", ")}`);
  }
  // Plugin policies read parameters.custom (checked by the plugin below); only built-in ones need their own message.
  const typeOk = (autoscalingPolicyTypes as readonly string[]).includes(a.policy.type);
  const params = a.policy.parameters ?? {};
  const base = "autoscaling.policy.parameters";
  if (typeOk && params[a.policy.type as (typeof autoscalingPolicyTypes)[number]] == null) {
    v.add(`${base}.${a.policy.type}`, `is required when policy.type is ${a.policy.type}`);
  }
  if (params.roomOccupancy != null) {
    for (const key of ["readyTarget", "downThreshold"] as const) {
      const x = params.roomOccupancy[key];
      if (typeof x !== "number" || !(x > 0 && x < 1)) {
        v.add(`${base}.roomOccupancy.${key}`, "must be greater than 0 and less than 1");
      }
    }
  }
  if (params.fixedBuffer != null) {
    v.intAtLeast(`${base}.fixedBuffer.amount`, params.fixedBuffer.amount, 1);
  }
  validateCustomParameters(v, a.policy.type, params.custom, types);
}

/** Largest usage or limit in percent: cpu and memory may run past their requests, so 100 is not the ceiling. */
const MAX_TRIGGER_PERCENT = 1000;

function validateMetricsTriggers(v: Violations, params: MetricsTriggers, spec: Spec | undefined): void {
  const base = "autoscaling.policy.parameters.metricsTriggers";
  if (typeof params !== "object" || Array.isArray(params)) {
    v.add(base, "must be an object");
    return;
  }
  const measured = new Set<string>();
  let count = 0;
  for (const direction of ["up", "down"] as const) {
    const d = params[direction];
    if (d == null) continue;
    const path = `${base}.${direction}`;
    v.intAtLeast(`${path}.cooldown`, d.cooldown, 0);
    if (!Array.isArray(d.triggers)) {
      v.add(`${path}.triggers`, "must be a list");
      continue;
    }
    d.triggers.forEach((t, i) => {
      count++;
      const at = `${path}.triggers[${i}]`;
      if (v.oneOf(`${at}.type`, t?.type, metricsTriggerTypes)) measured.add(t.type);
      percent(v, `${at}.usage`, t?.usage);
      if (!(typeof t?.threshold === "number" && t.threshold >= 0 && t.threshold <= 100)) {
        v.add(`${at}.threshold`, "must be a number between 0 and 100");
      }
      v.intAtLeast(`${at}.time`, t?.time, 1);
      if (t?.limit != null) {
        if (direction === "down") v.add(`${at}.limit`, "has no effect on down triggers; leave it out");
        else percent(v, `${at}.limit`, t.limit);
      }
      if (t?.delta != null && t.type !== "legacy") v.add(`${at}.delta`, "is only taken by legacy triggers");
      if (t?.type === "legacy") v.intAtLeast(`${at}.delta`, t.delta, 1);
    });
  }
  if (count === 0) v.add(base, "needs at least one trigger in up.triggers or down.triggers");
  // The resource ratio divides by the requests, as v9 did; a container without them cannot be weighed.
  for (const kind of ["cpu", "memory"] as const) {
    if (!measured.has(kind)) continue;
    (spec?.containers ?? []).forEach((c, i) => {
      const request = parseQuantity(String(c?.requests?.[kind] ?? ""));
      if (!(request !== undefined && request > 0)) {
        v.add(`spec.containers[${i}].requests.${kind}`, `is required (greater than 0) when a ${kind} trigger is used`);
      }
    });
  }
}

function percent(v: Violations, field: string, value: unknown): void {
  if (typeof value === "number" && value > 0 && value <= MAX_TRIGGER_PERCENT) return;
  v.add(field, `must be a number greater than 0 and at most ${MAX_TRIGGER_PERCENT} (percent)`);
}

function validateCustomParameters(v: Violations, type: string, custom: unknown, types: SchedulerTypes): void {
  const path = "autoscaling.policy.parameters.custom";
  if (custom != null && (typeof custom !== "object" || Array.isArray(custom))) {
    v.add(path, "must be an object");
    return;
  }
  const rule = typeof type === "string" && types.isPolicyType(type) ? types.policyParametersRule?.(type) : undefined;
  if (rule === undefined) return;
  let problems: FieldViolation[];
  try {
    problems = rule((custom ?? {}) as Record<string, unknown>);
  } catch (err) {
    // A plugin bug must not turn into a 500 nor let the scheduler through unchecked.
    v.add(path, `could not be checked by the ${type} policy: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  for (const p of Array.isArray(problems) ? problems : []) {
    const field = typeof p?.field === "string" ? p.field.replace(/^\.+/, "") : "";
    v.add(field === "" ? path : `${path}.${field}`, String(p?.message ?? "is invalid"));
  }
}

function validateForwarders(v: Violations, forwarders: Forwarder[] | undefined, types: SchedulerTypes): void {
  const names = new Map<string, string>();
  (Array.isArray(forwarders) ? forwarders : []).forEach((f, i) => {
    const path = `forwarders[${i}]`;
    if (f == null) {
      v.add(path, REQUIRED);
      return;
    }
    if (v.requiredString(`${path}.name`, f.name)) {
      const previous = names.get(f.name);
      if (previous === undefined) names.set(f.name, path);
      else v.add(`${path}.name`, `must be unique (${previous}.name is also "${f.name}")`);
    }
    if (v.requiredString(`${path}.type`, f.type) && !types.isForwarderType(f.type)) {
      v.add(`${path}.type`, `must be one of ${types.forwarderTypes().join(", ")} (the loaded forwarder plugins)`);
    }
    // A type no plugin provides gets Maestro's host:port rule.
    const known = typeof f.type === "string" && types.isForwarderType(f.type);
    const rule = known ? types.forwarderAddressRule(f.type) : undefined;
    if (v.requiredString(`${path}.address`, f.address)) {
      const problem = rule
        ? rule(f.address)
        : isHostPort(f.address)
          ? undefined
          : "must be host:port (e.g. matchmaker.example.com:8080 or [::1]:8080)";
      if (problem !== undefined) v.add(`${path}.address`, problem);
    }
    if (f.options != null) {
      v.intAtLeast(`${path}.options.timeout`, f.options.timeout, 0);
    }
  });
}

function validateMapKeys(v: Violations, field: string, map: Record<string, string> | undefined): void {
  if (map == null) return;
  if (Object.keys(map).some((k) => k.trim() === "")) v.add(field, "keys must not be empty");
}

function isInt(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x);
}

function isHostPort(address: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(address);
  if (!m) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535;
}
