import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { convertV9Scheduler, isV9Scheduler, schedulerFromJson } from "../src/index.js";
import { V9_DEFAULT_PORT_RANGE } from "../src/v9-convert.js";
import { fixture } from "./support/run-cli.js";

const v9 = async () => parse(await readFile(fixture("v9-scheduler.yaml"), "utf8")) as Record<string, unknown>;

describe("isV9Scheduler", () => {
  it("detects v9 top-level keys and leaves current schedulers alone", async () => {
    expect(isV9Scheduler(await v9())).toBe(true);
    expect(isV9Scheduler({ name: "a", shutdownTimeout: 10 })).toBe(true);
    expect(isV9Scheduler({ name: "a", autoscaling: { up: {} } })).toBe(true);
    const current = JSON.parse(await readFile(fixture("scheduler.json"), "utf8"));
    expect(isV9Scheduler(current)).toBe(false);
    expect(isV9Scheduler({ name: "a", image: "x", spec: {} })).toBe(false);
    expect(isV9Scheduler({ name: "a", autoscaling: { enabled: true, min: 1 } })).toBe(false);
  });
});

describe("convertV9Scheduler", () => {
  it("maps every v9 field that has an equivalent", async () => {
    const { scheduler } = convertV9Scheduler(await v9(), { forwarderAddresses: { matchmaker: "mm.local:9090" } });
    expect(scheduler).toMatchObject({
      name: "cli-v9",
      game: "cli-game",
      roomsReplicas: 1,
      occupiedTimeout: 300,
      portRange: V9_DEFAULT_PORT_RANGE,
      spec: {
        terminationGracePeriod: "3s",
        toleration: "dedicated-gameservers",
        affinity: "dedicated-gameservers",
        containers: [
          {
            name: "cli-v9",
            image: "local",
            imagePullPolicy: "IfNotPresent",
            command: ["node", "-e", "setInterval(() => {}, 1000)"],
            environment: [{ name: "GAME_MODE", value: "ranked" }],
            requests: { memory: "64Mi", cpu: "100m" },
            limits: { memory: "128Mi", cpu: "200m" },
            ports: [{ name: "game", protocol: "udp", port: 7000 }],
          },
        ],
      },
      forwarders: [
        {
          name: "matchmaker",
          enable: true,
          type: "gRPC",
          address: "mm.local:9090",
          options: { metadata: { roomType: "ranked" } },
        },
      ],
    });
    // The result must be a valid current definition, not just a similar-looking object.
    const req = schedulerFromJson(scheduler);
    expect(req.spec?.terminationGracePeriod?.seconds).toBe(3n);
    expect(req.occupiedTimeout).toBe(300n);
  });

  it("reports every key that did not map and every default it picked", async () => {
    const { notes, unmapped } = convertV9Scheduler(await v9());
    const keys = unmapped.map((u) => u.key);
    expect(keys).toEqual(["authorizedUsers"]);
    expect(notes.join("\n")).toMatch(/portRange absent: using 40000-49999/);
    expect(notes.join("\n")).toMatch(/forwarders\.grpc\.matchmaker: an address/);
    expect(notes.join("\n")).toMatch(/maxSurge absent/);
  });

  it("keeps an explicit portRange and converts v9 multi-container configs", () => {
    const { scheduler, unmapped, notes } = convertV9Scheduler({
      name: "multi",
      game: "g",
      shutdownTimeout: "30",
      portRange: { start: 20000, end: 20999 },
      containers: [
        { name: "a", image: "img-a", cmd: ["./a"], ports: [{ containerPort: 1, protocol: "TCP", name: "p" }] },
        { name: "b", image: "img-b", imagePullPolicy: "Always", securityContext: {} },
      ],
    });
    expect(scheduler.portRange).toEqual({ start: 20000, end: 20999 });
    expect(notes.join("\n")).not.toMatch(/portRange absent/);
    expect(scheduler.spec).toMatchObject({
      terminationGracePeriod: "30s",
      containers: [
        { name: "a", image: "img-a", command: ["./a"], ports: [{ name: "p", protocol: "tcp", port: 1 }] },
        { name: "b", image: "img-b", imagePullPolicy: "Always" },
      ],
    });
    expect(unmapped.map((u) => u.key)).toContain("containers[1].securityContext");
  });

  it("leaves a forwarder without address empty so the server names the field", async () => {
    const { scheduler } = convertV9Scheduler(await v9());
    expect((scheduler.forwarders as { address: string }[])[0]?.address).toBe("");
  });

  it("maps the fixture's room triggers to metricsTriggers with nothing left over", async () => {
    const { scheduler } = convertV9Scheduler(await v9());
    expect(scheduler.autoscaling).toEqual({
      enabled: true,
      min: 1,
      max: 10,
      cooldown: 0,
      policy: {
        type: "metricsTriggers",
        parameters: {
          metricsTriggers: {
            up: { cooldown: 300, triggers: [{ type: "room", usage: 70, threshold: 80, time: 600, limit: 90 }] },
            down: { cooldown: 300, triggers: [{ type: "room", usage: 50, threshold: 80, time: 900 }] },
          },
        },
      },
    });
    const req = schedulerFromJson(scheduler);
    expect(req.autoscaling?.policy?.parameters?.metricsTriggers?.up?.triggers[0]?.limit).toBe(90);
  });

  it("maps cpu, mem and legacy triggers in order (mem → memory, legacy down delta → a room count)", () => {
    const { scheduler, notes, unmapped } = convertV9Scheduler({
      name: "c",
      game: "g",
      image: "img",
      requests: { cpu: "1000m", memory: "1Gi" },
      autoscaling: {
        min: 2,
        max: 20,
        up: {
          cooldown: 30,
          metricsTrigger: [
            { type: "cpu", usage: 50, threshold: 80, time: 200, limit: 95 },
            { type: "mem", usage: 50, threshold: 80, time: 200 },
            { type: "legacy", usage: 60, threshold: 80, time: 100, delta: 2 },
          ],
        },
        down: {
          cooldown: 60,
          metricsTrigger: [
            { type: "mem", usage: 30, threshold: 80, time: 200 },
            { type: "legacy", usage: 30, threshold: 80, time: 500, delta: -1 },
          ],
        },
      },
    });
    expect(unmapped).toEqual([]);
    expect(notes.join("\n")).toMatch(/metricsTrigger\[1\]\.type mem: named memory now/);
    const mt = (scheduler.autoscaling as { policy: { parameters: { metricsTriggers: unknown } } }).policy.parameters
      .metricsTriggers;
    expect(mt).toEqual({
      up: {
        cooldown: 30,
        triggers: [
          { type: "cpu", usage: 50, threshold: 80, time: 200, limit: 95 },
          { type: "memory", usage: 50, threshold: 80, time: 200, limit: 90 },
          { type: "legacy", usage: 60, threshold: 80, time: 100, limit: 90, delta: 2 },
        ],
      },
      down: {
        cooldown: 60,
        triggers: [
          { type: "memory", usage: 30, threshold: 80, time: 200 },
          { type: "legacy", usage: 30, threshold: 80, time: 500, delta: 1 },
        ],
      },
    });
  });

  it("turns the legacy single trigger into the room trigger v9's watcher made of it, with v9's defaults", () => {
    const { scheduler, notes, unmapped } = convertV9Scheduler({
      name: "l",
      game: "g",
      image: "img",
      autoscaling: {
        min: 0,
        max: 0,
        up: { delta: 1, cooldown: 30, trigger: { usage: 50, limit: 85, time: 600, threshold: 80 } },
      },
    });
    const autoscaling = scheduler.autoscaling as { min: number; max: number; policy: { parameters: Obj } };
    expect(autoscaling).toMatchObject({ min: 1, max: -1 });
    expect(autoscaling.policy.parameters.metricsTriggers).toEqual({
      up: { cooldown: 30, triggers: [{ type: "room", usage: 50, threshold: 80, time: 600, limit: 85 }] },
      down: { cooldown: 600, triggers: [{ type: "room", usage: 80, threshold: 80, time: 600 }] },
    });
    expect(notes.join("\n")).toMatch(/autoscaling\.min 0: set to 1/);
    expect(notes.join("\n")).toMatch(/autoscaling\.down absent: v9's default applied/);
    expect(unmapped.map((u) => u.key)).toEqual(["autoscaling.up.delta"]);
  });

  it("reports what v9 ignored or could not run: unknown types, down limits, positive legacy down deltas, panic scale", () => {
    const { scheduler, unmapped } = convertV9Scheduler({
      name: "r",
      game: "g",
      image: "img",
      autoscaling: {
        min: 1,
        enablePanicScale: true,
        up: {
          trigger: { usage: 70 },
          metricsTrigger: [
            { type: "gpu", usage: 50, threshold: 80, time: 60 },
            { type: "room", usage: 50, threshold: 80, time: 60, delta: 3 },
          ],
        },
        down: {
          metricsTrigger: [
            { type: "room", usage: 30, threshold: 80, time: 60, limit: 50 },
            { type: "legacy", usage: 30, threshold: 80, time: 60, delta: 1 },
          ],
        },
      },
    });
    expect(unmapped.map((u) => u.key).sort()).toEqual([
      "autoscaling.down.metricsTrigger[0].limit",
      "autoscaling.down.metricsTrigger[1]",
      "autoscaling.enablePanicScale",
      "autoscaling.up.metricsTrigger[0].type",
      "autoscaling.up.metricsTrigger[1].delta",
      "autoscaling.up.trigger",
    ]);
    const mt = (scheduler.autoscaling as { policy: { parameters: { metricsTriggers: Obj } } }).policy.parameters
      .metricsTriggers;
    expect(mt).toEqual({
      up: { cooldown: 0, triggers: [{ type: "room", usage: 50, threshold: 80, time: 60, limit: 90 }] },
      down: { cooldown: 0, triggers: [{ type: "room", usage: 30, threshold: 80, time: 60 }] },
    });
  });
});

type Obj = Record<string, unknown>;
