import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SchedulersService } from "@maestro/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

// Loaded from its sources, like the forwarder plugins in forwarding-api.test.ts.
const examplePlugin = fileURLToPath(new URL("../../../examples/forwarder-plugin/src/index.ts", import.meta.url));

let maestro: TestMaestro;
const api = (method: string, path: string, body?: unknown) => http(maestro.managementUrl, method, path, body);

function spareRooms(custom: Record<string, unknown> | undefined, enabled = false) {
  return {
    enabled,
    min: 1,
    max: 10,
    cooldown: 0,
    policy: { type: "spareRooms", parameters: custom === undefined ? {} : { custom } },
  };
}

beforeAll(async () => {
  maestro = await startTestMaestro({ plugins: examplePlugin });
});
afterAll(async () => {
  await maestro?.stop();
});

describe("a plugin autoscaling policy with custom parameters", () => {
  it("stores parameters.custom, returns it unchanged and hands it to the policy", async () => {
    const name = "spare-three";
    const body = schedulerBody(name, { game: "spare-game", autoscaling: spareRooms({ spare: 3 }, true) });
    const created = await api("POST", "/schedulers", body);
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect(created.json.scheduler.autoscaling.policy).toEqual({
      type: "spareRooms",
      parameters: { custom: { spare: 3 } },
    });
    await eventually(async () => (await api("GET", `/schedulers/${name}`)).json.scheduler?.state === "in-sync");
    const got = await api("GET", `/schedulers/${name}`);
    expect(got.json.scheduler.autoscaling.policy.parameters).toEqual({ custom: { spare: 3 } });
    // Over gRPC the parameters travel as a binary google.protobuf.Struct.
    const grpc = createClient(SchedulersService, createGrpcTransport({ baseUrl: maestro.managementUrl }));
    const viaGrpc = await grpc.getScheduler({ schedulerName: name });
    expect(viaGrpc.scheduler?.autoscaling?.policy?.parameters?.custom).toEqual({ spare: 3 });

    // No room is busy, so the policy wants exactly `spare` rooms (its default would be 2).
    await eventually(
      async () => {
        const [info] = (await api("GET", "/schedulers/info?game=spare-game")).json.schedulers;
        const total = info.roomsPending + info.roomsUnready + info.roomsReady + info.roomsError;
        return total === 3 && info.roomsTerminating === 0;
      },
      { what: "three rooms from spareRooms with custom.spare = 3", timeoutMs: 30_000 },
    );
  });

  it("refuses bad custom parameters with 400 naming autoscaling.policy.parameters.custom.<field>", async () => {
    const body = schedulerBody("spare-bad", { autoscaling: spareRooms({ spare: -1, spares: 2 }) });
    const res = await api("POST", "/schedulers", body);
    expect(res.status).toBe(400);
    expect(res.json.message).toContain("autoscaling.policy.parameters.custom.spare: must be an integer between 0 and");
    expect(res.json.message).toContain("autoscaling.policy.parameters.custom.spares: is not a spareRooms parameter");
    expect((await api("GET", "/schedulers/spare-bad")).status).toBe(404);
  });

  it("checks custom parameters on patch and new version; a change is a minor version", async () => {
    const name = "spare-patch";
    expect((await api("POST", "/schedulers", schedulerBody(name, { autoscaling: spareRooms(undefined) }))).status).toBe(
      200,
    );
    await eventually(async () => (await api("GET", `/schedulers/${name}`)).json.scheduler?.state === "in-sync");

    const badPatch = await api("PATCH", `/schedulers/${name}`, { autoscaling: spareRooms({ spare: "many" }) });
    expect(badPatch.status).toBe(400);
    expect(badPatch.json.message).toContain("autoscaling.policy.parameters.custom.spare:");
    const badVersion = await api(
      "POST",
      `/schedulers/${name}`,
      schedulerBody(name, { autoscaling: spareRooms({ spare: 1.5 }) }),
    );
    expect(badVersion.status).toBe(400);
    expect(badVersion.json.message).toContain("autoscaling.policy.parameters.custom.spare:");

    const patched = await api("PATCH", `/schedulers/${name}`, { autoscaling: spareRooms({ spare: 4 }) });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    await eventually(async () => {
      const s = (await api("GET", `/schedulers/${name}`)).json.scheduler;
      return s?.spec.version === "v1.1.0" && s.autoscaling.policy.parameters.custom?.spare === 4;
    });
  });
});
