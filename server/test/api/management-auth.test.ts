import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SchedulersService } from "@maestro/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MaestroError } from "../../src/core/errors.js";
import { http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

const READ = "reader-token";
const WRITE = "writer-token";

describe("management API with tokens", () => {
  let maestro: TestMaestro;
  beforeAll(async () => {
    maestro = await startTestMaestro({
      "managementApi.readTokens": READ,
      "managementApi.writeTokens": `other-writer, ${WRITE}`,
    });
  });
  afterAll(async () => maestro?.stop());
  const as = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

  it("answers 401 without a token or with an unknown one, on REST", async () => {
    const none = await http(maestro.managementUrl, "GET", "/schedulers");
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ code: Code.Unauthenticated, message: expect.stringContaining("Authorization") });
    expect((await http(maestro.managementUrl, "GET", "/schedulers", undefined, as("nope"))).status).toBe(401);
    const create = await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody("no-token"));
    expect(create.status).toBe(401);
    expect((await http(maestro.managementUrl, "GET", "/schedulers/no-token", undefined, as(WRITE))).status).toBe(404);
  });

  it("lets a read token read and answers 403 when it tries to change something", async () => {
    expect((await http(maestro.managementUrl, "GET", "/schedulers", undefined, as(READ))).status).toBe(200);
    const write = await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody("read-only"), as(READ));
    expect(write.status).toBe(403);
    expect(write.json.code).toBe(Code.PermissionDenied);
    expect((await http(maestro.managementUrl, "GET", "/schedulers/read-only", undefined, as(READ))).status).toBe(404);
  });

  it("lets a write token read and write", async () => {
    expect((await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody("writer"), as(WRITE))).status).toBe(
      200,
    );
    expect((await http(maestro.managementUrl, "GET", "/schedulers/writer", undefined, as(WRITE))).status).toBe(200);
  });

  it("applies the same rules over Connect and gRPC", async () => {
    const connect = (token?: string) =>
      createClient(
        SchedulersService,
        createConnectTransport({
          baseUrl: maestro.managementUrl,
          httpVersion: "1.1",
          interceptors: token
            ? [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))]
            : [],
        }),
      );
    const codeOf = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as ConnectError).code;
    expect(await codeOf(connect().listSchedulers({}))).toBe(Code.Unauthenticated);
    expect(await codeOf(connect(READ).createScheduler({ name: "x" }))).toBe(Code.PermissionDenied);
    expect((await connect(READ).listSchedulers({})).schedulers.map((s) => s.name)).toContain("writer");
    const grpc = createClient(
      SchedulersService,
      createGrpcTransport({
        baseUrl: maestro.managementUrl,
        interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${WRITE}`), next(req))],
      }),
    );
    expect((await grpc.getScheduler({ schedulerName: "writer" })).scheduler?.name).toBe("writer");
    const grpcErr = await createClient(SchedulersService, createGrpcTransport({ baseUrl: maestro.managementUrl }))
      .getScheduler({ schedulerName: "writer" })
      .catch((e: unknown) => e);
    expect(grpcErr).toBeInstanceOf(ConnectError);
    expect((grpcErr as ConnectError).code).toBe(Code.Unauthenticated);
  });

  it("keeps health endpoints open", async () => {
    expect((await fetch(`${maestro.managementUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${maestro.managementUrl}/readyz`)).status).toBe(200);
  });
});

describe("management API without tokens", () => {
  it("refuses to listen beyond loopback", async () => {
    const err = await startTestMaestro({ "managementApi.host": "0.0.0.0" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaestroError);
    expect((err as MaestroError).message).toContain("MAESTRO_MANAGEMENTAPI_WRITETOKENS");
  });
});
