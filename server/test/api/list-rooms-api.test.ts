import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

describe("list and get rooms", () => {
  let maestro: TestMaestro;
  const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    http(maestro.managementUrl, method, path, body, headers);

  beforeAll(async () => {
    maestro = await startTestMaestro();
    expect((await api("POST", "/schedulers", schedulerBody("listed", { roomsReplicas: 3 }))).status).toBe(200);
    await eventually(async () => (await api("GET", "/schedulers/listed/rooms")).json.total === 3, {
      what: "3 rooms",
    });
  });
  afterAll(async () => maestro?.stop());

  it("pages through the rooms in a stable order with the total", async () => {
    const all = (await api("GET", "/schedulers/listed/rooms")).json;
    // Without paging parameters, every room (as before paging existed).
    expect(all).toMatchObject({ total: 3, page: 1, pageSize: 3 });
    const ids = all.rooms.map((r: { id: string }) => r.id);
    expect(ids).toHaveLength(3);

    const first = (await api("GET", "/schedulers/listed/rooms?page=1&pageSize=2")).json;
    const second = (await api("GET", "/schedulers/listed/rooms?page=2&page_size=2")).json;
    const beyond = (await api("GET", "/schedulers/listed/rooms?page=3&pageSize=2")).json;
    const defaultSize = (await api("GET", "/schedulers/listed/rooms?page=1")).json;
    expect(defaultSize).toMatchObject({ total: 3, page: 1, pageSize: 100 });
    expect(defaultSize.rooms.map((r: { id: string }) => r.id)).toEqual(ids);
    expect(first).toMatchObject({ total: 3, page: 1, pageSize: 2 });
    expect(second).toMatchObject({ total: 3, page: 2, pageSize: 2 });
    expect([...first.rooms, ...second.rooms].map((r: { id: string }) => r.id)).toEqual(ids);
    expect(beyond).toMatchObject({ total: 3, page: 3 });
    expect(beyond.rooms ?? []).toEqual([]);
  });

  it("filters by status, and the room shows status, version, ping age, matches, address and metadata", async () => {
    const [room] = (await api("GET", "/schedulers/listed/rooms?pageSize=1")).json.rooms;
    await eventually(async () => (await api("GET", `/schedulers/listed/rooms/${room.id}`)).json.room.host, {
      what: "the room's address",
    });
    const token = maestro.context.tokens.tokenFor("listed", room.id);
    const ping = await http(
      maestro.roomsUrl,
      "PUT",
      `/scheduler/listed/rooms/${room.id}/ping`,
      { status: "occupied", runningMatches: 1, metadata: { map: "forest" } },
      { authorization: `Bearer ${token}` },
    );
    expect(ping.status).toBe(200);

    const occupied = (await api("GET", "/schedulers/listed/rooms?status=occupied")).json;
    expect(occupied.total).toBe(1);
    expect(occupied.rooms.map((r: { id: string }) => r.id)).toEqual([room.id]);
    expect((await api("GET", "/schedulers/listed/rooms?status=terminated")).json.total).toBe(0);

    const got = (await api("GET", `/schedulers/listed/rooms/${room.id}`)).json.room;
    expect(got).toMatchObject({
      id: room.id,
      status: "occupied",
      version: "v1.0.0",
      runningMatches: 1,
      metadata: { map: "forest" },
      host: "127.0.0.1",
      ports: [expect.objectContaining({ name: "game", protocol: "tcp" })],
    });
    expect(got.pingAgeSeconds ?? 0).toBeGreaterThanOrEqual(0);
    expect(got.pingAgeSeconds ?? 0).toBeLessThan(3600);
  });

  it("answers 400 naming the field for a bad status, page or page size", async () => {
    const bad = async (query: string) => {
      const res = await api("GET", `/schedulers/listed/rooms?${query}`);
      expect(res.status, query).toBe(400);
      return String(res.json.message);
    };
    expect(await bad("status=sleepy")).toContain("status: must be one of pending, unready, ready");
    expect(await bad("page=0")).toContain("page: must be an integer greater than or equal to 1");
    expect(await bad("pageSize=0")).toContain("pageSize: must be an integer from 1 to 1000");
    expect(await bad("pageSize=1001")).toContain("pageSize: must be an integer from 1 to 1000");
    expect(await bad("page=two")).toMatch(/page/);
  });

  it("answers 404 for an unknown scheduler or room", async () => {
    expect((await api("GET", "/schedulers/nobody/rooms")).status).toBe(404);
    expect((await api("GET", "/schedulers/listed/rooms/nobody")).status).toBe(404);
  });
});
