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
    expect(keys).toEqual(
      expect.arrayContaining(["autoscaling.max", "autoscaling.up", "autoscaling.down", "authorizedUsers"]),
    );
    expect(keys).not.toContain("image");
    expect(keys).not.toContain("toleration");
    expect(unmapped.find((u) => u.key === "autoscaling.up")?.reason).toMatch(/room trigger/);
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
});
