import { describe, expect, it } from "vitest";
import { diffDefinitions } from "../src/spec-diff.js";

describe("diffDefinitions", () => {
  it("lists changed, added and removed fields by path, ignoring the version number and dates", () => {
    const before = {
      name: "s",
      maxSurge: "1",
      createdAt: "2026-01-01T00:00:00Z",
      spec: {
        version: "v1.0.0",
        containers: [{ image: "game:1", environment: [{ name: "A", value: "1" }] }],
      },
      labels: { team: "red" },
    };
    const after = {
      name: "s",
      maxSurge: "1",
      createdAt: "2026-02-01T00:00:00Z",
      spec: {
        version: "v2.0.0",
        containers: [{ image: "game:2", environment: [] }],
      },
      labels: { team: "red", tier: "gold" },
    };
    expect(diffDefinitions(before, after)).toEqual([
      { path: "labels.tier", before: undefined, after: '"gold"' },
      { path: "spec.containers[0].environment", before: undefined, after: "[]" },
      { path: "spec.containers[0].environment[0].name", before: '"A"', after: undefined },
      { path: "spec.containers[0].environment[0].value", before: '"1"', after: undefined },
      { path: "spec.containers[0].image", before: '"game:1"', after: '"game:2"' },
    ]);
    expect(diffDefinitions(before, structuredClone(before))).toEqual([]);
  });
});
