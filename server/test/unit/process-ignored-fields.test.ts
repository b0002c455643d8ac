import { describe, expect, it } from "vitest";
import { fieldsIgnoredByProcessRuntime } from "../../src/adapters/runtime/process/ignored-fields.js";
import { validContainer, validScheduler } from "../support/fixtures.js";

describe("fieldsIgnoredByProcessRuntime", () => {
  it("names the Kubernetes-only fields a scheduler sets, and none of a command-only one", () => {
    const s = validScheduler();
    s.spec.containers = [
      validContainer(),
      { ...validContainer(), name: "b", image: "", imagePullPolicy: "" as never, limits: { memory: "", cpu: "" } },
    ];
    s.spec.toleration = "dedicated";
    const ignored = fieldsIgnoredByProcessRuntime(s);
    expect(ignored).toEqual(
      expect.arrayContaining([
        "spec.containers[0].image",
        "spec.containers[0].imagePullPolicy",
        "spec.containers[0].limits",
        "spec.toleration",
      ]),
    );
    expect(ignored.filter((f) => f.startsWith("spec.containers[1]"))).toEqual([]);
  });
});
