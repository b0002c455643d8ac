import {
  create,
  createFileRegistry,
  type DescMethod,
  type DescService,
  getOption,
  type MessageInitShape,
  setExtension,
} from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  file_google_protobuf_timestamp,
  MethodOptionsSchema,
} from "@bufbuild/protobuf/wkt";
import {
  file_google_api_annotations,
  GameRoomsService,
  HttpRuleSchema,
  http,
  OperationsService,
  RoomsService,
  SchedulersService,
} from "@maestro/proto";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { buildOpenApi, OPENAPI_PATH, type OpenApiDocument, registerOpenApiRoute } from "../../src/api/openapi/index.js";
import type { OperationObject, ParameterObject, SchemaObject } from "../../src/api/openapi/openapi-document.js";
import { registerRestRoutes } from "../../src/api/rest/transcoder.js";
import { bind } from "../../src/api/service-binding.js";
import { silentLogger } from "../../src/core/ports/logger.js";

const services = [SchedulersService, OperationsService, GameRoomsService, RoomsService];
const info = { title: "Maestro", version: "1.2.3", description: "Game room orchestrator" };
const verbs = ["get", "put", "post", "delete", "patch"] as const;

function operations(doc: OpenApiDocument): { path: string; verb: string; op: OperationObject }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    verbs.flatMap((verb) => (item[verb] ? [{ path, verb, op: item[verb] }] : [])),
  );
}

function operation(doc: OpenApiDocument, path: string, verb: (typeof verbs)[number]): OperationObject {
  const op = doc.paths[path]?.[verb];
  if (!op) throw new Error(`no ${verb} ${path} in ${Object.keys(doc.paths).join(", ")}`);
  return op;
}

function param(op: OperationObject, name: string, where: "path" | "query"): ParameterObject | undefined {
  return op.parameters.find((p) => p.name === name && p.in === where);
}

/** Follows a local JSON pointer ("#/components/schemas/X"); undefined when it leads nowhere. */
function resolve(doc: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (typeof node === "object" && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

function schemaOf(doc: OpenApiDocument, schema: SchemaObject | undefined): SchemaObject {
  if (schema?.$ref) return resolve(doc, schema.$ref) as SchemaObject;
  if (!schema) throw new Error("no schema");
  return schema;
}

const shape = (path: string) => path.replace(/\{[^}]*\}/g, "{}");
const variables = (path: string) => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);

function httpRules(list: readonly DescService[]) {
  return list.flatMap((service) =>
    service.methods.map((method: DescMethod) => {
      const rule = getOption(method, http);
      return { service, method, verb: rule.pattern.case, template: String(rule.pattern.value), body: rule.body };
    }),
  );
}

describe("buildOpenApi for the Maestro services", () => {
  const doc = buildOpenApi(services, info);
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("documents every route the REST transcoder serves, with its method and rpc", async () => {
    app = Fastify();
    const table = registerRestRoutes(
      app,
      services.map((s) => bind(s, {})),
      silentLogger,
    );
    expect(table.length).toBeGreaterThan(15);
    const documented = operations(doc);
    expect(documented).toHaveLength(table.length);
    for (const route of table) {
      const routeShape = route.url.replace(/:[\w.]+/g, "{}");
      const found = documented.filter((d) => shape(d.path) === routeShape && d.verb === route.method.toLowerCase());
      expect(found, `${route.method} ${route.url}`).toHaveLength(1);
      const [serviceName, methodName] = route.rpc.replace(/^maestro\.v1\./, "").split("/");
      expect(found[0]?.op.operationId).toBe(`${serviceName}_${methodName}`);
      expect(found[0]?.op.tags).toEqual([serviceName]);
    }
  });

  it("keeps each proto URL template, renaming variables only where OpenAPI would see two identical paths", () => {
    const rules = httpRules(services);
    expect(rules).toHaveLength(operations(doc).length);
    const renamed: string[] = [];
    for (const rule of rules) {
      const opId = `${rule.service.name}_${rule.method.name}`;
      const found = operations(doc).find((d) => d.op.operationId === opId);
      expect(found, opId).toBeDefined();
      expect(found?.verb).toBe(rule.verb);
      expect(shape(found?.path ?? "")).toBe(shape(rule.template));
      if (found?.path !== rule.template) renamed.push(`${rule.template} -> ${found?.path}`);
      expect(Boolean(found?.op.requestBody)).toBe(rule.body !== "");
    }
    expect(renamed.sort()).toEqual([
      "/schedulers/{name} -> /schedulers/{scheduler_name}",
      "/schedulers/{name} -> /schedulers/{scheduler_name}",
    ]);
    const patch = operation(doc, "/schedulers/{scheduler_name}", "patch");
    expect(patch.operationId).toBe("SchedulersService_PatchScheduler");
    expect(param(patch, "scheduler_name", "path")?.description).toContain("`name`");
  });

  it("GET /schedulers/{scheduler_name} takes scheduler_name from the path and version from the query", () => {
    const op = operation(doc, "/schedulers/{scheduler_name}", "get");
    expect(op.operationId).toBe("SchedulersService_GetScheduler");
    expect(op.summary).toBe("GetScheduler");
    expect(param(op, "scheduler_name", "path")).toMatchObject({ required: true, schema: { type: "string" } });
    expect(param(op, "version", "query")).toMatchObject({ required: false, schema: { type: "string" } });
    expect(op.parameters).toHaveLength(2);
    expect(op.requestBody).toBeUndefined();
    expect(op.responses["200"]).toMatchObject({
      content: { "application/json": { schema: { $ref: "#/components/schemas/GetSchedulerResponse" } } },
    });
  });

  it("typed query parameters come from the remaining scalar request fields", () => {
    const op = operation(doc, "/schedulers/{scheduler_name}/operations", "get");
    expect(op.parameters.map((p) => `${p.in}:${p.name}`)).toEqual([
      "path:scheduler_name",
      "query:order_by",
      "query:stage",
      "query:page",
      "query:per_page",
    ]);
    expect(param(op, "page", "query")?.schema).toMatchObject({ type: "integer", minimum: 0 });
    const list = operation(doc, "/schedulers", "get");
    expect(list.parameters.map((p) => p.name)).toEqual(["name", "game", "version"]);
  });

  it("POST /schedulers takes the whole create request as its JSON body", () => {
    const op = operation(doc, "/schedulers", "post");
    expect(op.operationId).toBe("SchedulersService_CreateScheduler");
    expect(op.parameters).toEqual([]);
    const schema = op.requestBody?.content["application/json"]?.schema;
    expect(schema).toEqual({ $ref: "#/components/schemas/CreateSchedulerRequest" });
    const create = schemaOf(doc, schema);
    expect(Object.keys(create.properties ?? {})).toEqual(
      expect.arrayContaining(["name", "game", "spec", "portRange", "maxSurge", "roomsReplicas", "occupiedTimeout"]),
    );
    // Decoding accepts any field missing: a request schema must not demand one.
    expect(create.required).toBeUndefined();
  });

  it("Scheduler uses ProtoJSON names and types", () => {
    const scheduler = doc.components.schemas.Scheduler;
    const props = scheduler?.properties ?? {};
    expect(props.roomsReplicas).toEqual({ type: "integer", format: "int32" });
    expect(props.createdAt).toEqual({ type: "string", format: "date-time" });
    expect(props.occupiedTimeout).toEqual({ type: "string", format: "int64" });
    expect(props.spec).toEqual({ $ref: "#/components/schemas/Spec" });
    expect(props.forwarders).toEqual({ type: "array", items: { $ref: "#/components/schemas/Forwarder" } });
    expect(props.labels).toEqual({ type: "object", additionalProperties: { type: "string" } });
    expect(Object.keys(props).filter((k) => k.includes("_"))).toEqual([]);
    // Responses are written with alwaysEmitImplicit: implicit-presence fields are always there, optional ones not.
    expect(scheduler?.required).toEqual(expect.arrayContaining(["name", "roomsReplicas", "forwarders", "labels"]));
    expect(scheduler?.required).not.toContain("autoscaling");
    expect(scheduler?.required).not.toContain("occupiedTimeout");
    expect(scheduler?.required).not.toContain("createdAt");
  });

  it("maps the other ProtoJSON forms: doubles, bools, Struct, lenient terminationGracePeriod", () => {
    const schemas = doc.components.schemas;
    expect(schemas.RoomOccupancy?.properties?.readyTarget).toEqual({ type: "number", format: "double" });
    expect(schemas.Forwarder?.properties?.enable).toEqual({ type: "boolean" });
    expect(schemas.GameRoom?.properties?.metadata).toEqual({ type: "object", additionalProperties: true });
    const grace = schemas.Spec?.properties?.terminationGracePeriod;
    expect(grace?.type).toEqual(["string", "number"]);
    const pattern = new RegExp(grace?.pattern ?? "^$");
    for (const ok of ["100s", "100", "1.5s"]) expect(pattern.test(ok), ok).toBe(true);
    expect(pattern.test("100 seconds")).toBe(false);
  });

  it("the ping body carries the non-path fields, timestamp as a string int64", () => {
    const op = operation(doc, "/scheduler/{scheduler_name}/rooms/{room_name}/ping", "put");
    expect(op.operationId).toBe("RoomsService_UpdateRoomWithPing");
    expect(op.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(["path:scheduler_name", "path:room_name"]);
    const body = schemaOf(doc, op.requestBody?.content["application/json"]?.schema);
    expect(body.properties?.timestamp).toEqual({ type: "string", format: "int64" });
    expect(body.properties?.runningMatches).toEqual({ type: "string", format: "int64" });
    expect(Object.keys(body.properties ?? {}).sort()).toEqual(["metadata", "runningMatches", "status", "timestamp"]);
  });

  it("marks deprecated methods and answers errors with Maestro's error body", () => {
    expect(operation(doc, "/scheduler/{scheduler_name}/rooms/{room_name}/status", "put").deprecated).toBe(true);
    expect(operation(doc, "/scheduler/{scheduler_name}/rooms/{room_name}/ping", "put").deprecated).toBeUndefined();
    for (const { op } of operations(doc)) {
      expect(op.responses.default).toEqual({ $ref: "#/components/responses/Error" });
    }
    const errorSchema = schemaOf(doc, doc.components.responses.Error?.content?.["application/json"]?.schema);
    expect(errorSchema.properties).toMatchObject({
      code: { type: "integer" },
      message: { type: "string" },
      details: { type: "array" },
    });
  });

  it("is structurally valid OpenAPI 3.1", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toEqual(info);
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(50);
    for (const ref of all) expect(resolve(doc, ref), ref).toBeDefined();
    // Every component is used (or the error body, used through components.responses).
    const used = new Set(all);
    for (const name of Object.keys(doc.components.schemas)) {
      expect(used.has(`#/components/schemas/${name}`), name).toBe(true);
    }
    expect(new Set(Object.keys(doc.paths).map(shape)).size).toBe(Object.keys(doc.paths).length);
    const ids = operations(doc).map((d) => d.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const tagNames = doc.tags.map((t) => t.name);
    expect(tagNames).toEqual(["SchedulersService", "OperationsService", "GameRoomsService", "RoomsService"]);
    for (const { path, op } of operations(doc)) {
      expect(path.startsWith("/")).toBe(true);
      const pathParams = op.parameters.filter((p) => p.in === "path");
      expect(pathParams.map((p) => p.name)).toEqual(variables(path));
      for (const p of pathParams) expect(p.required).toBe(true);
      const keys = op.parameters.map((p) => `${p.in}:${p.name}`);
      expect(new Set(keys).size).toBe(keys.length);
      for (const t of op.tags) expect(tagNames).toContain(t);
      expect(op.responses["200"]).toBeDefined();
    }
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it("is served at GET /openapi.json as application/json next to the REST routes", async () => {
    app = Fastify();
    registerRestRoutes(
      app,
      services.map((s) => bind(s, {})),
      silentLogger,
    );
    registerOpenApiRoute(app, doc);
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const res = await fetch(`${address}${OPENAPI_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(doc);
  });
});

describe("buildOpenApi for descriptors with source info", () => {
  // A file as `buf build` would produce it (with comments), exercising the kinds the Maestro protos do not use.
  const T = FieldDescriptorProto_Type;
  const L = FieldDescriptorProto_Label;
  type FieldInit = MessageInitShape<typeof FieldDescriptorProtoSchema>;
  const field = (name: string, number: number, type: FieldDescriptorProto_Type, extra: FieldInit = {}): FieldInit => ({
    name,
    number,
    type,
    label: L.OPTIONAL,
    jsonName: name.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase()),
    ...extra,
  });
  const rule = (init: object) => {
    const options = create(MethodOptionsSchema);
    setExtension(options, http, create(HttpRuleSchema, init));
    return options;
  };
  const file = create(FileDescriptorProtoSchema, {
    name: "demo/v1/things.proto",
    package: "demo.v1",
    syntax: "proto3",
    dependency: ["google/api/annotations.proto", "google/protobuf/timestamp.proto"],
    enumType: [
      {
        name: "Color",
        value: [
          { name: "COLOR_UNSPECIFIED", number: 0 },
          { name: "COLOR_RED", number: 1 },
        ],
      },
    ],
    messageType: [
      { name: "Error", field: [field("reason", 1, T.STRING)] },
      {
        name: "Thing",
        field: [
          field("thing_id", 1, T.STRING),
          field("color", 2, T.ENUM, { typeName: ".demo.v1.Color" }),
          field("blob", 3, T.BYTES),
          field("big", 4, T.UINT64),
          field("children", 5, T.MESSAGE, { label: L.REPEATED, typeName: ".demo.v1.Thing.ChildrenEntry" }),
          field("shades", 6, T.ENUM, { label: L.REPEATED, typeName: ".demo.v1.Color" }),
          field("seen_at", 7, T.MESSAGE, { typeName: ".google.protobuf.Timestamp" }),
          field("error", 8, T.MESSAGE, { typeName: ".demo.v1.Error" }),
          field("old", 9, T.STRING, { options: { deprecated: true } }),
        ],
        nestedType: [
          {
            name: "ChildrenEntry",
            options: { mapEntry: true },
            field: [field("key", 1, T.INT32), field("value", 2, T.MESSAGE, { typeName: ".demo.v1.Thing" })],
          },
        ],
      },
      {
        name: "GetThingRequest",
        field: [
          field("thing_id", 1, T.STRING),
          field("color", 2, T.ENUM, { typeName: ".demo.v1.Color" }),
          field("deep", 3, T.BOOL),
          field("tags", 4, T.STRING, { label: L.REPEATED }),
          field("filter", 5, T.MESSAGE, { typeName: ".demo.v1.Thing" }),
        ],
      },
      {
        name: "PutThingRequest",
        field: [
          field("thing_id", 1, T.STRING),
          field("thing", 2, T.MESSAGE, { typeName: ".demo.v1.Thing" }),
          field("dry_run", 3, T.BOOL),
        ],
      },
    ],
    service: [
      {
        name: "ThingService",
        method: [
          {
            name: "GetThing",
            inputType: ".demo.v1.GetThingRequest",
            outputType: ".demo.v1.Thing",
            options: rule({ pattern: { case: "get", value: "/things/{thing_id}" } }),
          },
          {
            name: "PutThing",
            inputType: ".demo.v1.PutThingRequest",
            outputType: ".demo.v1.Thing",
            options: rule({ pattern: { case: "put", value: "/things/{thing_id=*}" }, body: "thing" }),
          },
          {
            name: "WatchThings",
            inputType: ".demo.v1.GetThingRequest",
            outputType: ".demo.v1.Thing",
            serverStreaming: true,
            options: rule({ pattern: { case: "get", value: "/things/watch" } }),
          },
          { name: "NoHttp", inputType: ".demo.v1.GetThingRequest", outputType: ".demo.v1.Thing" },
        ],
      },
    ],
    sourceCodeInfo: {
      location: [
        { path: [6, 0], span: [0, 0, 0], leadingComments: " Keeps things.\n" },
        { path: [6, 0, 2, 0], span: [0, 0, 0], leadingComments: " Gets one thing.\n Children included.\n" },
        { path: [4, 1], span: [0, 0, 0], leadingComments: " A thing.\n" },
        { path: [4, 1, 2, 3], span: [0, 0, 0], leadingComments: " A big number.\n" },
        { path: [4, 2, 2, 0], span: [0, 0, 0], leadingComments: " Thing id (path).\n" },
      ],
    },
  });
  const registry = createFileRegistry(file, (name) =>
    name === "google/api/annotations.proto"
      ? file_google_api_annotations
      : name === "google/protobuf/timestamp.proto"
        ? file_google_protobuf_timestamp
        : undefined,
  );
  const service = registry.getService("demo.v1.ThingService");
  if (!service) throw new Error("ThingService not built");
  const doc = buildOpenApi([service], { title: "Demo", version: "0" });

  it("takes summaries and descriptions from the proto comments", () => {
    expect(doc.tags).toEqual([{ name: "ThingService", description: "Keeps things." }]);
    const get = operation(doc, "/things/{thing_id}", "get");
    expect(get.summary).toBe("Gets one thing.");
    expect(get.description).toBe("Gets one thing.\nChildren included.");
    expect(param(get, "thing_id", "path")?.description).toBe("Thing id (path).");
    expect(operation(doc, "/things/{thing_id}", "put").summary).toBe("PutThing");
    expect(doc.components.schemas.Thing?.description).toBe("A thing.");
    expect(doc.components.schemas.Thing?.properties?.big?.description).toBe("A big number.");
  });

  it("documents only unary methods with an http rule", () => {
    expect(operations(doc).map((d) => d.op.operationId)).toEqual(["ThingService_GetThing", "ThingService_PutThing"]);
  });

  it("maps enums, bytes, uint64, maps, repeated enums, timestamps and deprecated fields", () => {
    const schemas = doc.components.schemas;
    expect(schemas.Color).toEqual({ type: "string", enum: ["COLOR_UNSPECIFIED", "COLOR_RED"] });
    const props = schemas.Thing?.properties ?? {};
    expect(props.thingId).toEqual({ type: "string" });
    expect(props.color).toEqual({ $ref: "#/components/schemas/Color" });
    expect(props.blob).toEqual({ type: "string", format: "byte" });
    expect(props.big).toMatchObject({ type: "string", format: "uint64" });
    expect(props.children).toEqual({ type: "object", additionalProperties: { $ref: "#/components/schemas/Thing" } });
    expect(props.shades).toEqual({ type: "array", items: { $ref: "#/components/schemas/Color" } });
    expect(props.seenAt).toEqual({ type: "string", format: "date-time" });
    expect(props.old).toEqual({ type: "string", deprecated: true });
    // The message named Error must not take the place of the error body.
    expect(props.error).toEqual({ $ref: "#/components/schemas/demo.v1.Error" });
    expect(schemas.Error?.required).toEqual(["code", "message", "details"]);
    expect(schemas["demo.v1.Error"]?.properties?.reason).toEqual({ type: "string" });
    expect(Object.keys(schemas).some((n) => n.includes("Entry"))).toBe(false);
  });

  it("GET query parameters are the scalar and enum fields; a body field rule sends that field as the body", () => {
    const get = operation(doc, "/things/{thing_id}", "get");
    expect(get.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(["path:thing_id", "query:color", "query:deep"]);
    expect(param(get, "deep", "query")?.schema).toEqual({ type: "boolean" });
    expect(param(get, "color", "query")?.schema).toEqual({ $ref: "#/components/schemas/Color" });
    const put = operation(doc, "/things/{thing_id}", "put");
    expect(put.requestBody?.content["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/Thing" });
    expect(put.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(["path:thing_id", "query:dry_run"]);
    for (const ref of refs(doc)) expect(resolve(doc, ref), ref).toBeDefined();
  });
});
