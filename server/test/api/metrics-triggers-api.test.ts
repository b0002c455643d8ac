import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

let maestro: TestMaestro;
const api = (method: string, path: string, body?: unknown) => http(maestro.managementUrl, method, path, body);

beforeAll(async () => {
  maestro = await startTestMaestro();
});
afterAll(async () => {
  await maestro?.stop();
});

const metricsTriggers = {
  up: {
    cooldown: 30,
    triggers: [
      { type: "cpu", usage: 50, threshold: 80, time: 200, limit: 120 },
      { type: "room", usage: 70, threshold: 80, time: 100 },
    ],
  },
  down: { cooldown: 60, triggers: [{ type: "legacy", usage: 30, threshold: 80, time: 500, delta: 2 }] },
};

function autoscaled(parameters: Record<string, unknown>) {
  return { enabled: false, min: 1, max: 5, cooldown: 0, policy: { type: "metricsTriggers", parameters } };
}

describe("metricsTriggers over REST", () => {
  it("stores the typed trigger lists and returns them as given", async () => {
    const name = "mt-roundtrip";
    const created = await api(
      "POST",
      "/schedulers",
      schedulerBody(name, { autoscaling: autoscaled({ metricsTriggers }) }),
    );
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const got = await api("GET", `/schedulers/${name}`);
    expect(got.json.scheduler.autoscaling.policy).toEqual({ type: "metricsTriggers", parameters: { metricsTriggers } });
  });

  it.each([
    [{}, "autoscaling.policy.parameters.metricsTriggers", "is required"],
    [{ metricsTriggers: {} }, "autoscaling.policy.parameters.metricsTriggers", "at least one trigger"],
    [
      { metricsTriggers: { up: { cooldown: 0, triggers: [{ type: "mem", usage: 50, threshold: 80, time: 60 }] } } },
      "autoscaling.policy.parameters.metricsTriggers.up.triggers[0].type",
      "must be one of room, cpu, memory, legacy",
    ],
    [
      {
        metricsTriggers: {
          down: { cooldown: 0, triggers: [{ type: "room", usage: 50, threshold: 80, time: 60, limit: 90 }] },
        },
      },
      "autoscaling.policy.parameters.metricsTriggers.down.triggers[0].limit",
      "no effect on down triggers",
    ],
    [
      {
        metricsTriggers: {
          up: { cooldown: 0, triggers: [{ type: "room", usage: 0, threshold: 101, time: 0, delta: 1 }] },
        },
      },
      "autoscaling.policy.parameters.metricsTriggers.up.triggers[0].usage",
      "greater than 0",
    ],
    [
      { metricsTriggers: { up: { cooldown: 0, triggers: [{ type: "legacy", usage: 50, threshold: 80, time: 60 }] } } },
      "autoscaling.policy.parameters.metricsTriggers.up.triggers[0].delta",
      "greater than or equal to 1",
    ],
  ])("refuses %j with 400 naming %s, and stores nothing", async (parameters, field, message) => {
    const name = "mt-bad";
    const res = await api("POST", "/schedulers", schedulerBody(name, { autoscaling: autoscaled(parameters) }));
    expect(res.status).toBe(400);
    expect(res.json.message).toContain(field);
    expect(res.json.message).toContain(message);
    expect((await api("GET", `/schedulers/${name}`)).status).toBe(404);
  });

  it("needs the containers' cpu requests for a cpu trigger, as v9 did", async () => {
    const body = schedulerBody("mt-no-requests", { autoscaling: autoscaled({ metricsTriggers }) });
    const container = (body.spec as { containers: Record<string, unknown>[] }).containers[0] as Record<string, unknown>;
    container.requests = { memory: "64Mi", cpu: "" };
    const res = await api("POST", "/schedulers", body);
    expect(res.status).toBe(400);
    expect(res.json.message).toContain("spec.containers[0].requests.cpu");
  });
});
