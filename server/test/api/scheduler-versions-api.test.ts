import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { SchedulersService } from "@maestro/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  http,
  PINGING_ROOM,
  schedulerBody,
  startTestMaestro,
  type TestMaestro,
} from "../support/test-maestro.js";

let maestro: TestMaestro;
const api = (method: string, path: string, body?: unknown) => http(maestro.managementUrl, method, path, body);

beforeAll(async () => {
  // Long enough for a pinging room to come up on a busy machine, short enough to watch an idle one time out.
  maestro = await startTestMaestro({ "rooms.validationTimeoutMs": 5_000, "rooms.validationAttempts": 1 });
});
afterAll(async () => {
  await maestro?.stop();
});

async function createInSync(name: string, overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const body = schedulerBody(name, overrides);
  expect((await api("POST", "/schedulers", body)).status).toBe(200);
  await eventually(async () => (await api("GET", `/schedulers/${name}`)).json.scheduler?.state === "in-sync", {
    what: `${name} in-sync`,
  });
  return body;
}

async function finalOperation(name: string, id: string): Promise<Record<string, any>> {
  return eventually(
    async () => {
      const op = (await api("GET", `/schedulers/${name}/operations/${id}`)).json.operation;
      return op && !["pending", "in_progress"].includes(op.status) ? op : undefined;
    },
    { what: `operation ${id} to end`, timeoutMs: 30_000 },
  );
}

const historyOf = (op: Record<string, any>): string[] => op.executionHistory.map((e: { event: string }) => e.event);

/** Waits for create_new_scheduler_version and the switch it enqueued; returns the first. */
async function versionChanged(name: string, operationId: string): Promise<Record<string, any>> {
  const create = await finalOperation(name, operationId);
  expect(create.status, historyOf(create).join("\n")).toBe("finished");
  const line = historyOf(create).find((e) => e.startsWith("enqueued switch active version operation with id: "));
  const switched = await finalOperation(name, line!.split(" ").pop()!);
  expect(switched).toMatchObject({ definitionName: "switch_active_version", status: "finished" });
  return create;
}

const versionsOf = async (name: string) =>
  ((await api("GET", `/schedulers/${name}/versions`)).json.versions as { version: string; isActive: boolean }[]).map(
    (v) => `${v.version}${v.isActive ? "*" : ""}`,
  );

describe("scheduler versions over REST", () => {
  it("POST /schedulers/{name} with a minor change creates v1.1.0; old versions stay readable with ?version=", async () => {
    const body = await createInSync("minor-rest");
    const res = await api("POST", "/schedulers/minor-rest", { ...body, roomsReplicas: 0, maxSurge: "3" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ operationId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const create = await versionChanged("minor-rest", res.json.operationId);
    expect(create.definitionName).toBe("create_new_scheduler_version");
    expect(create.input.scheduler).toMatchObject({ name: "minor-rest", maxSurge: "3" });
    expect(typeof create.input.scheduler.createdAt).toBe("string");

    const versions = (await api("GET", "/schedulers/minor-rest/versions")).json.versions;
    expect(versions).toEqual([
      { version: "v1.1.0", isActive: true, createdAt: expect.any(String) },
      { version: "v1.0.0", isActive: false, createdAt: expect.any(String) },
    ]);
    expect((await api("GET", "/schedulers/minor-rest")).json.scheduler).toMatchObject({
      maxSurge: "3",
      state: "in-sync",
      spec: { version: "v1.1.0" },
    });
    expect((await api("GET", "/schedulers/minor-rest?version=v1.0.0")).json.scheduler).toMatchObject({
      maxSurge: "10%",
      spec: { version: "v1.0.0" },
    });
    expect((await api("GET", "/schedulers/minor-rest?version=v7.0.0")).status).toBe(404);
  });

  it("POST refuses an invalid definition with 400 naming the fields, and an unknown scheduler with 404", async () => {
    const body = await createInSync("invalid-rest");
    const bad: Record<string, any> = { ...structuredClone(body), maxSurge: "none", roomsReplicas: -2 };
    // A pull policy Kubernetes does not know is refused on every runtime (an image is optional on the process one).
    (bad.spec as { containers: { imagePullPolicy: string }[] }).containers[0]!.imagePullPolicy = "Sometimes";
    const res = await api("POST", "/schedulers/invalid-rest", bad);
    expect(res.status).toBe(400);
    expect(res.json.code).toBe(Code.InvalidArgument);
    for (const field of ["maxSurge:", "roomsReplicas:", "spec.containers[0].imagePullPolicy:"]) {
      expect(res.json.message).toContain(field);
    }
    const otherGame = await api("POST", "/schedulers/invalid-rest", { ...body, game: "another-game" });
    expect(otherGame.status).toBe(400);
    expect(otherGame.json.message).toContain("game: must be the scheduler's game (test-game)");
    expect((await api("POST", "/schedulers/no-such-scheduler", schedulerBody("no-such-scheduler"))).status).toBe(404);
    expect(await versionsOf("invalid-rest")).toEqual(["v1.0.0*"]);
    expect((await api("GET", "/schedulers/invalid-rest/operations?stage=pending")).json.operations).toEqual([]);
  });

  it("POST /schedulers/{name} of the active definition answers 409 and makes no version nor operation", async () => {
    const body = await createInSync("resubmit", { roomsReplicas: 1 });
    for (const again of [body, { ...body, spec: { ...(body.spec as object), version: "v7.0.0" } }]) {
      const res = await api("POST", "/schedulers/resubmit", again);
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({
        code: Code.AlreadyExists,
        message: "no change found to scheduler resubmit: its active version v1.0.0 is this definition",
      });
    }
    expect(await versionsOf("resubmit")).toEqual(["v1.0.0*"]);
    expect((await api("GET", "/schedulers/resubmit/operations?stage=pending")).json.operations).toEqual([]);
    const finals = (await api("GET", "/schedulers/resubmit/operations?stage=final")).json.operations;
    expect(finals.map((o: { definitionName: string }) => o.definitionName)).not.toContain(
      "create_new_scheduler_version",
    );
    // Any real change still makes a version.
    const changed = await api("POST", "/schedulers/resubmit", { ...body, roomsReplicas: 2 });
    expect(changed.status).toBe(200);
  });

  it("PATCH answers 409 when nothing changes, 400 for an invalid result and 404 for an unknown scheduler", async () => {
    await createInSync("patch-refusals");
    for (const body of [{}, { forwarders: [], annotations: {}, labels: {} }, { roomsReplicas: 0 }]) {
      const res = await api("PATCH", "/schedulers/patch-refusals", body);
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({
        code: Code.AlreadyExists,
        message: "no change found to scheduler patch-refusals",
      });
    }
    const invalid = await api("PATCH", "/schedulers/patch-refusals", {
      maxSurge: "0%",
      autoscaling: { enabled: true },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json.message).toContain("maxSurge:");
    expect(invalid.json.message).toContain("autoscaling.policy.type:");
    expect((await api("PATCH", "/schedulers/no-such-scheduler", { roomsReplicas: 1 })).status).toBe(404);
    expect(await versionsOf("patch-refusals")).toEqual(["v1.0.0*"]);
  });

  it("PATCH of one field makes a minor version with only that field changed", async () => {
    await createInSync("patch-one");
    const before = (await api("GET", "/schedulers/patch-one")).json.scheduler;
    const res = await api("PATCH", "/schedulers/patch-one", { matchAllocation: { maxMatches: 3 } });
    expect(res.status).toBe(200);
    await versionChanged("patch-one", res.json.operationId);
    const after = (await api("GET", "/schedulers/patch-one")).json.scheduler;
    expect(after).toEqual({
      ...before,
      matchAllocation: { maxMatches: 3 },
      spec: { ...before.spec, version: "v1.1.0" },
      createdAt: expect.any(String),
    });
  });

  it("a major version validated by a pinging room becomes v2.0.0; PUT switches back; next numbers follow", async () => {
    const body = await createInSync("major-rest", { roomsReplicas: 0 });
    (body.spec as { containers: { command: string[] }[] }).containers[0]!.command = PINGING_ROOM;
    const res = await api("POST", "/schedulers/major-rest", body);
    expect(res.status).toBe(200);
    // A version change is in progress: other version changes are refused until it is done.
    const busy = await api("PATCH", "/schedulers/major-rest", { roomsReplicas: 1 });
    expect(busy.status).toBe(400);
    expect(busy.json).toMatchObject({ code: Code.FailedPrecondition });
    expect(busy.json.message).toContain("create_new_scheduler_version");
    expect((await api("PUT", "/schedulers/major-rest", { version: "v1.0.0" })).status).toBe(400);

    const create = await versionChanged("major-rest", res.json.operationId);
    expect(historyOf(create)).toEqual(
      expect.arrayContaining([
        "Major version detected, starting game room validation process...",
        "1º Attempt: Game room validation success!",
      ]),
    );
    expect(await versionsOf("major-rest")).toEqual(["v2.0.0*", "v1.0.0"]);
    expect((await api("GET", "/schedulers/major-rest")).json.scheduler.spec.containers[0].command).toEqual(
      PINGING_ROOM,
    );
    await eventually(
      async () => {
        const rooms = (await api("GET", "/schedulers/major-rest/rooms")).json.rooms as { isValidationRoom: boolean }[];
        return rooms.every((r) => !r.isValidationRoom);
      },
      { what: "the validation room to be removed" },
    );

    expect((await api("PUT", "/schedulers/major-rest", { version: "v5.0.0" })).status).toBe(404);
    const back = await api("PUT", "/schedulers/major-rest", { version: "v1.0.0" });
    expect(back.status).toBe(200);
    expect((await finalOperation("major-rest", back.json.operationId)).status).toBe("finished");
    expect(await versionsOf("major-rest")).toEqual(["v2.0.0", "v1.0.0*"]);

    const minor = await api("PATCH", "/schedulers/major-rest", { roomsReplicas: 0, maxSurge: "2" });
    await versionChanged("major-rest", minor.json.operationId);
    expect((await api("GET", "/schedulers/major-rest")).json.scheduler.spec.version).toBe("v1.1.0");

    const major = await api("PATCH", "/schedulers/major-rest", {
      spec: { containers: [{ command: PINGING_ROOM }] },
      labels: { tier: "gold" },
    });
    await versionChanged("major-rest", major.json.operationId);
    const active = (await api("GET", "/schedulers/major-rest")).json.scheduler;
    expect(active).toMatchObject({ labels: { tier: "gold" }, maxSurge: "2", spec: { version: "v3.0.0" } });
    expect(await versionsOf("major-rest")).toEqual(["v3.0.0*", "v1.1.0", "v2.0.0", "v1.0.0"]);
  });

  it("a major version whose room never becomes ready fails and leaves the versions unchanged", async () => {
    await createInSync("never-ready");
    const res = await api("PATCH", "/schedulers/never-ready", { annotations: { owner: "team-b" } });
    expect(res.status).toBe(200);
    const op = await finalOperation("never-ready", res.json.operationId);
    expect(op.status).toBe("error");
    const history = historyOf(op);
    expect(history.some((e) => e.startsWith("1º Attempt: Got timeout waiting for the GRU with ID: never-ready-"))).toBe(
      true,
    );
    expect(history).toContain("All validation attempts have failed, operation aborted!");
    expect(await versionsOf("never-ready")).toEqual(["v1.0.0*"]);
    expect((await api("GET", "/schedulers/never-ready")).json.scheduler.annotations ?? {}).toEqual({});
    expect((await api("GET", "/schedulers/never-ready/operations?stage=pending")).json.operations).toEqual([]);
  });
});

describe("scheduler versions over Connect", () => {
  it("patchScheduler and switchActiveVersion return operation ids; a missing version is NotFound", async () => {
    await createInSync("connect-versions");
    const client = createClient(
      SchedulersService,
      createConnectTransport({ baseUrl: maestro.managementUrl, httpVersion: "1.1" }),
    );
    const { operationId } = await client.patchScheduler({ name: "connect-versions", roomsReplicas: 0, maxSurge: "7" });
    await versionChanged("connect-versions", operationId);
    expect(await versionsOf("connect-versions")).toEqual(["v1.1.0*", "v1.0.0"]);

    await expect(
      client.switchActiveVersion({ schedulerName: "connect-versions", version: "v8.0.0" }),
    ).rejects.toMatchObject({ code: Code.NotFound });
    const back = await client.switchActiveVersion({ schedulerName: "connect-versions", version: "v1.0.0" });
    expect((await finalOperation("connect-versions", back.operationId)).status).toBe("finished");
    expect(await versionsOf("connect-versions")).toEqual(["v1.1.0", "v1.0.0*"]);
    await expect(client.patchScheduler({ name: "connect-versions" })).rejects.toMatchObject({
      code: Code.AlreadyExists,
    });
  });
});
