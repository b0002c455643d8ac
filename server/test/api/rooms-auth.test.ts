import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { RoomsService } from "@maestro/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HmacRoomTokens } from "../../src/adapters/security/hmac-room-tokens.js";
import { createRoomsAuthorizer, roomsRules } from "../../src/api/auth/rooms-auth.js";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

const MATCHMAKER = "mm-token-0123456789";

describe("rooms API authorization: a matchmaker role for allocation and addresses", () => {
  let maestro: TestMaestro;
  let rooms: { id: string }[];
  const roomToken = (id: string) => maestro.context.tokens.tokenFor("guarded", id);

  beforeAll(async () => {
    maestro = await startTestMaestro({ "roomsApi.matchmakerTokens": `other-one, ${MATCHMAKER}` });
    await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody("guarded", { roomsReplicas: 2 }));
    rooms = await eventually(async () => {
      const r = (await http(maestro.managementUrl, "GET", "/schedulers/guarded/rooms")).json.rooms;
      return r?.length === 2 && r.every((x: { instanceStatus: string }) => x.instanceStatus === "ready")
        ? r
        : undefined;
    });
    for (const r of rooms) {
      const ping = await http(
        maestro.roomsUrl,
        "PUT",
        `/scheduler/guarded/rooms/${r.id}/ping`,
        { status: "ready" },
        { authorization: `Bearer ${roomToken(r.id)}` },
      );
      expect(ping.status).toBe(200);
    }
  });
  afterAll(async () => maestro?.stop());

  const readyCount = async () =>
    (await http(maestro.managementUrl, "GET", "/schedulers/guarded/rooms")).json.rooms.filter(
      (r: { status: string }) => r.status === "ready",
    ).length;

  it("refuses allocation without a matchmaker token, over REST and Connect, and hands out nothing", async () => {
    const anonymous = await http(maestro.roomsUrl, "POST", "/scheduler/guarded/rooms/allocate", {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.message).toContain("roomsApi.matchmakerTokens");
    // A room's own token is not a matchmaker's.
    const asRoom = await http(
      maestro.roomsUrl,
      "POST",
      "/scheduler/guarded/rooms/allocate",
      {},
      { authorization: `Bearer ${roomToken(rooms[0]!.id)}` },
    );
    expect(asRoom.status).toBe(403);
    const connect = createClient(
      RoomsService,
      createConnectTransport({ baseUrl: maestro.roomsUrl, httpVersion: "1.1" }),
    );
    const err = await connect.allocateRoom({ schedulerName: "guarded" }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.Unauthenticated);
    expect(await readyCount()).toBe(2);
  });

  it("allocates for a matchmaker token on REST and Connect", async () => {
    const rest = await http(
      maestro.roomsUrl,
      "POST",
      "/scheduler/guarded/rooms/allocate",
      {},
      { authorization: `Bearer ${MATCHMAKER}` },
    );
    expect(rest.status).toBe(200);
    expect(rest.json.success).toBe(true);
    const connect = createClient(
      RoomsService,
      createConnectTransport({
        baseUrl: maestro.roomsUrl,
        httpVersion: "1.1",
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", `Bearer ${MATCHMAKER}`);
            return next(req);
          },
        ],
      }),
    );
    const second = await connect.allocateRoom({ schedulerName: "guarded" });
    expect(second.roomId).not.toBe(rest.json.roomId);
  });

  it("gives a room's address to the room itself or a matchmaker, and to no one else", async () => {
    const id = rooms[1]!.id;
    const path = `/scheduler/guarded/rooms/${id}/address`;
    expect((await http(maestro.roomsUrl, "GET", path)).status).toBe(401);
    const otherRoom = maestro.context.tokens.tokenFor("guarded", "someone-else");
    expect(
      (await http(maestro.roomsUrl, "GET", path, undefined, { authorization: `Bearer ${otherRoom}` })).status,
    ).toBe(401);
    for (const token of [roomToken(id), MATCHMAKER]) {
      const ok = await http(maestro.roomsUrl, "GET", path, undefined, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(ok.json.host).toBe("127.0.0.1");
    }
  });

  it("does not let a matchmaker token speak for a room", async () => {
    const id = rooms[0]!.id;
    const ping = await http(
      maestro.roomsUrl,
      "PUT",
      `/scheduler/guarded/rooms/${id}/ping`,
      { status: "ready" },
      { authorization: `Bearer ${MATCHMAKER}` },
    );
    expect(ping.status).toBe(401);
  });
});

describe("createRoomsAuthorizer", () => {
  const tokens = new HmacRoomTokens("rooms-auth-test-secret-0123456789");
  const allocate = RoomsService.method.allocateRoom;
  const ping = RoomsService.method.updateRoomWithPing;
  const refusedCode = (run: () => void) => {
    try {
      run();
    } catch (err) {
      return ConnectError.from(err).code;
    }
    return undefined;
  };

  it("stops at start when an RPC declares no rule, naming it", () => {
    const { AllocateRoom: _, ...missing } = roomsRules;
    expect(() => createRoomsAuthorizer({ tokens, matchmakerTokens: "", host: "127.0.0.1", rules: missing })).toThrow(
      /RoomsService\.AllocateRoom declares no authorization rule/,
    );
  });

  it("with no matchmaker token: open on loopback, refused when exposed, open in Maestro-compatible mode", () => {
    const loopback = createRoomsAuthorizer({ tokens, matchmakerTokens: "", host: "127.0.0.1" });
    expect(refusedCode(() => loopback.check(allocate, undefined, {}))).toBeUndefined();
    const exposed = createRoomsAuthorizer({ tokens, matchmakerTokens: "", host: "0.0.0.0" });
    expect(refusedCode(() => exposed.check(allocate, undefined, {}))).toBe(Code.PermissionDenied);
    expect(refusedCode(() => exposed.check(allocate, "Bearer anything", {}))).toBe(Code.PermissionDenied);
    const insecure = createRoomsAuthorizer({ tokens: undefined, matchmakerTokens: "", host: "0.0.0.0" });
    expect(refusedCode(() => insecure.check(allocate, undefined, {}))).toBeUndefined();
    expect(refusedCode(() => insecure.check(ping, undefined, { schedulerName: "s", roomName: "r" }))).toBeUndefined();
  });

  it("in Maestro-compatible mode still requires configured matchmaker tokens for allocation", () => {
    const insecure = createRoomsAuthorizer({ tokens: undefined, matchmakerTokens: MATCHMAKER, host: "0.0.0.0" });
    expect(refusedCode(() => insecure.check(allocate, undefined, {}))).toBe(Code.Unauthenticated);
    expect(refusedCode(() => insecure.check(allocate, `Bearer ${MATCHMAKER}`, {}))).toBeUndefined();
  });

  it("checks a room's token against the room named in the request", () => {
    const auth = createRoomsAuthorizer({ tokens, matchmakerTokens: MATCHMAKER, host: "0.0.0.0" });
    const request = { schedulerName: "s", roomName: "r" };
    expect(refusedCode(() => auth.check(ping, `Bearer ${tokens.tokenFor("s", "r")}`, request))).toBeUndefined();
    expect(refusedCode(() => auth.check(ping, `Bearer ${tokens.tokenFor("s", "x")}`, request))).toBe(
      Code.Unauthenticated,
    );
    expect(refusedCode(() => auth.check(ping, `Bearer ${tokens.tokenFor("s", "r")}`, undefined))).toBe(
      Code.Unauthenticated,
    );
  });
});
