import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

async function firstRoom(maestro: TestMaestro, scheduler: string): Promise<{ id: string; status: string }> {
  await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody(scheduler, { roomsReplicas: 1 }));
  return eventually(
    async () => (await http(maestro.managementUrl, "GET", `/schedulers/${scheduler}/rooms`)).json.rooms?.[0],
    {
      what: "a room",
    },
  );
}

describe("rooms API with room tokens (default)", () => {
  let maestro: TestMaestro;
  beforeAll(async () => {
    maestro = await startTestMaestro();
  });
  afterAll(async () => maestro?.stop());

  it("accepts a ping carrying the room's token and moves the room to ready", async () => {
    const room = await firstRoom(maestro, "pinged");
    const token = maestro.context.tokens.tokenFor("pinged", room.id);
    const path = `/scheduler/pinged/rooms/${room.id}/ping`;
    const ping = { status: "ready", timestamp: "12312312313" };

    const anonymous = await http(maestro.roomsUrl, "PUT", path, ping);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.code).toBe(Code.Unauthenticated);
    const otherRoomsToken = maestro.context.tokens.tokenFor("pinged", "another-room");
    expect(
      (await http(maestro.roomsUrl, "PUT", path, ping, { authorization: `Bearer ${otherRoomsToken}` })).status,
    ).toBe(401);

    const ok = await http(maestro.roomsUrl, "PUT", path, ping, { authorization: `Bearer ${token}` });
    expect(ok).toEqual({ status: 200, json: { success: true } });
    const after = await http(maestro.managementUrl, "GET", `/schedulers/pinged/rooms/${room.id}`);
    expect(after.json.room).toMatchObject({ status: "ready", pingStatus: "ready" });

    const occupied = await http(
      maestro.roomsUrl,
      "PUT",
      path,
      { status: "occupied", timestamp: 1, running_matches: 0, metadata: { map: "desert" } },
      { authorization: `Bearer ${token}` },
    );
    expect(occupied.status).toBe(200);
    const room2 = (await http(maestro.managementUrl, "GET", `/schedulers/pinged/rooms/${room.id}`)).json.room;
    expect(room2).toMatchObject({ status: "occupied", runningMatches: 1, metadata: { map: "desert" } });

    const address = await http(maestro.roomsUrl, "GET", `/scheduler/pinged/rooms/${room.id}/address`, undefined, {
      authorization: `Bearer ${token}`,
    });
    expect(address.json).toMatchObject({ host: "127.0.0.1", ports: [{ name: "game", protocol: "tcp" }] });
  });

  it("refuses bad statuses and unknown rooms without writing anything", async () => {
    const room = await firstRoom(maestro, "strict");
    const token = maestro.context.tokens.tokenFor("strict", room.id);
    const bad = await http(
      maestro.roomsUrl,
      "PUT",
      `/scheduler/strict/rooms/${room.id}/ping`,
      { status: "sleeping" },
      { authorization: `Bearer ${token}` },
    );
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain("status: must be one of ready, occupied, terminating, terminated");

    const ghost = "strict-ghost";
    const ghostToken = maestro.context.tokens.tokenFor("strict", ghost);
    const unknown = await http(
      maestro.roomsUrl,
      "PUT",
      `/scheduler/strict/rooms/${ghost}/ping`,
      { status: "ready" },
      { authorization: `Bearer ${ghostToken}` },
    );
    expect(unknown.status).toBe(404);
    expect(await maestro.context.rooms.getRoom("strict", ghost)).toBeUndefined();
    expect((await http(maestro.managementUrl, "GET", "/schedulers/strict/rooms")).json.rooms).toHaveLength(1);
  });
});

describe("allocation", () => {
  let maestro: TestMaestro;
  beforeAll(async () => {
    maestro = await startTestMaestro();
  });
  afterAll(async () => maestro?.stop());

  it("hands out ready rooms atomically, keeps them allocated, and answers 409 when none is left", async () => {
    await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody("alloc", { roomsReplicas: 2 }));
    const rooms: { id: string }[] = await eventually(async () => {
      const r = (await http(maestro.managementUrl, "GET", "/schedulers/alloc/rooms")).json.rooms;
      return r?.length === 2 && r.every((x: { instanceStatus: string }) => x.instanceStatus === "ready")
        ? r
        : undefined;
    });
    const ping = (id: string, status: string) =>
      http(
        maestro.roomsUrl,
        "PUT",
        `/scheduler/alloc/rooms/${id}/ping`,
        { status },
        {
          authorization: `Bearer ${maestro.context.tokens.tokenFor("alloc", id)}`,
        },
      );
    for (const r of rooms) expect((await ping(r.id, "ready")).status).toBe(200);

    const allocate = (body: Record<string, unknown> = {}) =>
      http(maestro.roomsUrl, "POST", "/scheduler/alloc/rooms/allocate", body);
    const first = await allocate({ idempotencyKey: "match-42" });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ success: true, host: "127.0.0.1", ports: [{ name: "game", protocol: "tcp" }] });
    expect((await allocate({ idempotencyKey: "match-42" })).json.roomId).toBe(first.json.roomId);
    const second = await allocate();
    expect(second.json.roomId).not.toBe(first.json.roomId);
    const none = await allocate();
    expect(none.status).toBe(409);
    expect(none.json).toMatchObject({
      code: Code.ResourceExhausted,
      message: expect.stringContaining("no ready room"),
    });
    expect((await allocate({ metadataSelector: { map: "moon" } })).json.message).toContain("metadata selector");

    // The allocated room keeps its status through its keep-alive pings, then becomes occupied when the match starts.
    expect((await ping(first.json.roomId, "ready")).status).toBe(200);
    const room = async (id: string) =>
      (await http(maestro.managementUrl, "GET", `/schedulers/alloc/rooms/${id}`)).json.room;
    expect(await room(first.json.roomId)).toMatchObject({ status: "allocated" });
    expect((await ping(first.json.roomId, "occupied")).status).toBe(200);
    expect(await room(first.json.roomId)).toMatchObject({ status: "occupied" });
    expect((await http(maestro.roomsUrl, "POST", "/scheduler/nope/rooms/allocate", {})).status).toBe(404);
  });
});

describe("rooms API in Maestro-compatible mode (roomsApi.roomTokens=false)", () => {
  let maestro: TestMaestro;
  beforeAll(async () => {
    maestro = await startTestMaestro({ "roomsApi.roomTokens": false });
  });
  afterAll(async () => maestro?.stop());

  it("accepts pings without a token, as Maestro's clients send them", async () => {
    const room = await firstRoom(maestro, "legacy");
    const res = await fetch(`${maestro.roomsUrl}/scheduler/legacy/rooms/${room.id}/ping`, {
      method: "PUT",
      body: '{"status": "ready","timestamp": "12312312313"}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
  });
});
