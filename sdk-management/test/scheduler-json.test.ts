import { describe, expect, it } from "vitest";
import { MaestroClientError, newVersionFromScheduler, patchFromJson, schedulerFromJson } from "../src/index.js";

const base = {
  name: "s",
  game: "g",
  maxSurge: "1",
  spec: { containers: [{ name: "c", image: "i", ports: [{ name: "p", protocol: "tcp", port: 1 }] }] },
};

describe("schedulerFromJson", () => {
  it.each([100, "100", "100s"])("accepts terminationGracePeriod %j as 100 seconds", (value) => {
    const req = schedulerFromJson({ ...base, spec: { ...base.spec, terminationGracePeriod: value } });
    expect(req.spec?.terminationGracePeriod?.seconds).toBe(100n);
    expect(req.spec?.containers[0]?.ports[0]?.port).toBe(1);
  });

  it("rejects unknown fields and wrong types with a typed error naming them", () => {
    const unknown = (() => {
      try {
        schedulerFromJson({ ...base, roomReplicas: 3 });
      } catch (err) {
        return err;
      }
    })();
    expect(unknown).toBeInstanceOf(MaestroClientError);
    expect((unknown as MaestroClientError).code).toBe("invalid_argument");
    expect((unknown as MaestroClientError).rawMessage).toBe(
      "invalid scheduler: unknown field roomReplicas; did you mean roomsReplicas?",
    );
    expect(() => patchFromJson("s", { spec: { terminationGracePeriodd: "7" } })).toThrow(
      "invalid patch: unknown field spec.terminationGracePeriodd; did you mean terminationGracePeriod?",
    );
    expect(() => schedulerFromJson({ ...base, roomsReplicas: "many" })).toThrow(/roomsReplicas|rooms_replicas/);
    expect(() => schedulerFromJson([base])).toThrow(MaestroClientError);
  });

  it("turns a definition into a new version and a patch into a request", () => {
    const nv = newVersionFromScheduler(schedulerFromJson({ ...base, roomsReplicas: 2 }));
    expect(nv.$typeName).toBe("maestro.v1.NewSchedulerVersionRequest");
    expect(nv.roomsReplicas).toBe(2);
    expect(nv.spec?.containers[0]?.image).toBe("i");
    const patch = patchFromJson("s", { roomsReplicas: 5, spec: { terminationGracePeriod: "7" } });
    expect(patch.name).toBe("s");
    expect(patch.roomsReplicas).toBe(5);
    expect(patch.spec?.terminationGracePeriod?.seconds).toBe(7n);
    expect(patch.maxSurge).toBeUndefined();
  });
});
