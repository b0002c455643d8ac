import { describe, expect, it } from "vitest";
import type { Autoscaling, Container, ContainerPort, Forwarder, Scheduler } from "../../src/core/entities/scheduler.js";
import { defaultSchedulerLimits } from "../../src/core/entities/scheduler-limits.js";
import {
  assertValidScheduler,
  builtinSchedulerTypes,
  parseQuantity,
  portEnvName,
  type SchedulerTypes,
  validateScheduler,
} from "../../src/core/entities/scheduler-validation.js";
import { isMaestroError, MaestroError } from "../../src/core/errors.js";
import { IDLE_ROOM_COMMAND, validContainer, validScheduler } from "../support/fixtures.js";

/** A mutation that puts a scheduler into the state under test; `as never` lets it write values the type forbids. */
type Mutate = (s: Scheduler) => void;
/** Expected violations, in order: field path and a text (or pattern) the message must contain. */
type Expected = [field: string, message: string | RegExp][];

const c0 = (s: Scheduler): Container => s.spec.containers[0]!;
const p0 = (s: Scheduler): ContainerPort => c0(s).ports[0]!;
const P0 = "spec.containers[0].ports[0]";
const C0 = "spec.containers[0]";
const RFC1123 = "must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (lowercase letters, digits and '-')";

/** A mutation writing one value at a path like `spec.containers[0].name`, whatever the type allows there. */
function set(path: string, value: unknown): Mutate {
  return (s) => {
    const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
    let target = s as unknown as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
    target[keys.at(-1)!] = value;
  };
}

function check(mutate: Mutate): ReturnType<typeof validateScheduler> {
  const s = validScheduler();
  mutate(s);
  return validateScheduler(s);
}

function expectViolations(mutate: Mutate, expected: Expected): void {
  expect(check(mutate)).toEqual(
    expected.map(([field, message]) => ({
      field,
      message: typeof message === "string" ? expect.stringContaining(message) : expect.stringMatching(message),
    })),
  );
}

function addPort(s: Scheduler, port: Partial<ContainerPort>, container = 0): void {
  s.spec.containers[container]!.ports.push({ name: "extra", protocol: "tcp", port: 7001, ...port });
}

function useHostPortRanges(s: Scheduler): void {
  s.portRange = undefined;
  for (const c of s.spec.containers) {
    for (const p of c.ports) p.hostPortRange = { start: 30000, end: 30099 };
  }
}

function validAutoscaling(overrides: Partial<Autoscaling> = {}): Autoscaling {
  return {
    enabled: true,
    min: 1,
    max: 10,
    cooldown: 0,
    policy: { type: "roomOccupancy", parameters: { roomOccupancy: { readyTarget: 0.5, downThreshold: 0.99 } } },
    ...overrides,
  };
}

function validForwarder(overrides: Partial<Forwarder> = {}): Forwarder {
  return {
    name: "matchmaker",
    enable: true,
    type: "gRPC",
    address: "matchmaker.example.com:8080",
    options: { timeout: 1000, metadata: { roomType: "red" } },
    ...overrides,
  };
}

interface Rule {
  rule: string;
  valid: [name: string, mutate: Mutate][];
  invalid: [name: string, mutate: Mutate, expected: Expected][];
}

const rules: Rule[] = [
  {
    rule: "name: required RFC 1123 label",
    valid: [
      ["one char", set("name", "a")],
      ["digits and dashes", set("name", "0game-server-2")],
      ["63 chars", set("name", "a".repeat(63))],
    ],
    invalid: [
      ["empty", set("name", ""), [["name", "is required"]]],
      ["missing", set("name", undefined), [["name", "is required"]]],
      ["upper case", set("name", "Game"), [["name", RFC1123]]],
      ["underscore", set("name", "my_game"), [["name", RFC1123]]],
      ["leading dash", set("name", "-game"), [["name", RFC1123]]],
      ["trailing dash", set("name", "game-"), [["name", RFC1123]]],
      ["dot", set("name", "my.game"), [["name", RFC1123]]],
      ["64 chars", set("name", "a".repeat(64)), [["name", "must be at most 63 characters"]]],
      [
        "64 chars and bad characters",
        set("name", "A".repeat(64)),
        [
          ["name", "must be at most 63 characters"],
          ["name", RFC1123],
        ],
      ],
    ],
  },
  {
    rule: "game: required",
    valid: [["any text", set("game", "My Game!")]],
    invalid: [
      ["empty", set("game", ""), [["game", "is required"]]],
      ["blank", set("game", "  "), [["game", "is required"]]],
    ],
  },
  {
    rule: "state: one of schedulerStates",
    valid: [
      ["creating", set("state", "creating")],
      ["in-sync", set("state", "in-sync")],
      ["terminating", set("state", "terminating")],
      ["on-error", set("state", "on-error")],
    ],
    invalid: [
      ["empty", set("state", ""), [["state", "is required"]]],
      ["unknown", set("state", "running"), [["state", "must be one of creating, in-sync, terminating, on-error"]]],
      ["wrong case", set("state", "Creating"), [["state", "must be one of"]]],
    ],
  },
  {
    rule: "maxSurge: integer ≥ 1 or N% with N ≥ 1",
    valid: [
      ["1", set("maxSurge", "1")],
      ["25", set("maxSurge", "25")],
      ["1%", set("maxSurge", "1%")],
      ["100%", set("maxSurge", "100%")],
      ["150%", set("maxSurge", "150%")],
    ],
    invalid: [
      ["empty", set("maxSurge", ""), [["maxSurge", "is required"]]],
      ...[
        "0",
        "0%",
        "-1",
        "1.5",
        "1.5%",
        "abc",
        "%",
        "10 %",
        "ten%",
        "10%%",
        // Digits alone are not enough: this one has no exact number and overflowed the surge arithmetic.
        "99999999999999999999",
        "1000000000%",
      ].map((value): Rule["invalid"][number] => [
        JSON.stringify(value),
        set("maxSurge", value),
        [["maxSurge", "must be an integer from 1 to 999999999 or a percentage N% in that range"]],
      ]),
    ],
  },
  {
    rule: "roomsReplicas: integer ≥ 0",
    valid: [
      ["0", set("roomsReplicas", 0)],
      ["500", set("roomsReplicas", 500)],
    ],
    invalid: [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, undefined].map((value) => [
      String(value),
      set("roomsReplicas", value),
      [["roomsReplicas", "must be an integer greater than or equal to 0"]],
    ]),
  },
  {
    rule: "matchAllocation.maxMatches: required, integer 1..35",
    valid: [
      ["1", set("matchAllocation", { maxMatches: 1 })],
      ["35", set("matchAllocation", { maxMatches: 35 })],
    ],
    invalid: [
      ["missing matchAllocation", set("matchAllocation", undefined), [["matchAllocation", "is required"]]],
      ...[0, 36, -1, 2.5, undefined].map((value): Rule["invalid"][number] => [
        String(value),
        set("matchAllocation", { maxMatches: value as never }),
        [["matchAllocation.maxMatches", "must be an integer between 1 and 35"]],
      ]),
    ],
  },
  {
    rule: "occupiedTimeout: optional, ≥ 0 seconds",
    valid: [
      ["unset", set("occupiedTimeout", undefined)],
      ["0", set("occupiedTimeout", 0)],
      ["an hour", set("occupiedTimeout", 3600)],
    ],
    invalid: [-1, Number.NaN, Number.POSITIVE_INFINITY, "60"].map((value) => [
      String(value),
      set("occupiedTimeout", value),
      [["occupiedTimeout", "must be greater than or equal to 0"]],
    ]),
  },
  {
    rule: "spec: required",
    valid: [],
    invalid: [["missing", set("spec", undefined), [["spec", "is required"]]]],
  },
  {
    rule: "spec.version: required vMAJOR.MINOR.PATCH",
    valid: [
      ["v1.0.0", set("spec.version", "v1.0.0")],
      ["v10.20.30", set("spec.version", "v10.20.30")],
    ],
    invalid: [
      ["empty", set("spec.version", ""), [["spec.version", "is required"]]],
      ...["1.0.0", "v1.0", "v1", "v1.0.0-beta", "v01.0.0", "latest"].map((value): Rule["invalid"][number] => [
        value,
        set("spec.version", value),
        [["spec.version", "must be a semantic version vMAJOR.MINOR.PATCH"]],
      ]),
    ],
  },
  {
    rule: "spec.terminationGracePeriodSeconds: > 0",
    valid: [
      ["fraction", set("spec.terminationGracePeriodSeconds", 0.5)],
      ["large", set("spec.terminationGracePeriodSeconds", 3600)],
    ],
    invalid: [0, -1, Number.NaN, Number.POSITIVE_INFINITY, undefined].map((value) => [
      String(value),
      set("spec.terminationGracePeriodSeconds", value),
      [["spec.terminationGracePeriod", "must be greater than 0"]],
    ]),
  },
  {
    rule: "spec.restartPolicy: one of restartPolicies",
    valid: [
      ["Always", set("spec.restartPolicy", "Always")],
      ["OnFailure", set("spec.restartPolicy", "OnFailure")],
      ["Never", set("spec.restartPolicy", "Never")],
    ],
    invalid: [
      ["empty", set("spec.restartPolicy", ""), [["spec.restartPolicy", "is required"]]],
      [
        "lower case",
        set("spec.restartPolicy", "never"),
        [["spec.restartPolicy", "must be one of Always, OnFailure, Never"]],
      ],
    ],
  },
  {
    rule: "spec.containers: at least one",
    valid: [["two containers", (s) => void s.spec.containers.push(validContainer({ name: "sidecar", ports: [] }))]],
    invalid: [
      ["empty", set("spec.containers", []), [["spec.containers", "must have at least 1 container"]]],
      ["missing", set("spec.containers", undefined), [["spec.containers", "must have at least 1 container"]]],
      ["null entry", set("spec.containers", [null as never]), [[C0, "is required"]]],
    ],
  },
  {
    rule: "container name: required RFC 1123 label, unique",
    valid: [["63 chars", set(`${C0}.name`, "c".repeat(63))]],
    invalid: [
      ["empty", set(`${C0}.name`, ""), [[`${C0}.name`, "is required"]]],
      ["upper case", set(`${C0}.name`, "Game"), [[`${C0}.name`, RFC1123]]],
      ["64 chars", set(`${C0}.name`, "c".repeat(64)), [[`${C0}.name`, "must be at most 63 characters"]]],
      [
        "duplicate",
        (s) => void s.spec.containers.push(validContainer({ ports: [] })),
        [["spec.containers[1].name", /^must be unique within the spec \(spec\.containers\[0\]\.name/]],
      ],
    ],
  },
  {
    rule: "container image: required",
    valid: [["registry image", set(`${C0}.image`, "registry.example.com/game:1.2.3")]],
    invalid: [
      ["empty", set(`${C0}.image`, ""), [[`${C0}.image`, "is required"]]],
      ["missing", set(`${C0}.image`, undefined), [[`${C0}.image`, "is required"]]],
    ],
  },
  {
    rule: "container imagePullPolicy: one of imagePullPolicies",
    valid: [
      ["Always", set(`${C0}.imagePullPolicy`, "Always")],
      ["Never", set(`${C0}.imagePullPolicy`, "Never")],
      ["IfNotPresent", set(`${C0}.imagePullPolicy`, "IfNotPresent")],
    ],
    invalid: [
      ["empty", set(`${C0}.imagePullPolicy`, ""), [[`${C0}.imagePullPolicy`, "is required"]]],
      [
        "lower case",
        set(`${C0}.imagePullPolicy`, "always"),
        [[`${C0}.imagePullPolicy`, "must be one of Always, Never, IfNotPresent"]],
      ],
    ],
  },
  {
    rule: "container requests/limits: required Kubernetes quantities, requests ≤ limits",
    valid: [
      ...["100Mi", "1Gi", "1.5Gi", "128974848", "129e6", "129M", "0", ".5Gi"].map((value): Rule["valid"][number] => [
        `memory ${value}`,
        (s) => {
          c0(s).requests.memory = value;
          c0(s).limits.memory = "2Gi";
        },
      ]),
      ...["0.5", "100m", "2", "1", "250m"].map((value): Rule["valid"][number] => [
        `cpu ${value}`,
        (s) => {
          c0(s).requests.cpu = value;
          c0(s).limits.cpu = "2";
        },
      ]),
      [
        "requests equal to limits in other units",
        (s) => {
          c0(s).requests = { memory: "1Gi", cpu: "100m" };
          c0(s).limits = { memory: "1073741824", cpu: "0.1" };
        },
      ],
    ],
    invalid: [
      ...(["requests", "limits"] as const).flatMap((kind) =>
        (["memory", "cpu"] as const).flatMap((key): Rule["invalid"] => [
          [`${kind}.${key} empty`, set(`${C0}.${kind}.${key}`, ""), [[`${C0}.${kind}.${key}`, "is required"]]],
          ...["100MB", "abc", "-1", "1.2.3", "1 Gi", "Mi"].map((value): Rule["invalid"][number] => [
            `${kind}.${key} ${value}`,
            set(`${C0}.${kind}.${key}`, value),
            [[`${C0}.${kind}.${key}`, "must be a Kubernetes quantity"]],
          ]),
        ]),
      ),
      ["requests missing", set(`${C0}.requests`, undefined), [[`${C0}.requests`, "is required"]]],
      ["limits missing", set(`${C0}.limits`, undefined), [[`${C0}.limits`, "is required"]]],
      [
        "cpu request above limit",
        (s) => {
          c0(s).requests.cpu = "1";
          c0(s).limits.cpu = "500m";
        },
        [[`${C0}.requests.cpu`, "must be less than or equal to limits.cpu"]],
      ],
      [
        "memory request above limit",
        (s) => {
          c0(s).requests.memory = "1Gi";
          c0(s).limits.memory = "1000Mi";
        },
        [[`${C0}.requests.memory`, "must be less than or equal to limits.memory"]],
      ],
    ],
  },
  {
    rule: "container environment: name, value xor valueFrom, exactly one source",
    valid: [
      ["plain value", set(`${C0}.environment`, [{ name: "MY_VAR", value: "1" }])],
      ["empty value", set(`${C0}.environment`, [{ name: "EMPTY", value: "" }])],
      ["dots and dashes", set(`${C0}.environment`, [{ name: "my.var-1", value: "x" }])],
      ["underscore first", set(`${C0}.environment`, [{ name: "_X", value: "x" }])],
      [
        "fieldRef",
        set(`${C0}.environment`, [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }]),
      ],
      [
        "secretKeyRef with proto3's empty value",
        set(`${C0}.environment`, [
          { name: "TOKEN", value: "", valueFrom: { secretKeyRef: { name: "game-secrets", key: "token" } } },
        ]),
      ],
    ],
    invalid: [
      [
        "name empty",
        set(`${C0}.environment`, [{ name: "", value: "x" }]),
        [[`${C0}.environment[0].name`, "is required"]],
      ],
      ...["1ABC", "A=B", "MY VAR", "ÄÖ"].map((name): Rule["invalid"][number] => [
        `name ${name}`,
        set(`${C0}.environment`, [{ name, value: "x" }]),
        [[`${C0}.environment[0].name`, "must be a valid environment variable name"]],
      ]),
      [
        "value and valueFrom",
        set(`${C0}.environment`, [{ name: "X", value: "1", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]),
        [[`${C0}.environment[0].valueFrom`, "must not be set together with value"]],
      ],
      [
        "valueFrom without source",
        set(`${C0}.environment`, [{ name: "X", valueFrom: {} }]),
        [[`${C0}.environment[0].valueFrom`, "must set exactly one of fieldRef or secretKeyRef"]],
      ],
      [
        "valueFrom with both sources",
        set(`${C0}.environment`, [
          {
            name: "X",
            valueFrom: { fieldRef: { fieldPath: "metadata.name" }, secretKeyRef: { name: "s", key: "k" } },
          },
        ]),
        [[`${C0}.environment[0].valueFrom`, "must set exactly one of fieldRef or secretKeyRef"]],
      ],
      [
        "fieldRef without fieldPath",
        set(`${C0}.environment`, [{ name: "X", valueFrom: { fieldRef: { fieldPath: "" } } }]),
        [[`${C0}.environment[0].valueFrom.fieldRef.fieldPath`, "is required"]],
      ],
      [
        "secretKeyRef without name and key",
        set(`${C0}.environment`, [{ name: "X", valueFrom: { secretKeyRef: { name: "", key: "" } } }]),
        [
          [`${C0}.environment[0].valueFrom.secretKeyRef.name`, "is required"],
          [`${C0}.environment[0].valueFrom.secretKeyRef.key`, "is required"],
        ],
      ],
      [
        "second entry reported at its index",
        set(`${C0}.environment`, [{ name: "OK", value: "1" }, { name: "" }]),
        [[`${C0}.environment[1].name`, "is required"]],
      ],
    ],
  },
  {
    rule: "port name: required, ≤ 15 chars, unique across the spec",
    valid: [
      ["15 chars", set(`${P0}.name`, "p".repeat(15))],
      ["two distinct ports", (s) => addPort(s, { name: "http" })],
    ],
    invalid: [
      ["empty", set(`${P0}.name`, ""), [[`${P0}.name`, "is required"]]],
      ["16 chars", set(`${P0}.name`, "p".repeat(16)), [[`${P0}.name`, "must be at most 15 characters"]]],
      [
        "duplicate in one container",
        (s) => addPort(s, { name: "game" }),
        [[`${C0}.ports[1].name`, /^must be unique across all containers \(spec\.containers\[0\]\.ports\[0\]\.name/]],
      ],
      [
        "duplicate across containers",
        (s) => void s.spec.containers.push(validContainer({ name: "sidecar" })),
        [["spec.containers[1].ports[0].name", "must be unique across all containers"]],
      ],
      [
        "same environment variable name",
        (s) => {
          p0(s).name = "game-a";
          addPort(s, { name: "GAME_A" });
        },
        [[`${C0}.ports[1].name`, "MAESTRO_PORT_GAME_A"]],
      ],
    ],
  },
  {
    rule: "port protocol: tcp or udp, sctp refused",
    valid: [
      ["tcp", set(`${P0}.protocol`, "tcp")],
      ["udp", set(`${P0}.protocol`, "udp")],
    ],
    invalid: [
      ["sctp", set(`${P0}.protocol`, "sctp"), [[`${P0}.protocol`, /^sctp is not supported: must be one of tcp, udp$/]]],
      ["upper case", set(`${P0}.protocol`, "TCP"), [[`${P0}.protocol`, /^must be one of tcp, udp$/]]],
      ["empty", set(`${P0}.protocol`, ""), [[`${P0}.protocol`, "is required"]]],
    ],
  },
  {
    rule: "port number: integer 1..65535",
    valid: [
      ["1", set(`${P0}.port`, 1)],
      ["65535", set(`${P0}.port`, 65535)],
    ],
    invalid: [0, 65536, -80, 80.5, undefined].map((value) => [
      String(value),
      set(`${P0}.port`, value),
      [[`${P0}.port`, "must be an integer between 1 and 65535"]],
    ]),
  },
  {
    rule: "port ranges: exactly one of portRange or hostPortRange on every port",
    valid: [
      [
        "hostPortRange on every port",
        (s) => {
          addPort(s, { name: "http" });
          s.spec.containers.push(
            validContainer({ name: "sidecar", ports: [{ name: "admin", protocol: "udp", port: 9000 }] }),
          );
          useHostPortRanges(s);
        },
      ],
      [
        "portRange and a container without ports",
        (s) => void s.spec.containers.push(validContainer({ name: "side", ports: [] })),
      ],
    ],
    invalid: [
      ["none configured", set("portRange", undefined), [["portRange", "no port range configured"]]],
      [
        "both configured",
        set(`${P0}.hostPortRange`, { start: 30000, end: 30010 }),
        [["portRange", "must not be set together with hostPortRange"]],
      ],
      [
        "one port missing its hostPortRange",
        (s) => {
          addPort(s, { name: "http" });
          s.portRange = undefined;
          p0(s).hostPortRange = { start: 30000, end: 30010 };
        },
        [[`${C0}.ports[1].hostPortRange`, /^is required: when portRange is not set, every container port/]],
      ],
      [
        "a port of another container missing its hostPortRange",
        (s) => {
          s.spec.containers.push(
            validContainer({ name: "sidecar", ports: [{ name: "admin", protocol: "tcp", port: 9000 }] }),
          );
          s.portRange = undefined;
          p0(s).hostPortRange = { start: 30000, end: 30010 };
        },
        [["spec.containers[1].ports[0].hostPortRange", "is required"]],
      ],
    ],
  },
  {
    rule: "portRange values: integers 1..65535, start < end, enough ports",
    valid: [
      ["whole range", set("portRange", { start: 1, end: 65535 })],
      [
        "two ports in a two-port range",
        (s) => {
          s.portRange = { start: 20000, end: 20001 };
          addPort(s, { name: "http" });
        },
      ],
    ],
    invalid: [
      [
        "start 0",
        set("portRange", { start: 0, end: 100 }),
        [["portRange.start", "must be an integer between 1 and 65535"]],
      ],
      [
        "end 65536",
        set("portRange", { start: 100, end: 65536 }),
        [["portRange.end", "must be an integer between 1 and 65535"]],
      ],
      [
        "fraction",
        set("portRange", { start: 100.5, end: 200 }),
        [["portRange.start", "must be an integer between 1 and 65535"]],
      ],
      [
        "start = end",
        set("portRange", { start: 100, end: 100 }),
        [["portRange.start", /^must be less than portRange\.end$/]],
      ],
      [
        "start > end",
        set("portRange", { start: 200, end: 100 }),
        [["portRange.start", /^must be less than portRange\.end$/]],
      ],
      [
        "too few ports",
        (s) => {
          s.portRange = { start: 20000, end: 20001 };
          addPort(s, { name: "http" });
          addPort(s, { name: "admin" });
        },
        [["portRange", /^must hold at least 3 ports .* but holds 2$/]],
      ],
    ],
  },
  {
    rule: "hostPortRange values: integers 1..65535, start < end, enough ports",
    valid: [
      [
        "distinct ranges",
        (s) => {
          addPort(s, { name: "http" });
          useHostPortRanges(s);
          c0(s).ports[1]!.hostPortRange = { start: 40000, end: 40001 };
        },
      ],
      [
        "shared two-port range with two ports",
        (s) => {
          addPort(s, { name: "http" });
          useHostPortRanges(s);
          for (const p of c0(s).ports) p.hostPortRange = { start: 40000, end: 40001 };
        },
      ],
    ],
    invalid: [
      [
        "end out of bounds",
        (s) => {
          useHostPortRanges(s);
          p0(s).hostPortRange = { start: 1, end: 70000 };
        },
        [[`${P0}.hostPortRange.end`, "must be an integer between 1 and 65535"]],
      ],
      [
        "start ≥ end",
        (s) => {
          useHostPortRanges(s);
          p0(s).hostPortRange = { start: 5000, end: 4000 };
        },
        [[`${P0}.hostPortRange.start`, /^must be less than hostPortRange\.end$/]],
      ],
      [
        "shared range too small",
        (s) => {
          addPort(s, { name: "http" });
          addPort(s, { name: "admin" });
          useHostPortRanges(s);
          for (const p of c0(s).ports) p.hostPortRange = { start: 40000, end: 40001 };
        },
        [[`${P0}.hostPortRange`, /^must hold at least 3 ports .* but holds 2$/]],
      ],
    ],
  },
  {
    rule: "autoscaling: min ≥ 1, max -1 or ≥ 1, min ≤ max, cooldown ≥ 0",
    valid: [
      ["enabled", set("autoscaling", validAutoscaling())],
      ["disabled", set("autoscaling", validAutoscaling({ enabled: false }))],
      ["unlimited max", set("autoscaling", validAutoscaling({ min: 100, max: -1 }))],
      ["min = max", set("autoscaling", validAutoscaling({ min: 5, max: 5 }))],
      ["cooldown", set("autoscaling", validAutoscaling({ cooldown: 120 }))],
    ],
    invalid: [
      ...[0, -1, 1.5].map((min): Rule["invalid"][number] => [
        `min ${min}`,
        set("autoscaling", validAutoscaling({ min })),
        [["autoscaling.min", "must be an integer greater than or equal to 1"]],
      ]),
      ...[0, -2, 2.5].map((max): Rule["invalid"][number] => [
        `max ${max}`,
        set("autoscaling", validAutoscaling({ max })),
        [["autoscaling.max", "must be -1 (unlimited) or an integer greater than or equal to 1"]],
      ]),
      [
        "min > max",
        set("autoscaling", validAutoscaling({ min: 5, max: 3 })),
        [["autoscaling.min", /^must be less than or equal to autoscaling\.max$/]],
      ],
      [
        "checked when disabled",
        set("autoscaling", validAutoscaling({ enabled: false, min: 0 })),
        [["autoscaling.min", "must be an integer greater than or equal to 1"]],
      ],
      ...[-1, 0.5].map((cooldown): Rule["invalid"][number] => [
        `cooldown ${cooldown}`,
        set("autoscaling", validAutoscaling({ cooldown })),
        [["autoscaling.cooldown", "must be an integer greater than or equal to 0"]],
      ]),
    ],
  },
  {
    rule: "autoscaling policy: type, parameters for the type",
    valid: [
      [
        "fixedBuffer",
        set(
          "autoscaling",
          validAutoscaling({
            policy: { type: "fixedBuffer", parameters: { fixedBuffer: { amount: 1 } } },
          }),
        ),
      ],
      [
        "roomOccupancy near the bounds",
        set(
          "autoscaling",
          validAutoscaling({
            policy: {
              type: "roomOccupancy",
              parameters: { roomOccupancy: { readyTarget: 0.01, downThreshold: 0.999 } },
            },
          }),
        ),
      ],
    ],
    invalid: [
      [
        "policy missing",
        set("autoscaling", validAutoscaling({ policy: undefined as never })),
        [["autoscaling.policy", "is required"]],
      ],
      [
        "type empty",
        set("autoscaling", validAutoscaling({ policy: { type: "", parameters: {} } })),
        [["autoscaling.policy.type", "is required"]],
      ],
      [
        "type unknown",
        set("autoscaling", validAutoscaling({ policy: { type: "cpu", parameters: {} } })),
        [["autoscaling.policy.type", "must be one of roomOccupancy, fixedBuffer"]],
      ],
      [
        "roomOccupancy parameters missing",
        set(
          "autoscaling",
          validAutoscaling({
            policy: { type: "roomOccupancy", parameters: { fixedBuffer: { amount: 2 } } },
          }),
        ),
        [["autoscaling.policy.parameters.roomOccupancy", "is required when policy.type is roomOccupancy"]],
      ],
      [
        "fixedBuffer parameters missing",
        set("autoscaling", validAutoscaling({ policy: { type: "fixedBuffer", parameters: {} } })),
        [["autoscaling.policy.parameters.fixedBuffer", "is required when policy.type is fixedBuffer"]],
      ],
      ...(["readyTarget", "downThreshold"] as const).flatMap((key) =>
        [0, 1, 1.5, -0.1, undefined].map((value): Rule["invalid"][number] => [
          `${key} ${value}`,
          (s) => {
            s.autoscaling = validAutoscaling();
            s.autoscaling.policy.parameters.roomOccupancy![key] = value as never;
          },
          [[`autoscaling.policy.parameters.roomOccupancy.${key}`, "must be greater than 0 and less than 1"]],
        ]),
      ),
      ...[0, -1, 1.5].map((amount): Rule["invalid"][number] => [
        `fixedBuffer amount ${amount}`,
        set(
          "autoscaling",
          validAutoscaling({
            policy: { type: "fixedBuffer", parameters: { fixedBuffer: { amount } } },
          }),
        ),
        [["autoscaling.policy.parameters.fixedBuffer.amount", "must be an integer greater than or equal to 1"]],
      ]),
    ],
  },
  {
    rule: "forwarders: name required and unique, type gRPC, address host:port, timeout ≥ 0",
    valid: [
      ["one forwarder", set("forwarders", [validForwarder()])],
      ["without options", set("forwarders", [validForwarder({ options: undefined })])],
      ["timeout 0", set("forwarders", [validForwarder({ options: { timeout: 0, metadata: {} } })])],
      ["disabled", set("forwarders", [validForwarder({ enable: false })])],
      ["two names", set("forwarders", [validForwarder(), validForwarder({ name: "other" })])],
      ...["10.0.0.1:8080", "[::1]:50051", "localhost:1", "mm.svc.cluster.local:65535"].map(
        (address): Rule["valid"][number] => [`address ${address}`, set("forwarders", [validForwarder({ address })])],
      ),
    ],
    invalid: [
      ["name empty", set("forwarders", [validForwarder({ name: "" })]), [["forwarders[0].name", "is required"]]],
      [
        "name duplicate",
        set("forwarders", [validForwarder(), validForwarder()]),
        [["forwarders[1].name", /^must be unique \(forwarders\[0\]\.name/]],
      ],
      ["type empty", set("forwarders", [validForwarder({ type: "" })]), [["forwarders[0].type", "is required"]]],
      [
        "type grpc",
        set("forwarders", [validForwarder({ type: "grpc" })]),
        [["forwarders[0].type", "must be one of gRPC"]],
      ],
      [
        "address empty",
        set("forwarders", [validForwarder({ address: "" })]),
        [["forwarders[0].address", "is required"]],
      ],
      ...["localhost", "localhost:0", "localhost:70000", "http://mm:80", ":8080", "mm:80/path", "a b:80"].map(
        (address): Rule["invalid"][number] => [
          `address ${address}`,
          set("forwarders", [validForwarder({ address })]),
          [["forwarders[0].address", "must be host:port"]],
        ],
      ),
      ...[-1, 1.5].map((timeout): Rule["invalid"][number] => [
        `timeout ${timeout}`,
        set("forwarders", [validForwarder({ options: { timeout, metadata: {} } })]),
        [["forwarders[0].options.timeout", "must be an integer greater than or equal to 0"]],
      ]),
      ["null entry", set("forwarders", [validForwarder(), null as never]), [["forwarders[1]", "is required"]]],
    ],
  },
  {
    rule: "annotations and labels: non-empty keys",
    valid: [
      ["annotation", set("annotations", { "example.com/owner": "team", empty: "" })],
      ["label", set("labels", { tier: "gold" })],
    ],
    invalid: [
      ["empty annotation key", set("annotations", { "": "x" }), [["annotations", "keys must not be empty"]]],
      ["blank label key", set("labels", { ok: "1", " ": "x" }), [["labels", "keys must not be empty"]]],
    ],
  },
];

describe("validateScheduler", () => {
  describe.each(rules)("$rule", ({ valid, invalid }) => {
    if (valid.length > 0) {
      it.each(valid)("accepts %s", (_name, mutate) => {
        expect(check(mutate)).toEqual([]);
      });
    }
    it.each(invalid)("refuses %s", (_name, mutate, expected) => {
      expectViolations(mutate, expected);
    });
  });

  it("accepts the shared fixture", () => {
    expect(validateScheduler(validScheduler())).toEqual([]);
  });

  it("reports every violation of a scheduler with many errors", () => {
    const s = validScheduler();
    s.name = "Bad_Name";
    s.game = "";
    s.state = "running" as never;
    s.maxSurge = "0";
    s.roomsReplicas = -1;
    s.matchAllocation = { maxMatches: 36 };
    s.spec.version = "1.0";
    s.spec.terminationGracePeriodSeconds = 0;
    s.spec.restartPolicy = "Sometimes" as never;
    c0(s).image = "";
    c0(s).imagePullPolicy = "Maybe" as never;
    c0(s).requests.memory = "lots";
    c0(s).environment = [{ name: "", value: "1" }];
    p0(s).protocol = "sctp";
    p0(s).port = 0;
    s.portRange = { start: 0, end: 10 };
    s.autoscaling = validAutoscaling({ min: 0, max: 0, cooldown: -5 });
    s.forwarders = [validForwarder({ type: "http", address: "nowhere" })];
    s.labels = { "": "x" };

    const fields = validateScheduler(s).map((v) => v.field);
    expect(fields).toEqual([
      "name",
      "game",
      "state",
      "maxSurge",
      "roomsReplicas",
      "matchAllocation.maxMatches",
      "spec.version",
      "spec.terminationGracePeriod",
      "spec.restartPolicy",
      `${C0}.image`,
      `${C0}.imagePullPolicy`,
      `${C0}.environment[0].name`,
      `${C0}.requests.memory`,
      `${P0}.protocol`,
      `${P0}.port`,
      "portRange.start",
      "autoscaling.min",
      "autoscaling.max",
      "autoscaling.cooldown",
      "forwarders[0].type",
      "forwarders[0].address",
      "labels",
    ]);
  });

  it("does not mutate its input", () => {
    const s = validScheduler({ name: "Bad", autoscaling: validAutoscaling({ min: 0 }) });
    const before = structuredClone(s);
    validateScheduler(s);
    expect(s).toEqual(before);
  });
});

describe("custom parameters of a plugin policy", () => {
  const withPolicy = (rule: SchedulerTypes["policyParametersRule"]): SchedulerTypes => ({
    ...builtinSchedulerTypes,
    isPolicyType: (t) => t === "custom" || builtinSchedulerTypes.isPolicyType(t),
    policyTypes: () => [...builtinSchedulerTypes.policyTypes(), "custom"],
    policyParametersRule: rule,
  });
  const withCustom = (custom: unknown, type = "custom") =>
    validScheduler({
      autoscaling: { enabled: true, min: 1, max: 5, cooldown: 0, policy: { type, parameters: { custom } as never } },
    });

  it("prefixes the plugin's fields with autoscaling.policy.parameters.custom and passes {} when unset", () => {
    const seen: unknown[] = [];
    const types = withPolicy(() => (custom) => {
      seen.push(custom);
      return custom.n === 1
        ? []
        : [
            { field: "n", message: "must be 1" },
            { field: "", message: "is odd" },
          ];
    });
    expect(validateScheduler(withCustom({ n: 1 }), types)).toEqual([]);
    expect(validateScheduler(withCustom(undefined), types)).toEqual([
      { field: "autoscaling.policy.parameters.custom.n", message: "must be 1" },
      { field: "autoscaling.policy.parameters.custom", message: "is odd" },
    ]);
    expect(seen).toEqual([{ n: 1 }, {}]);
  });

  it("reports a plugin check that throws as a violation instead of failing", () => {
    const types = withPolicy(() => () => {
      throw new Error("boom");
    });
    expect(validateScheduler(withCustom({}), types)).toEqual([
      { field: "autoscaling.policy.parameters.custom", message: "could not be checked by the custom policy: boom" },
    ]);
  });

  it("accepts anything for a policy without a check, but only an object", () => {
    const types = withPolicy(() => undefined);
    expect(validateScheduler(withCustom({ any: ["thing"] }), types)).toEqual([]);
    expect(validateScheduler(withCustom([1, 2]), types)).toEqual([
      { field: "autoscaling.policy.parameters.custom", message: "must be an object" },
    ]);
  });
});

describe("assertValidScheduler", () => {
  it("returns for a valid scheduler", () => {
    expect(() => assertValidScheduler(validScheduler())).not.toThrow();
  });

  it("throws invalid_argument carrying all violations", () => {
    const s = validScheduler({ name: "", game: "" });
    let caught: unknown;
    try {
      assertValidScheduler(s);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MaestroError);
    expect(isMaestroError(caught, "invalid_argument")).toBe(true);
    const err = caught as MaestroError;
    expect(err.violations).toEqual([
      { field: "name", message: "is required" },
      { field: "game", message: "is required" },
    ]);
    expect(err.message).toContain("name: is required");
    expect(err.message).toContain("game: is required");
  });
});

describe("parseQuantity", () => {
  it.each<[string, number]>([
    ["2", 2],
    ["0.5", 0.5],
    ["100m", 0.1],
    ["1Ki", 1024],
    ["100Mi", 100 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["1e3", 1000],
    ["5E-1", 0.5],
    ["1E", 1e18],
    ["2k", 2000],
  ])("%s = %d", (input, expected) => {
    expect(parseQuantity(input)).toBeCloseTo(expected, 12);
  });

  it.each(["", "abc", "1MB", "-1", "1..0", "Gi", "1 Gi", "1e"])("refuses %j", (input) => {
    expect(parseQuantity(input)).toBeUndefined();
  });
});

describe("portEnvName", () => {
  it.each([
    ["game", "MAESTRO_PORT_GAME"],
    ["game-a", "MAESTRO_PORT_GAME_A"],
    ["clientPort", "MAESTRO_PORT_CLIENTPORT"],
    ["p.1", "MAESTRO_PORT_P_1"],
  ])("%s → %s", (name, expected) => {
    expect(portEnvName(name)).toBe(expected);
  });
});

describe("validScheduler fixture", () => {
  it("has the documented shape", () => {
    const s = validScheduler();
    expect(s).toMatchObject({
      state: "creating",
      portRange: { start: 20000, end: 20999 },
      maxSurge: "10%",
      roomsReplicas: 1,
      matchAllocation: { maxMatches: 1 },
      forwarders: [],
      annotations: {},
      labels: {},
      spec: { version: "v1.0.0", terminationGracePeriodSeconds: 5, restartPolicy: "Never" },
    });
    expect(s.createdAt).toBeInstanceOf(Date);
    expect(s.spec.containers).toHaveLength(1);
    expect(c0(s)).toMatchObject({ name: "game", image: "local", command: [...IDLE_ROOM_COMMAND] });
    expect(c0(s).ports).toEqual([{ name: "game", protocol: "tcp", port: 7000 }]);
  });

  it("returns an independent object graph on every call", () => {
    const a = validScheduler();
    c0(a).ports.push({ name: "x", protocol: "udp", port: 1 });
    a.labels.x = "y";
    const b = validScheduler();
    expect(c0(b).ports).toHaveLength(1);
    expect(b.labels).toEqual({});
  });

  it("merges nested overrides and removes keys given as undefined", () => {
    const s = validScheduler({ spec: { terminationGracePeriodSeconds: 1 }, portRange: undefined, labels: { a: "b" } });
    expect(s.spec.terminationGracePeriodSeconds).toBe(1);
    expect(s.spec.containers).toHaveLength(1);
    expect(s.spec.version).toBe("v1.0.0");
    expect(s.portRange).toBeUndefined();
    expect(s.labels).toEqual({ a: "b" });
  });
});

describe("limits (issue 16: bad input accepted then failing later)", () => {
  const limits = { ...builtinSchedulerTypes, limits: { ...defaultSchedulerLimits, commandRequired: true } };
  const checkWith = (mutate: Mutate) => {
    const s = validScheduler();
    mutate(s);
    return validateScheduler(s, limits);
  };

  it("refuses an empty command, a blank program and null on a runtime that runs the command itself", () => {
    expect(checkWith(set(`${C0}.command`, []))).toEqual([
      { field: `${C0}.command`, message: expect.stringContaining("must name the program to run") },
    ]);
    expect(checkWith(set(`${C0}.command`, [""]))).toEqual([
      { field: `${C0}.command[0]`, message: "must name the program to run" },
    ]);
    expect(checkWith(set(`${C0}.command`, null))).toEqual([
      { field: `${C0}.command`, message: expect.stringContaining("must name the program to run") },
    ]);
    // Kubernetes falls back on the image's entrypoint, so only a blank program is refused there.
    expect(
      validateScheduler({
        ...validScheduler(),
        spec: { ...validScheduler().spec, containers: [validContainer({ command: [] })] },
      }),
    ).toEqual([]);
  });

  it("asks the process runtime for a command only: image, pull policy, requests and limits are optional there", () => {
    const processRuntime = {
      ...builtinSchedulerTypes,
      limits: { ...defaultSchedulerLimits, commandRequired: true, kubernetesFieldsRequired: false },
    };
    const bare = (c: Partial<Container>) => {
      const s = validScheduler();
      s.spec.containers = [{ ...validContainer(), ...c }];
      return s;
    };
    const commandOnly = bare({
      image: "",
      imagePullPolicy: "" as never,
      requests: { memory: "", cpu: "" },
      limits: undefined as never,
    });
    expect(validateScheduler(commandOnly, processRuntime)).toEqual([]);
    // What is given is still checked, and Kubernetes still requires all of it.
    expect(validateScheduler(bare({ imagePullPolicy: "Sometimes" as never }), processRuntime)).toEqual([
      { field: `${C0}.imagePullPolicy`, message: expect.stringContaining("must be one of") },
    ]);
    expect(validateScheduler(bare({ requests: { memory: "lots", cpu: "" } }), processRuntime)).toEqual([
      { field: `${C0}.requests.memory`, message: expect.stringContaining("Kubernetes quantity") },
    ]);
    expect(validateScheduler(commandOnly).map((v) => v.field)).toEqual([
      `${C0}.image`,
      `${C0}.imagePullPolicy`,
      `${C0}.requests.memory`,
      `${C0}.requests.cpu`,
      `${C0}.limits`,
    ]);
  });

  it("bounds roomsReplicas and the autoscaling range by limits.roomsPerScheduler", () => {
    expect(checkWith(set("roomsReplicas", 1_000_000))).toEqual([
      { field: "roomsReplicas", message: "must be at most 10000 (limits.roomsPerScheduler)" },
    ]);
    expect(checkWith(set("roomsReplicas", 10_000))).toEqual([]);
  });

  it("bounds containers, environment variables and command size, naming the setting", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => validContainer({ name: `c${i}`, ports: [] }));
    expect(checkWith(set("spec.containers", many(10_000)))).toEqual([
      { field: "spec.containers", message: "must have at most 16 containers (limits.containersPerSpec)" },
    ]);
    const env = Array.from({ length: 10_000 }, (_, i) => ({ name: `V${i}`, value: "x" }));
    expect(checkWith(set(`${C0}.environment`, env))).toEqual([
      { field: `${C0}.environment`, message: "must have at most 256 variables (limits.envVarsPerContainer)" },
    ]);
    expect(checkWith(set(`${C0}.command`, ["node", "x".repeat(129 * 1024)]))).toEqual([
      { field: `${C0}.command`, message: expect.stringContaining("(limits.commandBytes)") },
    ]);
  });
});
