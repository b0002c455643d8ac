import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { OperationsService } from "@maestro/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/**
 * Every operation type reads back over every protocol and encoding. The CLI and the dashboard use binary protobuf,
 * so an input that only JSON cannot encode (a `roomsIds` left undefined by remove_rooms answered 500) went unnoticed.
 */
let maestro: TestMaestro;
const S = "read-back";
const api = (method: string, path: string, body?: unknown) => http(maestro.managementUrl, method, path, body);
const ids = new Map<string, string>();

async function ok(method: string, path: string, body?: unknown): Promise<string> {
  const res = await api(method, path, body);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.operationId;
}

beforeAll(async () => {
  maestro = await startTestMaestro();
  await ok("POST", "/schedulers", schedulerBody(S, { roomsReplicas: 1 }));
  await eventually(async () => (await api("GET", `/schedulers/${S}`)).json.scheduler?.state === "in-sync");
  const created = await maestro.context.operationManager.list(S, "final");
  ids.set("create_scheduler", created.find((o) => o.definitionName === "create_scheduler")!.id);

  const om = maestro.context.operationManager;
  const finished = (id: string) => eventually(async () => (await om.get(S, id)).status === "finished");
  ids.set(
    "create_new_scheduler_version",
    await ok("POST", `/schedulers/${S}`, schedulerBody(S, { roomsReplicas: 1, maxSurge: "20%" })),
  );
  await finished(ids.get("create_new_scheduler_version")!);
  ids.set("switch_active_version", await ok("PUT", `/schedulers/${S}`, { version: "v1.0.0" }));
  await finished(ids.get("switch_active_version")!);

  // A long test operation holds the queue so every later operation is readable before it runs (or removes itself).
  const blocker = await om.enqueue(S, "test_operation", { sleepSeconds: 120 });
  ids.set("test_operation", blocker.id);
  await eventually(async () => (await om.get(S, blocker.id)).status === "in_progress");
  ids.set("add_rooms", await ok("POST", `/schedulers/${S}/add-rooms`, { amount: 1 }));
  ids.set("remove_rooms", await ok("POST", `/schedulers/${S}/remove-rooms`, { amount: 1 }));
  ids.set("health_controller", (await om.enqueue(S, "health_controller", {})).id);
  ids.set("storage_clean_up", (await om.enqueue(S, "storage_clean_up", {})).id);
  ids.set("delete_scheduler", await ok("DELETE", `/schedulers/${S}`));
});
afterAll(async () => {
  await maestro?.stop();
});

const readers: [string, (id: string) => Promise<{ definitionName: string; input: unknown }>][] = [
  [
    "REST JSON",
    async (id) => {
      const res = await api("GET", `/schedulers/${S}/operations/${id}`);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      return res.json.operation;
    },
  ],
  [
    "Connect JSON",
    async (id) => {
      const client = createClient(
        OperationsService,
        createConnectTransport({ baseUrl: maestro.managementUrl, httpVersion: "1.1", useBinaryFormat: false }),
      );
      return (await client.getOperation({ schedulerName: S, operationId: id })).operation!;
    },
  ],
  [
    "Connect binary",
    async (id) => {
      const client = createClient(
        OperationsService,
        createConnectTransport({ baseUrl: maestro.managementUrl, httpVersion: "1.1", useBinaryFormat: true }),
      );
      return (await client.getOperation({ schedulerName: S, operationId: id })).operation!;
    },
  ],
  [
    "gRPC",
    async (id) => {
      const client = createClient(OperationsService, createGrpcTransport({ baseUrl: maestro.managementUrl }));
      return (await client.getOperation({ schedulerName: S, operationId: id })).operation!;
    },
  ],
];

describe("every operation type reads back", () => {
  it("the table covers every registered operation", () => {
    expect([...ids.keys()].sort()).toEqual(maestro.context.registry.names().sort());
  });

  const cases = readers.flatMap(([protocol, read]) =>
    [
      "create_scheduler",
      "create_new_scheduler_version",
      "switch_active_version",
      "add_rooms",
      "remove_rooms",
      "health_controller",
      "storage_clean_up",
      "delete_scheduler",
      "test_operation",
    ].map((def) => [def, protocol, read] as const),
  );
  it.each(cases)("%s over %s", async (definition, _protocol, read) => {
    const op = await read(ids.get(definition)!);
    expect(op.definitionName).toBe(definition);
    expect(op.input).toEqual(expect.any(Object));
  });

  it("remove_rooms keeps its input", async () => {
    const op = await readers[0]![1](ids.get("remove_rooms")!);
    expect(op.input).toMatchObject({ amount: 1, reason: expect.any(String) });
  });
});
