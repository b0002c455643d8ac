import { createConnection, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

// Issue 16's probe findings at the API edge: each case was accepted, hung or answered 500 before the fix.
let maestro: TestMaestro;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  http(maestro.managementUrl, method, path, body, headers);
const KIB = 1024;

beforeAll(async () => {
  maestro = await startTestMaestro({
    "limits.headersTimeoutMs": 300,
    "limits.idleTimeoutMs": 600,
    "limits.connectBodyBytes": 64 * KIB,
    "limits.grpcWebBodyBytes": 64 * KIB,
    "limits.grpcBodyBytes": 64 * KIB,
    "limits.restBodyBytes": 768 * KIB,
  });
  expect((await api("POST", "/schedulers", schedulerBody("hostile"))).status).toBe(200);
  await eventually(async () => (await api("GET", "/schedulers/hostile")).json.scheduler?.state === "in-sync");
});
afterAll(async () => {
  await maestro?.stop();
});

/** A 400 in our error shape whose message names `field`. */
function expectInvalid(res: { status: number; json: any }, field: string): void {
  expect(res.status, JSON.stringify(res.json)).toBe(400);
  expect(res.json).toMatchObject({ code: 3, details: [] });
  expect(res.json.message).toContain(field);
}

function withContainer(patch: Record<string, unknown>): Record<string, unknown> {
  const body = schedulerBody("hostile-new");
  const containers = (body.spec as { containers: Record<string, unknown>[] }).containers;
  containers[0] = { ...containers[0], ...patch };
  return body;
}

describe("NUL bytes (finding 5): 400 naming the field, never a 500 or a database error", () => {
  it("in a query parameter and a path parameter", async () => {
    expectInvalid(await api("GET", "/schedulers/info?game=%00"), "game");
    expectInvalid(await api("GET", "/schedulers/a%00b"), "scheduler_name");
    expectInvalid(await api("GET", "/schedulers?game=x%00y"), "game");
  });

  it("in a body string on create, PATCH and new version, with nothing changed", async () => {
    const env = [{ name: "A", value: "a\u0000b" }];
    expectInvalid(await api("POST", "/schedulers", withContainer({ environment: env })), "environment[0].value");
    expectInvalid(
      await api("PATCH", "/schedulers/hostile", { spec: { containers: [{ environment: env }] } }),
      "environment[0].value",
    );
    const version = schedulerBody("hostile", { game: "test-game" });
    (version.spec as { containers: Record<string, unknown>[] }).containers[0]!.environment = env;
    expectInvalid(await api("POST", "/schedulers/hostile", version), "environment[0].value");
    expectInvalid(await api("PATCH", "/schedulers/hostile", { labels: { "k\u0000": "v" } }), "labels");
    expect((await api("GET", "/schedulers/hostile/versions")).json.versions).toHaveLength(1);
    expect((await api("GET", "/schedulers/hostile/operations")).json.pendingOperations ?? []).toEqual([]);
  });

  it("over Connect JSON", async () => {
    const res = await fetch(`${maestro.managementUrl}/maestro.v1.SchedulersService/GetSchedulersInfo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ game: "\u0000" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("game") });
  });
});

describe("bad input accepted then failing later (finding 6)", () => {
  it('refuses command [], [""] and null on the process runtime', async () => {
    expectInvalid(await api("POST", "/schedulers", withContainer({ command: [] })), "spec.containers[0].command");
    expectInvalid(await api("POST", "/schedulers", withContainer({ command: [""] })), "spec.containers[0].command[0]");
    expectInvalid(await api("POST", "/schedulers", withContainer({ command: null })), "spec.containers[0].command");
  });

  it("bounds roomsReplicas, maxSurge, containers, environment and arguments, naming the setting", async () => {
    const r = await api("POST", "/schedulers", schedulerBody("hostile-new", { roomsReplicas: 1_000_000 }));
    expectInvalid(r, "limits.roomsPerScheduler");
    expectInvalid(
      await api("POST", "/schedulers", schedulerBody("hostile-new", { maxSurge: "99999999999999999999" })),
      "maxSurge",
    );
    const env = Array.from({ length: 10_000 }, (_, i) => ({ name: `V${i}`, value: "x" }));
    expectInvalid(await api("POST", "/schedulers", withContainer({ environment: env })), "limits.envVarsPerContainer");
    const big = ["node", "-e", "x".repeat(129 * KIB)];
    expectInvalid(await api("POST", "/schedulers", withContainer({ command: big })), "limits.commandBytes");
    const container = (schedulerBody("x").spec as { containers: Record<string, unknown>[] }).containers[0]!;
    const containers = Array.from({ length: 500 }, (_, i) => ({ ...container, name: `c${i}`, ports: [] }));
    const many = await api("PATCH", "/schedulers/hostile", { spec: { containers } });
    expectInvalid(many, "limits.containersPerSpec");
    expectInvalid(await api("POST", "/schedulers/hostile/add-rooms", { amount: 10_001 }), "limits.roomsPerScheduler");
  });

  it("refuses Kubernetes-only environment sources on the process runtime at create, PATCH and new version", async () => {
    const field = "spec.containers[0].environment[0].valueFrom.fieldRef.fieldPath";
    const nodeName = [{ name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }];
    const secret = [{ name: "S", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }];
    const created = await api("POST", "/schedulers", withContainer({ environment: nodeName }));
    expectInvalid(created, field);
    expect(created.json.message).toContain("unsupported by the process runtime");
    expectInvalid(
      await api("POST", "/schedulers", withContainer({ environment: secret })),
      "spec.containers[0].environment[0].valueFrom.secretKeyRef",
    );
    expectInvalid(
      await api("PATCH", "/schedulers/hostile", { spec: { containers: [{ environment: nodeName }] } }),
      field,
    );
    const version = schedulerBody("hostile", { game: "test-game" });
    (version.spec as { containers: Record<string, unknown>[] }).containers[0]!.environment = nodeName;
    expectInvalid(await api("POST", "/schedulers/hostile", version), field);
    expect((await api("GET", "/schedulers/hostile-new")).status).toBe(404);
    expect((await api("GET", "/schedulers/hostile/versions")).json.versions).toHaveLength(1);
  });

  it("answers PATCH spec.containers [] with 400, not 409 'no change'", async () => {
    expectInvalid(await api("PATCH", "/schedulers/hostile", { spec: { containers: [] } }), "spec.containers");
  });
});

describe("contract gaps (finding 8)", () => {
  it("answers an over-long path parameter in our error shape", async () => {
    const res = await api("GET", `/schedulers/${"a".repeat(150)}`);
    expect(res.status).toBe(414);
    expect(res.json).toEqual({ code: 3, message: expect.stringContaining("path parameter"), details: [] });
  });

  it("declares the bearer security scheme in the OpenAPI document", async () => {
    const doc = (await api("GET", "/openapi.json")).json;
    expect(doc.components.securitySchemes).toMatchObject({ bearer: { type: "http", scheme: "bearer" } });
    expect(doc.security).toEqual([{ bearer: [] }]);
  });
});

describe("body limits per protocol (finding 3): refused before the body is read", () => {
  const body = Buffer.alloc(1024 * KIB, 0x20);

  it("Connect", async () => {
    const res = await fetch(`${maestro.managementUrl}/maestro.v1.SchedulersService/CreateScheduler`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      code: "resource_exhausted",
      message: expect.stringContaining("limits.connectBodyBytes"),
    });
  });

  it("Connect without a declared length is cut while read", async () => {
    const chunks = [body.subarray(0, 512 * KIB), body.subarray(512 * KIB)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const res = await fetch(`${maestro.managementUrl}/maestro.v1.SchedulersService/CreateScheduler`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(await res.json()).toMatchObject({ code: "resource_exhausted" });
  });

  it("gRPC-Web", async () => {
    const res = await fetch(`${maestro.managementUrl}/maestro.v1.SchedulersService/CreateScheduler`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body,
    });
    await res.arrayBuffer();
    expect(res.headers.get("grpc-status")).toBe("8");
    expect(decodeURIComponent(res.headers.get("grpc-message") ?? "")).toContain("limits.grpcWebBodyBytes");
  });

  it("REST", async () => {
    const res = await api("POST", "/schedulers", body.toString());
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ code: 8, message: expect.stringContaining("limits.restBodyBytes") });
  });
});

describe("connection deadlines (finding 4)", () => {
  function connect(): Promise<Socket> {
    const { hostname, port } = new URL(maestro.managementUrl);
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: hostname, port: Number(port) }, () => resolve(socket));
      socket.once("error", reject);
    });
  }
  const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once("close", () => resolve()));

  it("closes a connection that sends nothing", async () => {
    const socket = await connect();
    socket.on("error", () => {});
    await closed(socket);
  });

  it("closes a connection that sends its head too slowly", async () => {
    const socket = await connect();
    socket.on("error", () => {});
    const done = closed(socket);
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => socket.writable && socket.write("X-A: b\r\n"), 50);
    await done;
    clearInterval(drip);
  });

  it("closes a connection whose declared body never comes", async () => {
    const socket = await connect();
    socket.on("error", () => {});
    const done = closed(socket);
    socket.write(
      'POST /schedulers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na',
    );
    await done;
  });

  it("closes an idle kept-alive connection, but only after serving it", async () => {
    const socket = await connect();
    socket.on("error", () => {});
    let reply = "";
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString();
    });
    const done = closed(socket);
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await done;
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
  });
});
