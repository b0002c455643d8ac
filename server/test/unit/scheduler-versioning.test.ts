import { describe, expect, it } from "vitest";
import type { Scheduler } from "../../src/core/entities/scheduler.js";
import { deepEqual, isMajorChange, nextVersion } from "../../src/core/entities/scheduler-versioning.js";
import { validScheduler } from "../support/fixtures.js";

const autoscaling = {
  enabled: true,
  min: 1,
  max: 10,
  cooldown: 30,
  policy: { type: "roomOccupancy", parameters: { roomOccupancy: { readyTarget: 0.5, downThreshold: 0.9 } } },
};

/** The fixture with one change applied to a fresh copy. */
function changed(change: (s: Scheduler) => void): Scheduler {
  const s = validScheduler();
  change(s);
  return s;
}

describe("isMajorChange", () => {
  const current = validScheduler({
    annotations: { team: "a" },
    labels: { tier: "1" },
    forwarders: [{ name: "mm", enable: true, type: "gRPC", address: "mm:9090" }],
  });

  it("is false for an identical scheduler and for a deep copy", () => {
    expect(isMajorChange(current, current)).toBe(false);
    expect(isMajorChange(current, structuredClone(current))).toBe(false);
  });

  it.each<[string, (s: Scheduler) => void]>([
    ["name", (s) => (s.name = "other")],
    ["game", (s) => (s.game = "other")],
    ["state", (s) => (s.state = "in-sync")],
    ["spec.version", (s) => (s.spec.version = "v9.9.9")],
    ["rollbackVersion", (s) => (s.rollbackVersion = "v0.1.0")],
    ["createdAt", (s) => (s.createdAt = new Date(0))],
    ["lastDownscaleAt", (s) => (s.lastDownscaleAt = new Date(1))],
    ["maxSurge", (s) => (s.maxSurge = "3")],
    ["roomsReplicas", (s) => (s.roomsReplicas = 42)],
    ["autoscaling added", (s) => (s.autoscaling = structuredClone(autoscaling))],
    ["matchAllocation", (s) => (s.matchAllocation = { maxMatches: 5 })],
    ["occupiedTimeout", (s) => (s.occupiedTimeout = 600)],
  ])("ignores a change of %s (minor)", (_field, change) => {
    const next = structuredClone(current);
    change(next);
    expect(isMajorChange(current, next)).toBe(false);
  });

  it("ignores autoscaling changes between two autoscaled versions", () => {
    const a = validScheduler({ autoscaling: structuredClone(autoscaling) });
    const b = validScheduler({ autoscaling: { ...structuredClone(autoscaling), min: 3, enabled: false } });
    expect(isMajorChange(a, b)).toBe(false);
    expect(isMajorChange(b, validScheduler())).toBe(false);
  });

  it.each<[string, (s: Scheduler) => void]>([
    ["container image", (s) => (s.spec.containers[0]!.image = "other:2")],
    ["container name", (s) => (s.spec.containers[0]!.name = "other")],
    ["container command", (s) => s.spec.containers[0]!.command.push("--flag")],
    ["container env added", (s) => s.spec.containers[0]!.environment.push({ name: "A", value: "1" })],
    ["container requests", (s) => (s.spec.containers[0]!.requests.cpu = "200m")],
    ["container limits", (s) => (s.spec.containers[0]!.limits.memory = "1Gi")],
    ["container port number", (s) => (s.spec.containers[0]!.ports[0]!.port = 7001)],
    ["container port protocol", (s) => (s.spec.containers[0]!.ports[0]!.protocol = "udp")],
    ["container imagePullPolicy", (s) => (s.spec.containers[0]!.imagePullPolicy = "Always")],
    ["container added", (s) => s.spec.containers.push({ ...structuredClone(s.spec.containers[0]!), name: "side" })],
    ["terminationGracePeriodSeconds", (s) => (s.spec.terminationGracePeriodSeconds = 99)],
    ["toleration", (s) => (s.spec.toleration = "gpu")],
    ["affinity", (s) => (s.spec.affinity = "zone-a")],
    ["restartPolicy", (s) => (s.spec.restartPolicy = "Always")],
    ["portRange", (s) => (s.portRange = { start: 20000, end: 21000 })],
    ["portRange removed", (s) => (s.portRange = undefined)],
    ["forwarders", (s) => (s.forwarders = [{ name: "mm", enable: false, type: "gRPC", address: "mm:9090" }])],
    ["forwarders emptied", (s) => (s.forwarders = [])],
    ["annotations", (s) => (s.annotations = { team: "b" })],
    ["annotation added", (s) => (s.annotations = { team: "a", extra: "x" })],
    ["labels", (s) => (s.labels = {})],
  ])("detects a change of %s (major)", (_field, change) => {
    const next = structuredClone(current);
    change(next);
    expect(isMajorChange(current, next)).toBe(true);
  });

  it("compares arrays in order but maps whatever their key order", () => {
    const twoContainers = changed((s) => {
      s.spec.containers.push({ ...structuredClone(s.spec.containers[0]!), name: "side" });
    });
    const swapped = structuredClone(twoContainers);
    swapped.spec.containers.reverse();
    expect(isMajorChange(twoContainers, swapped)).toBe(true);

    const a = validScheduler({ labels: { x: "1", y: "2" }, annotations: { p: "1", q: "2" } });
    const b = validScheduler({ labels: { y: "2", x: "1" }, annotations: { q: "2", p: "1" } });
    expect(isMajorChange(a, b)).toBe(false);
  });

  it("treats a key holding undefined as absent (storage drops such keys)", () => {
    const stored = JSON.parse(JSON.stringify(current)) as Scheduler;
    const fromApi = structuredClone(current);
    fromApi.spec.containers[0]!.ports[0]!.hostPortRange = undefined;
    fromApi.spec.containers[0]!.environment = [{ name: "A", value: "1", valueFrom: undefined }];
    stored.spec.containers[0]!.environment = [{ name: "A", value: "1" }];
    expect(isMajorChange({ ...stored, createdAt: current.createdAt }, fromApi)).toBe(false);
  });
});

describe("deepEqual", () => {
  it("compares dates by instant, NaN with NaN, and tells arrays from objects", () => {
    expect(deepEqual(new Date(5), new Date(5))).toBe(true);
    expect(deepEqual(new Date(5), new Date(6))).toBe(false);
    expect(deepEqual(Number.NaN, Number.NaN)).toBe(true);
    expect(deepEqual([], {})).toBe(false);
    expect(deepEqual({ a: [1, 2] }, { a: [1, 2] })).toBe(true);
    expect(deepEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(deepEqual({ a: null }, { a: undefined })).toBe(false);
  });
});

describe("nextVersion", () => {
  it("numbers v1.0.0 → v1.1.0 (minor) → v2.0.0 (major), then v1.2.0 and v3.0.0 after switching back to v1", () => {
    const versions = ["v1.0.0"];
    const step = (current: string, major: boolean) => {
      const v = nextVersion(versions, current, major);
      versions.push(v);
      return v;
    };
    expect(step("v1.0.0", false)).toBe("v1.1.0");
    expect(step("v1.1.0", true)).toBe("v2.0.0");
    // Switched back to v1.0.0: a minor goes past every v1 minor, a major past every major.
    expect(step("v1.0.0", false)).toBe("v1.2.0");
    expect(step("v1.2.0", true)).toBe("v3.0.0");
    expect(step("v3.0.0", false)).toBe("v3.1.0");
    expect(nextVersion(versions, "v2.0.0", false)).toBe("v2.1.0");
  });

  it("counts the current version even when the list does not hold it", () => {
    expect(nextVersion([], "v4.2.0", false)).toBe("v4.3.0");
    expect(nextVersion([], "v4.2.0", true)).toBe("v5.0.0");
  });

  it("takes part legacy version shapes, as Maestro's lenient parser did", () => {
    expect(nextVersion(["v1", "v2", "v2.3"], "v2.3", false)).toBe("v2.4.0");
    expect(nextVersion(["v1", "v7"], "v1", true)).toBe("v8.0.0");
  });
});
