import { fromJson } from "@bufbuild/protobuf";
import { PatchSchedulerRequestSchema } from "@maestro/proto";
import { describe, expect, it } from "vitest";
import { schedulerPatchFromRequest } from "../../src/api/convert/scheduler-convert.js";
import type { Autoscaling } from "../../src/core/entities/scheduler.js";
import { applySchedulerPatch } from "../../src/core/entities/scheduler-patch.js";
import { validateScheduler } from "../../src/core/entities/scheduler-validation.js";
import { validContainer, validScheduler } from "../support/fixtures.js";

const autoscaling: Autoscaling = {
  enabled: true,
  min: 1,
  max: 10,
  cooldown: 30,
  policy: { type: "roomOccupancy", parameters: { roomOccupancy: { readyTarget: 0.5, downThreshold: 0.9 } } },
};

// One instant for every copy: two calls a millisecond apart must still compare equal.
const CREATED_AT = new Date("2026-01-01T00:00:00Z");

function current() {
  return validScheduler({
    createdAt: CREATED_AT,
    state: "in-sync",
    spec: {
      containers: [
        validContainer({ environment: [{ name: "A", value: "1" }] }),
        validContainer({ name: "side", ports: [{ name: "side", protocol: "udp", port: 7100 }] }),
      ],
    },
    forwarders: [{ name: "mm", enable: true, type: "gRPC", address: "mm:9090" }],
    annotations: { team: "a" },
    labels: { tier: "1" },
    autoscaling,
  });
}

describe("applySchedulerPatch", () => {
  it("returns an equal copy for an empty patch and never mutates its inputs", () => {
    const s = current();
    const before = structuredClone(s);
    const patched = applySchedulerPatch(s, {});
    expect(patched).toEqual(s);
    expect(patched).not.toBe(s);
    patched.spec.containers[0]!.command.push("x");
    expect(s).toEqual(before);
  });

  it("replaces the top-level fields that are present and keeps the others", () => {
    const s = current();
    const patched = applySchedulerPatch(s, {
      maxSurge: "3",
      roomsReplicas: 7,
      portRange: { start: 40000, end: 40100 },
      matchAllocation: { maxMatches: 4 },
      occupiedTimeout: 900,
    });
    expect(patched).toEqual({
      ...s,
      maxSurge: "3",
      roomsReplicas: 7,
      portRange: { start: 40000, end: 40100 },
      matchAllocation: { maxMatches: 4 },
      occupiedTimeout: 900,
    });
  });

  it("replaces forwarders, annotations and labels wholesale", () => {
    const patched = applySchedulerPatch(current(), {
      forwarders: [{ name: "other", enable: false, type: "gRPC", address: "o:1" }],
      annotations: { owner: "b" },
      labels: { tier: "2", zone: "x" },
    });
    expect(patched.forwarders).toEqual([{ name: "other", enable: false, type: "gRPC", address: "o:1" }]);
    expect(patched.annotations).toEqual({ owner: "b" });
    expect(patched.labels).toEqual({ tier: "2", zone: "x" });
  });

  it("patches spec scalars and containers by index, each container field replaced wholesale", () => {
    const s = current();
    const patched = applySchedulerPatch(s, {
      spec: {
        terminationGracePeriodSeconds: 42,
        toleration: "gpu",
        containers: [
          { image: "game:2", environment: [{ name: "B", value: "2" }], requests: { memory: "32Mi", cpu: "50m" } },
          { command: ["./side", "--fast"], ports: [{ name: "side2", protocol: "tcp", port: 7200 }] },
        ],
      },
    });
    expect(patched.spec).toMatchObject({ terminationGracePeriodSeconds: 42, toleration: "gpu", affinity: "" });
    const [game, side] = patched.spec.containers;
    expect(game).toEqual({
      ...s.spec.containers[0],
      image: "game:2",
      environment: [{ name: "B", value: "2" }],
      requests: { memory: "32Mi", cpu: "50m" },
    });
    expect(side).toEqual({
      ...s.spec.containers[1],
      command: ["./side", "--fast"],
      ports: [{ name: "side2", protocol: "tcp", port: 7200 }],
    });
    expect(patched.spec.version).toBe(s.spec.version);
    expect(patched.spec.restartPolicy).toBe(s.spec.restartPolicy);
  });

  it("leaves a container untouched by an empty entry and appends entries past the end", () => {
    const s = current();
    const extra = validContainer({ name: "third", ports: [{ name: "third", protocol: "tcp", port: 7300 }] });
    const patched = applySchedulerPatch(s, { spec: { containers: [{}, {}, extra] } });
    expect(patched.spec.containers).toEqual([...s.spec.containers, extra]);
    expect(validateScheduler(patched)).toEqual([]);
  });

  it("makes an appended partial container fail validation on the fields the patch left out", () => {
    const patched = applySchedulerPatch(current(), { spec: { containers: [{}, {}, { name: "third" }] } });
    const fields = validateScheduler(patched).map((v) => v.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        "spec.containers[2].image",
        "spec.containers[2].imagePullPolicy",
        "spec.containers[2].requests.memory",
      ]),
    );
    expect(fields).not.toContain("spec.containers[2].name");
  });

  it("merges autoscaling field by field, replacing the policy wholesale", () => {
    const s = current();
    const policy = { type: "fixedBuffer", parameters: { fixedBuffer: { amount: 2 } } };
    const patched = applySchedulerPatch(s, { autoscaling: { min: 2, enabled: false, policy } });
    expect(patched.autoscaling).toEqual({ enabled: false, min: 2, max: 10, cooldown: 30, policy });
    expect(s.autoscaling).toEqual(autoscaling);
  });

  it("creates autoscaling when the scheduler has none, leaving unset fields to fail validation", () => {
    const s = validScheduler();
    const partial = applySchedulerPatch(s, { autoscaling: { enabled: true, max: 5 } });
    expect(partial.autoscaling).toEqual({
      enabled: true,
      min: 0,
      max: 5,
      cooldown: 0,
      policy: { type: "", parameters: {} },
    });
    const fields = validateScheduler(partial).map((v) => v.field);
    expect(fields).toEqual(expect.arrayContaining(["autoscaling.min", "autoscaling.policy.type"]));

    const full = applySchedulerPatch(s, { autoscaling: { ...autoscaling } });
    expect(full.autoscaling).toEqual(autoscaling);
    expect(validateScheduler(full)).toEqual([]);
  });
});

describe("schedulerPatchFromRequest (proto3 presence)", () => {
  const patchOf = (json: Record<string, unknown>) =>
    schedulerPatchFromRequest(fromJson(PatchSchedulerRequestSchema, { name: "s", ...json } as never));

  it("an empty body is an empty patch: nothing present, empty lists and maps mean absent", () => {
    const patch = patchOf({ forwarders: [], annotations: {}, labels: {} });
    expect(Object.values(patch).filter((v) => v !== undefined)).toEqual([]);
    expect(applySchedulerPatch(current(), patch)).toEqual(current());
  });

  it("optional scalars are present even when zero or empty", () => {
    const patch = patchOf({ roomsReplicas: 0, maxSurge: "", spec: { toleration: "" } });
    expect(patch.roomsReplicas).toBe(0);
    expect(patch.maxSurge).toBe("");
    expect(patch.spec).toMatchObject({ toleration: "" });
    expect(patch.spec?.affinity).toBeUndefined();
    expect(patch.spec?.containers).toBeUndefined();
    expect(patch.spec?.terminationGracePeriodSeconds).toBeUndefined();
  });

  it("converts every field of a full patch", () => {
    const patch = patchOf({
      spec: {
        terminationGracePeriod: "15s",
        affinity: "zone",
        containers: [
          {
            image: "img:2",
            imagePullPolicy: "Always",
            command: ["./run"],
            environment: [{ name: "E", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
            requests: { memory: "1Mi", cpu: "1m" },
            ports: [{ name: "p", protocol: "udp", port: 9, hostPortRange: { start: 1000, end: 1010 } }],
          },
          { name: "second" },
        ],
      },
      portRange: { start: 100, end: 200 },
      maxSurge: "20%",
      roomsReplicas: 3,
      autoscaling: {
        enabled: true,
        cooldown: 0,
        policy: { type: "fixedBuffer", parameters: { fixedBuffer: { amount: 1 } } },
      },
      forwarders: [{ name: "f", enable: true, type: "gRPC", address: "h:1", options: { timeout: "500" } }],
      annotations: { a: "1" },
      labels: { l: "2" },
      matchAllocation: { maxMatches: 3 },
      occupiedTimeout: "60",
    });
    expect(patch).toEqual({
      spec: {
        terminationGracePeriodSeconds: 15,
        toleration: undefined,
        affinity: "zone",
        containers: [
          {
            name: undefined,
            image: "img:2",
            imagePullPolicy: "Always",
            command: ["./run"],
            environment: [
              {
                name: "E",
                value: undefined,
                valueFrom: { fieldRef: { fieldPath: "metadata.name" }, secretKeyRef: undefined },
              },
            ],
            requests: { memory: "1Mi", cpu: "1m" },
            limits: undefined,
            ports: [{ name: "p", protocol: "udp", port: 9, hostPortRange: { start: 1000, end: 1010 } }],
          },
          {
            name: "second",
            image: undefined,
            imagePullPolicy: undefined,
            command: undefined,
            environment: undefined,
            requests: undefined,
            limits: undefined,
            ports: undefined,
          },
        ],
      },
      portRange: { start: 100, end: 200 },
      maxSurge: "20%",
      roomsReplicas: 3,
      autoscaling: {
        enabled: true,
        min: undefined,
        max: undefined,
        cooldown: 0,
        policy: { type: "fixedBuffer", parameters: { fixedBuffer: { amount: 1 }, roomOccupancy: undefined } },
      },
      forwarders: [{ name: "f", enable: true, type: "gRPC", address: "h:1", options: { timeout: 500, metadata: {} } }],
      annotations: { a: "1" },
      labels: { l: "2" },
      matchAllocation: { maxMatches: 3 },
      occupiedTimeout: 60,
    });
  });
});
