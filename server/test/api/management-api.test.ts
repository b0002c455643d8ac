import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SchedulersService } from "@maestro/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoomStatusName } from "../../src/core/entities/game-room.js";
import { gameRoom, instanceOf } from "../support/fixtures.js";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

let maestro: TestMaestro;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  http(maestro.managementUrl, method, path, body, headers);

beforeAll(async () => {
  maestro = await startTestMaestro();
});
afterAll(async () => {
  await maestro?.stop();
});

describe("management API over REST", () => {
  it("creates a scheduler that becomes in-sync, readable by name, list and info", async () => {
    const created = await api("POST", "/schedulers", schedulerBody("rest-create"));
    expect(created.status).toBe(200);
    expect(created.json.scheduler).toMatchObject({
      name: "rest-create",
      game: "test-game",
      state: "creating",
      maxSurge: "10%",
      spec: { version: "v1.0.0", terminationGracePeriod: "2s", restartPolicy: "Never" },
      matchAllocation: { maxMatches: 1 },
    });
    await eventually(async () => (await api("GET", "/schedulers/rest-create")).json.scheduler?.state === "in-sync", {
      what: "scheduler in-sync",
    });
    const list = await api("GET", "/schedulers?game=test-game");
    expect(list.json.schedulers.map((s: { name: string }) => s.name)).toContain("rest-create");
    const none = await api("GET", "/schedulers?game=no-such-game");
    expect(none).toEqual({ status: 200, json: { schedulers: [] } });
    const info = await api("GET", "/schedulers/info?game=test-game");
    expect(info.json.schedulers.find((s: { name: string }) => s.name === "rest-create")).toMatchObject({
      roomsReplicas: 0,
      roomsReady: 0,
      roomsPending: 0,
    });
    const versions = await api("GET", "/schedulers/rest-create/versions");
    expect(versions.json.versions).toEqual([expect.objectContaining({ version: "v1.0.0", isActive: true })]);
  });

  it("info counts the rooms of every status, error and unready included", async () => {
    const name = "info-counts";
    expect((await api("POST", "/schedulers", schedulerBody(name, { game: "info-game" }))).status).toBe(200);
    await eventually(async () => (await api("GET", `/schedulers/${name}`)).json.scheduler?.state === "in-sync");
    const statuses: RoomStatusName[] = ["error", "error", "unready", "allocated", "active", "active", "active"];
    for (const [i, status] of statuses.entries()) {
      const id = `${name}-${i}`;
      await maestro.context.rooms.createRoom(gameRoom({ id, schedulerName: name, status }));
      // An instance the runtime cannot tell about keeps the health controller from touching the room.
      await maestro.context.instances.upsertInstance(instanceOf(id, "unknown", name));
    }
    const info = await api("GET", "/schedulers/info?game=info-game");
    expect(info.status).toBe(200);
    expect(info.json.schedulers).toEqual([
      expect.objectContaining({
        name,
        roomsReady: 0,
        roomsOccupied: 0,
        roomsPending: 0,
        roomsTerminating: 0,
        roomsError: 2,
        roomsUnready: 1,
        roomsAllocated: 1,
        roomsActive: 3,
      }),
    ]);
  });

  it("refuses a bad scheduler with 400 naming every bad field, and creates nothing", async () => {
    const bad = schedulerBody("Bad_Name", { game: "", maxSurge: "ten", portRange: { start: 10, end: 5 } });
    (bad.spec as { containers: { ports: unknown[] }[] }).containers[0]!.ports = [
      { name: "", protocol: "sctp", port: 0 },
    ];
    const res = await api("POST", "/schedulers", bad);
    expect(res.status).toBe(400);
    expect(res.json.code).toBe(Code.InvalidArgument);
    for (const field of [
      "name:",
      "game:",
      "maxSurge:",
      "portRange.start:",
      "spec.containers[0].ports[0].name:",
      "spec.containers[0].ports[0].protocol:",
      "spec.containers[0].ports[0].port:",
    ]) {
      expect(res.json.message).toContain(field);
    }
    const list = await api("GET", "/schedulers");
    expect(list.json.schedulers.map((s: { name: string }) => s.name)).not.toContain("Bad_Name");
  });

  it("creates a process-runtime scheduler from a command alone (no image, pull policy, requests or limits)", async () => {
    const body = schedulerBody("command-only", { roomsReplicas: 1 });
    const spec = body.spec as { containers: Record<string, unknown>[] };
    const { name, command, ports } = spec.containers[0]!;
    spec.containers[0] = { name, command, ports };
    const created = await api("POST", "/schedulers", body);
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    await eventually(async () => (await api("GET", "/schedulers/command-only")).json.scheduler?.state === "in-sync");
    await eventually(async () => (await api("GET", "/schedulers/command-only/rooms")).json.rooms?.length === 1, {
      what: "its room",
    });
    spec.containers[0] = { name, ports };
    const noCommand = await api("POST", "/schedulers", { ...body, name: "no-command" });
    expect(noCommand.status).toBe(400);
    expect(noCommand.json.message).toContain("spec.containers[0].command: must name the program to run");
  });

  it("refuses unknown keys with 400 naming the path and the nearest field, and creates nothing", async () => {
    const typo = await api("POST", "/schedulers", { ...schedulerBody("typo"), roomReplicas: 3 });
    expect(typo.status).toBe(400);
    expect(typo.json).toMatchObject({ code: 3, message: "unknown field roomReplicas; did you mean roomsReplicas?" });
    const body = schedulerBody("typo");
    const spec = body.spec as { containers: Record<string, unknown>[] };
    spec.containers[0] = { ...spec.containers[0], imagePullPolicyy: "Always" };
    const nested = await api("POST", "/schedulers", body);
    expect(nested.status).toBe(400);
    expect(nested.json.message).toBe(
      "unknown field spec.containers[0].imagePullPolicyy; did you mean imagePullPolicy?",
    );
    expect((await api("GET", "/schedulers/typo")).status).toBe(404);
  });

  it("answers wrong JSON types and malformed JSON with 400", async () => {
    const wrongType = await api("POST", "/schedulers", { ...schedulerBody("wrong-type"), roomsReplicas: "many" });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.message).toMatch(/rooms_replicas|roomsReplicas/);
    const malformed = await api("POST", "/schedulers", "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.json.message).toMatch(/not valid JSON/);
    expect((await api("GET", "/schedulers/wrong-type")).status).toBe(404);
  });

  it('accepts terminationGracePeriod as 100, "100" and "100s", and JSON sent without a JSON content type', async () => {
    const forms: [string, unknown][] = [
      ["grace-number", 100],
      ["grace-string", "100"],
      ["grace-duration", "100s"],
    ];
    for (const [name, grace] of forms) {
      const body = schedulerBody(name);
      (body.spec as Record<string, unknown>).terminationGracePeriod = grace;
      const res = await fetch(`${maestro.managementUrl}/schedulers`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" }, // what `curl --data-raw` sends
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      const json = (await res.json()) as { scheduler: { spec: { terminationGracePeriod: string } } };
      expect(json.scheduler.spec.terminationGracePeriod).toBe("100s");
    }
  });

  it("answers unknown schedulers with 404 and duplicates with 409", async () => {
    const missing = await api("GET", "/schedulers/does-not-exist");
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      code: Code.NotFound,
      message: expect.stringContaining("does-not-exist"),
      details: [],
    });
    expect((await api("DELETE", "/schedulers/does-not-exist")).status).toBe(404);
    expect((await api("POST", "/schedulers", schedulerBody("dup"))).status).toBe(200);
    const again = await api("POST", "/schedulers", schedulerBody("dup"));
    expect(again.status).toBe(409);
    expect(again.json.code).toBe(Code.AlreadyExists);
  });

  it("adds and removes rooms through add-rooms / remove-rooms", async () => {
    expect((await api("POST", "/schedulers", schedulerBody("scaling"))).status).toBe(200);
    const add = await api("POST", "/schedulers/scaling/add-rooms", { amount: 2 });
    expect(add.status).toBe(200);
    expect(add.json.operationId).toMatch(/^[0-9a-f-]{36}$/);
    const rooms = await eventually(
      async () => {
        const r = (await api("GET", "/schedulers/scaling/rooms")).json.rooms;
        // A room is listed from the moment it is stored; its address arrives with its instance.
        return r.length === 2 && r.every((room: { host: string }) => room.host) ? r : undefined;
      },
      { what: "2 rooms" },
    );
    expect(rooms[0]).toMatchObject({ schedulerName: "scaling", version: "v1.0.0", host: "127.0.0.1" });
    expect(rooms[0].ports[0]).toMatchObject({ name: "game", protocol: "tcp" });
    expect((await api("GET", "/schedulers/scaling")).json.scheduler.roomsReplicas).toBe(2);
    const op = await api("GET", `/schedulers/scaling/operations/${add.json.operationId}`);
    expect(op.json.operation).toMatchObject({ definitionName: "add_rooms", input: { amount: 2 } });

    expect((await api("POST", "/schedulers/scaling/remove-rooms", { amount: 5 })).status).toBe(400);
    expect((await api("POST", "/schedulers/scaling/add-rooms", { amount: 0 })).status).toBe(400);
    expect((await api("POST", "/schedulers/scaling/remove-rooms", { amount: 1 })).status).toBe(200);
    await eventually(async () => (await api("GET", "/schedulers/scaling/rooms")).json.rooms.length === 1, {
      what: "1 room left",
    });
    expect((await api("GET", "/schedulers/scaling")).json.scheduler.roomsReplicas).toBe(1);
  });

  it("lists operations by stage with Maestro's rules", async () => {
    expect((await api("POST", "/schedulers", schedulerBody("ops"))).status).toBe(200);
    await eventually(async () => (await api("GET", "/schedulers/ops")).json.scheduler.state === "in-sync");
    const noStage = await api("GET", "/schedulers/ops/operations");
    expect(noStage.status).toBe(400);
    expect(noStage.json.message).toContain("stage");
    expect((await api("GET", "/schedulers/ops/operations?stage=pending&page=1")).status).toBe(400);
    expect((await api("GET", "/schedulers/ops/operations?stage=final&orderBy=name")).status).toBe(400);
    const final = await api("GET", "/schedulers/ops/operations?stage=final&perPage=1&orderBy=createdAt%20asc");
    expect(final.status).toBe(200);
    expect(final.json).toMatchObject({ page: 1, pageSize: 1 });
    expect(final.json.operations).toHaveLength(1);
    expect(final.json.operations[0].definitionName).toBe("create_scheduler");
    const full = await api("GET", `/schedulers/ops/operations/${final.json.operations[0].id}`);
    const events = full.json.operation.executionHistory.map((e: { event: string }) => e.event);
    expect(events[0]).toBe("Created");
    expect(events).toContain("Starting operation");
    expect(events.at(-1)).toBe("Operation finished");
    const cancelFinished = await api("POST", `/schedulers/ops/operations/${final.json.operations[0].id}/cancel`);
    expect(cancelFinished.status).toBe(409);
  });

  it("deletes a scheduler through an operation", async () => {
    expect((await api("POST", "/schedulers", schedulerBody("to-delete", { roomsReplicas: 1 }))).status).toBe(200);
    await eventually(async () => (await api("GET", "/schedulers/to-delete/rooms")).json.rooms?.length === 1);
    const del = await api("DELETE", "/schedulers/to-delete");
    expect(del.status).toBe(200);
    await eventually(async () => (await api("GET", "/schedulers/to-delete")).status === 404, { what: "deleted" });
    expect((await api("GET", "/schedulers/to-delete/rooms")).status).toBe(404);
  });

  it("serves the OpenAPI document generated from the protos", async () => {
    const res = await fetch(`${maestro.managementUrl}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths["/schedulers"] ?? {})).toEqual(expect.arrayContaining(["get", "post"]));
    expect(doc.paths["/scheduler/{scheduler_name}/rooms/{room_name}/ping"]).toHaveProperty("put");
  });

  it("serves health endpoints", async () => {
    expect(await (await fetch(`${maestro.managementUrl}/healthz`)).text()).toBe("OK");
    expect((await fetch(`${maestro.managementUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${maestro.urls.internalApi}/readyz`)).status).toBe(200);
  });
});

describe("management API over Connect, gRPC-Web and gRPC (same port)", () => {
  it("serves the same implementation on every protocol", async () => {
    expect((await api("POST", "/schedulers", schedulerBody("multi-proto"))).status).toBe(200);
    const transports = {
      connect: createConnectTransport({ baseUrl: maestro.managementUrl, httpVersion: "1.1" }),
      grpcWeb: createGrpcWebTransport({ baseUrl: maestro.managementUrl, httpVersion: "1.1" }),
      grpc: createGrpcTransport({ baseUrl: maestro.managementUrl }),
    };
    for (const [name, transport] of Object.entries(transports)) {
      const client = createClient(SchedulersService, transport);
      const res = await client.getScheduler({ schedulerName: "multi-proto" });
      expect(res.scheduler?.name, name).toBe("multi-proto");
      const err = await client.getScheduler({ schedulerName: "nope" }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code, name).toBe(Code.NotFound);
    }
  });

  it("reports validation errors as InvalidArgument over Connect", async () => {
    const client = createClient(
      SchedulersService,
      createConnectTransport({ baseUrl: maestro.managementUrl, httpVersion: "1.1" }),
    );
    const err = (await client.createScheduler({ name: "x" }).catch((e: unknown) => e)) as ConnectError;
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("game: is required");
  });
});

describe("managementApi.ignoreUnknownFields", () => {
  it("drops unknown keys as Maestro did, when an operator turns it on", async () => {
    const lenient = await startTestMaestro({ "managementApi.ignoreUnknownFields": true });
    try {
      const res = await http(lenient.managementUrl, "POST", "/schedulers", { ...schedulerBody("lenient"), extra: 1 });
      expect(res.status).toBe(200);
    } finally {
      await lenient.stop();
    }
  });
});
