/**
 * Converts a Maestro v9 scheduler config (YAML/JSON: `image`, `ports`, `cmd`, `shutdownTimeout`,
 * `autoscaling.up/down`, `forwarders.grpc.<name>`) to the current model's camelCase JSON, listing every key that had
 * no equivalent and every default it had to pick, so nothing is dropped silently.
 */

export interface V9Conversion {
  /** The scheduler as camelCase JSON, ready for `schedulerFromJson`. */
  scheduler: Record<string, unknown>;
  /** Defaults picked and values the user must still supply (e.g. forwarder addresses). */
  notes: string[];
  /** v9 keys that have no equivalent, with why. */
  unmapped: { key: string; reason: string }[];
}

export interface V9ConvertOptions {
  /** Address (host:port) of each v9 gRPC forwarder by name; v9 kept them in the server config, not the scheduler. */
  forwarderAddresses?: Record<string, string>;
}

export const V9_DEFAULT_PORT_RANGE = { start: 40000, end: 49999 } as const;
const DEFAULT_MAX_SURGE = "25%";
const DEFAULT_PULL_POLICY = "IfNotPresent";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A v9 config has no `spec` and at least one of v9's top-level container or autoscaling keys. */
export function isV9Scheduler(doc: unknown): boolean {
  if (!isObj(doc) || "spec" in doc) return false;
  const autoscaling = doc.autoscaling;
  return (
    ["image", "ports", "shutdownTimeout", "cmd", "containers"].some((k) => k in doc) ||
    (isObj(autoscaling) && ("up" in autoscaling || "down" in autoscaling))
  );
}

export function convertV9Scheduler(doc: unknown, options: V9ConvertOptions = {}): V9Conversion {
  if (!isObj(doc)) throw new TypeError("a v9 scheduler config must be an object");
  const notes: string[] = [];
  const unmapped: V9Conversion["unmapped"] = [];
  const handled = new Set<string>();
  const take = (key: string): unknown => {
    handled.add(key);
    return doc[key];
  };

  const name = take("name");
  const out: Obj = { name, game: take("game") };

  const containerKeys = ["image", "imagePullPolicy", "cmd", "command", "env", "ports", "requests", "limits"];
  const v9Containers = take("containers");
  let containers: Obj[];
  if (Array.isArray(v9Containers) && v9Containers.length > 0) {
    containers = v9Containers.map((c, i) =>
      convertContainer(isObj(c) ? c : {}, `containers[${i}]`, String(isObj(c) ? (c.name ?? `c${i}`) : `c${i}`), {
        notes,
        unmapped,
      }),
    );
    for (const k of containerKeys) {
      if (k in doc) {
        handled.add(k);
        unmapped.push({ key: k, reason: "ignored: the config also has `containers`, which v9 used instead" });
      }
    }
  } else {
    const top: Obj = {};
    for (const k of containerKeys) if (k in doc) top[k] = take(k);
    // v9 named its single container after the scheduler.
    containers = [convertContainer(top, "", typeof name === "string" ? name : "game-room", { notes, unmapped })];
  }

  const spec: Obj = { containers };
  const shutdown = take("shutdownTimeout");
  if (shutdown !== undefined) spec.terminationGracePeriod = `${Number(shutdown)}s`;
  else {
    spec.terminationGracePeriod = "100s";
    notes.push("shutdownTimeout absent: terminationGracePeriod set to 100s");
  }
  for (const [target, keys] of [
    ["toleration", ["toleration", "nodeToleration"]],
    ["affinity", ["affinity", "nodeAffinity"]],
  ] as const) {
    for (const k of keys) {
      const v = take(k);
      if (typeof v === "string" && v !== "") spec[target] = v;
    }
  }
  out.spec = spec;

  const portRange = take("portRange");
  if (isObj(portRange)) out.portRange = { start: portRange.start, end: portRange.end };
  else {
    out.portRange = { ...V9_DEFAULT_PORT_RANGE };
    notes.push(
      `portRange absent: using ${V9_DEFAULT_PORT_RANGE.start}-${V9_DEFAULT_PORT_RANGE.end} (v9 took host ports from the server config)`,
    );
  }

  const maxSurge = take("maxSurge");
  if (maxSurge !== undefined) out.maxSurge = String(maxSurge);
  else {
    out.maxSurge = DEFAULT_MAX_SURGE;
    notes.push(`maxSurge absent: set to ${DEFAULT_MAX_SURGE} (v9's watcher.maxSurge default)`);
  }

  const autoscaling = take("autoscaling");
  if (isObj(autoscaling)) {
    const converted = convertAutoscaling(autoscaling, notes, unmapped);
    out.roomsReplicas = converted.min;
    out.autoscaling = converted;
  } else {
    out.roomsReplicas = 0;
    notes.push("autoscaling.min absent: roomsReplicas set to 0");
  }

  const occupiedTimeout = take("occupiedTimeout");
  if (occupiedTimeout !== undefined && Number(occupiedTimeout) > 0) out.occupiedTimeout = Number(occupiedTimeout);

  const forwarders = take("forwarders");
  if (isObj(forwarders)) out.forwarders = convertForwarders(forwarders, options, notes, unmapped);

  for (const k of Object.keys(doc)) {
    if (handled.has(k)) continue;
    unmapped.push({ key: k, reason: reasonFor(k) });
  }
  return { scheduler: out, notes, unmapped };
}

function reasonFor(key: string): string {
  switch (key) {
    case "authorizedUsers":
      return "v9 per-scheduler users have no equivalent; use management API tokens";
    case "version":
      return "versions are assigned by Maestro (v1.0.0, then minor/major bumps)";
    default:
      return "no equivalent in the current model";
  }
}

/** v9's EnsureDefaultValues for an absent `up`/`down` or `trigger`. */
const V9_DEFAULT_COOLDOWN = 600;
const V9_DEFAULT_TRIGGER = { time: 600, usage: 80, threshold: 80, limit: 90 } as const;
const V9_DEFAULT_LIMIT = 90;
const v9TriggerTypes: Record<string, string> = { room: "room", cpu: "cpu", mem: "memory", legacy: "legacy" };

/**
 * v9's `autoscaling` block → the metricsTriggers policy, trigger for trigger: `metricsTrigger` lists as they are
 * (type `mem` becomes `memory`), a legacy single `trigger` as the room trigger v9's watcher turned it into, and v9's
 * defaults where it would have applied them. What v9 itself ignored is reported, not carried over.
 */
function convertAutoscaling(a: Obj, notes: string[], unmapped: V9Conversion["unmapped"]): Obj & { min: number } {
  let min = Number(a.min ?? 0);
  if (!(min >= 1)) {
    notes.push(`autoscaling.min ${min}: set to 1 (the current model keeps at least one room; v9 allowed 0)`);
    min = 1;
  }
  const v9Max = Number(a.max ?? 0);
  // v9: max 0 means unbounded.
  const max = v9Max > 0 ? v9Max : -1;
  const metricsTriggers: Obj = {};
  for (const direction of ["up", "down"] as const) {
    const d = a[direction];
    if (d === undefined || d === null) {
      notes.push(
        `autoscaling.${direction} absent: v9's default applied (cooldown ${V9_DEFAULT_COOLDOWN}s, room trigger usage ` +
          `${V9_DEFAULT_TRIGGER.usage}%, threshold ${V9_DEFAULT_TRIGGER.threshold}%, time ${V9_DEFAULT_TRIGGER.time}s)`,
      );
      metricsTriggers[direction] = {
        cooldown: V9_DEFAULT_COOLDOWN,
        triggers: [
          convertTrigger({ ...V9_DEFAULT_TRIGGER }, "room", direction, `autoscaling.${direction}`, notes, unmapped),
        ],
      };
      continue;
    }
    if (!isObj(d)) {
      unmapped.push({ key: `autoscaling.${direction}`, reason: "must be an object" });
      continue;
    }
    metricsTriggers[direction] = convertDirection(d, direction, notes, unmapped);
  }
  for (const [k, v] of Object.entries(a)) {
    if (["min", "max", "up", "down"].includes(k)) continue;
    if (k === "enablePanicScale") {
      if (v === true) {
        unmapped.push({
          key: "autoscaling.enablePanicScale",
          reason:
            "no equivalent: an occupied room wakes the health controller at once, and an up trigger's limit fires " +
            "without waiting for points or cooldown",
        });
      }
      continue;
    }
    unmapped.push({ key: `autoscaling.${k}`, reason: "no equivalent in metricsTriggers" });
  }
  notes.push(
    "autoscaling: v9 triggers → policy metricsTriggers (autoscaling.cooldown 0: each direction keeps its own)",
  );
  return {
    enabled: true,
    min,
    max,
    cooldown: 0,
    policy: { type: "metricsTriggers", parameters: { metricsTriggers } },
  };
}

function convertDirection(d: Obj, direction: "up" | "down", notes: string[], unmapped: V9Conversion["unmapped"]): Obj {
  const path = `autoscaling.${direction}`;
  const triggers: Obj[] = [];
  const list = Array.isArray(d.metricsTrigger) ? d.metricsTrigger : [];
  if (list.length > 0) {
    list.forEach((t, i) => {
      const at = `${path}.metricsTrigger[${i}]`;
      if (!isObj(t)) {
        unmapped.push({ key: at, reason: "must be an object" });
        return;
      }
      const type = typeof t.type === "string" ? v9TriggerTypes[t.type] : undefined;
      if (!type) {
        unmapped.push({
          key: `${at}.type`,
          reason: `${JSON.stringify(t.type)} is not a v9 trigger type (room, cpu, mem, legacy); v9's watcher had no policy for it`,
        });
        return;
      }
      if (t.type === "mem") notes.push(`${at}.type mem: named memory now`);
      const converted = convertTrigger(t, type, direction, at, notes, unmapped);
      if (converted) triggers.push(converted);
    });
    if (d.trigger !== undefined) {
      unmapped.push({ key: `${path}.trigger`, reason: "v9 ignored it because metricsTrigger is set" });
    }
  } else {
    // v9's watcher turned the single trigger into a room trigger on every tick.
    const single = isObj(d.trigger) ? d.trigger : undefined;
    if (!single) notes.push(`${path}.trigger absent: v9's default room trigger applied`);
    const converted = convertTrigger(
      single ?? { ...V9_DEFAULT_TRIGGER },
      "room",
      direction,
      `${path}.trigger`,
      notes,
      unmapped,
    );
    if (converted) triggers.push(converted);
  }
  if (d.delta !== undefined) {
    unmapped.push({
      key: `${path}.delta`,
      reason:
        "v9's autoscaler ignored it (room, cpu and mem triggers compute their own delta); only its panic scale used " +
        "up.delta. Use a legacy trigger's delta for a fixed step",
    });
  }
  for (const k of Object.keys(d)) {
    if (!["cooldown", "delta", "trigger", "metricsTrigger"].includes(k)) {
      unmapped.push({ key: `${path}.${k}`, reason: "no equivalent in metricsTriggers" });
    }
  }
  return { cooldown: Number(d.cooldown ?? 0), triggers };
}

function convertTrigger(
  t: Obj,
  type: string,
  direction: "up" | "down",
  at: string,
  notes: string[],
  unmapped: V9Conversion["unmapped"],
): Obj | undefined {
  const out: Obj = {
    type,
    usage: Number(t.usage ?? 0),
    threshold: Number(t.threshold ?? 0),
    time: Number(t.time ?? 0),
  };
  if (direction === "up") {
    const limit = Number(t.limit ?? 0);
    // v9 turned an up limit of 0 (or absent) into 90.
    if (limit > 0) out.limit = limit;
    else {
      out.limit = V9_DEFAULT_LIMIT;
      if (t.limit !== undefined) notes.push(`${at}.limit ${limit}: v9 used ${V9_DEFAULT_LIMIT}`);
    }
  } else if (t.limit !== undefined && t.limit !== V9_DEFAULT_LIMIT) {
    unmapped.push({ key: `${at}.limit`, reason: "v9 ignored limit on down triggers" });
  }
  if (type === "legacy") {
    const delta = Number(t.delta ?? 0);
    if (direction === "down" && delta > 0) {
      unmapped.push({
        key: at,
        reason: `legacy down trigger with delta ${delta} left out: v9 required a negative delta and never fired it`,
      });
      return undefined;
    }
    if (delta === 0) {
      unmapped.push({ key: at, reason: "legacy trigger with delta 0 left out: it never changed the fleet in v9" });
      return undefined;
    }
    // Our delta is a room count; the direction gives the sign.
    out.delta = Math.abs(delta);
  } else if (t.delta !== undefined) {
    unmapped.push({ key: `${at}.delta`, reason: `v9 ignored delta on ${type} triggers (the formula sets the amount)` });
  }
  for (const k of Object.keys(t)) {
    if (!["type", "usage", "threshold", "time", "limit", "delta"].includes(k)) {
      unmapped.push({ key: `${at}.${k}`, reason: "no equivalent in a trigger" });
    }
  }
  return out;
}

function convertContainer(
  c: Obj,
  path: string,
  fallbackName: string,
  report: { notes: string[]; unmapped: V9Conversion["unmapped"] },
): Obj {
  const prefix = path ? `${path}.` : "";
  const out: Obj = { name: typeof c.name === "string" ? c.name : fallbackName, image: c.image };
  if (typeof c.imagePullPolicy === "string") out.imagePullPolicy = c.imagePullPolicy;
  else {
    out.imagePullPolicy = DEFAULT_PULL_POLICY;
    report.notes.push(`${prefix}imagePullPolicy absent: set to ${DEFAULT_PULL_POLICY}`);
  }
  const cmd = c.cmd ?? c.command;
  if (Array.isArray(cmd)) out.command = cmd.map(String);
  if (Array.isArray(c.env)) {
    out.environment = c.env.map((e) => {
      if (!isObj(e)) return e;
      const env: Obj = { name: e.name };
      if (e.value !== undefined) env.value = String(e.value);
      if (isObj(e.valueFrom)) env.valueFrom = e.valueFrom;
      return env;
    });
  }
  for (const k of ["requests", "limits"] as const) {
    const r = c[k];
    if (isObj(r))
      out[k] = {
        ...(r.cpu !== undefined && { cpu: String(r.cpu) }),
        ...(r.memory !== undefined && { memory: String(r.memory) }),
      };
  }
  if (Array.isArray(c.ports)) {
    out.ports = c.ports.map((p, i) => {
      if (!isObj(p)) return p;
      const port: Obj = {
        name: p.name ?? `port${i}`,
        protocol: typeof p.protocol === "string" ? p.protocol.toLowerCase() : "tcp",
        port: p.containerPort ?? p.port,
      };
      if (isObj(p.hostPortRange)) port.hostPortRange = p.hostPortRange;
      for (const k of Object.keys(p)) {
        if (!["name", "protocol", "containerPort", "port", "hostPortRange"].includes(k)) {
          report.unmapped.push({
            key: `${prefix}ports[${i}].${k}`,
            reason: "no equivalent; host ports are allocated by Maestro",
          });
        }
      }
      return port;
    });
  }
  const known = ["name", "image", "imagePullPolicy", "cmd", "command", "env", "requests", "limits", "ports"];
  for (const k of Object.keys(c)) {
    if (!known.includes(k)) report.unmapped.push({ key: `${prefix}${k}`, reason: "no equivalent in a container" });
  }
  return out;
}

function convertForwarders(
  forwarders: Obj,
  options: V9ConvertOptions,
  notes: string[],
  unmapped: V9Conversion["unmapped"],
): Obj[] {
  const out: Obj[] = [];
  for (const [plugin, byName] of Object.entries(forwarders)) {
    if (plugin !== "grpc" || !isObj(byName)) {
      unmapped.push({ key: `forwarders.${plugin}`, reason: "only gRPC forwarders exist now" });
      continue;
    }
    for (const [name, cfg] of Object.entries(byName)) {
      const c = isObj(cfg) ? cfg : {};
      const address = options.forwarderAddresses?.[name] ?? "";
      if (!address) {
        notes.push(
          `forwarders.grpc.${name}: an address (host:port) is required now; v9 read it from the server config` +
            " (maestroctl: --forwarder-address " +
            `${name}=host:port)`,
        );
      }
      const fwd: Obj = { name, enable: c.enabled === true, type: "gRPC", address };
      if (isObj(c.metadata)) fwd.options = { timeout: 1000, metadata: c.metadata };
      for (const k of Object.keys(c)) {
        if (k !== "enabled" && k !== "metadata") {
          unmapped.push({ key: `forwarders.grpc.${name}.${k}`, reason: "no equivalent in a forwarder" });
        }
      }
      out.push(fwd);
    }
  }
  return out;
}
