import { describe, expect, it } from "vitest";
import { CreateSchedulerRequestSchema, describeUnknownJsonFields, unknownJsonFields } from "../src/index.js";

describe("unknownJsonFields", () => {
  it("names each unknown key with its path and the nearest field", () => {
    const json = {
      name: "s",
      roomReplicas: 3,
      port_range: { start: 1, ende: 2 },
      spec: { containers: [{ name: "a" }, { name: "b", imag: "x", ports: [{ nmae: "game" }] }] },
      zzzzzzzz: true,
    };
    expect(unknownJsonFields(CreateSchedulerRequestSchema, json)).toEqual([
      { path: "roomReplicas", suggestion: "roomsReplicas" },
      { path: "port_range.ende", suggestion: "end" },
      { path: "spec.containers[1].imag", suggestion: "image" },
      { path: "spec.containers[1].ports[0].nmae", suggestion: "name" },
      { path: "zzzzzzzz" },
    ]);
    expect(describeUnknownJsonFields(unknownJsonFields(CreateSchedulerRequestSchema, { roomReplicas: 3 }))).toBe(
      "unknown field roomReplicas; did you mean roomsReplicas?",
    );
  });

  it("accepts both spellings of a field and leaves free-form JSON alone", () => {
    const json = {
      rooms_replicas: 1,
      maxSurge: "10%",
      spec: { terminationGracePeriod: "10s", containers: [{ image_pull_policy: "Always" }] },
      autoscaling: { policy: { parameters: { custom: { anything: { goes: 1 } } } } },
      annotations: { whatever: "x" },
    };
    expect(unknownJsonFields(CreateSchedulerRequestSchema, json)).toEqual([]);
  });
});
