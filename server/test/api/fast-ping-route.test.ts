import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/**
 * Issue 17: `PUT …/ping` is served by a fast route ahead of Fastify (api/rest/fast-ping-route.ts). Names written with
 * a percent-escape go Fastify's generic way (the fast route leaves anything it would have to decode to Fastify), so
 * every request below is sent both ways and the answers must be the same: status, content type and body.
 */
let maestro: TestMaestro;
let roomId: string;
let token: string;
const S = "twins";

beforeAll(async () => {
  maestro = await startTestMaestro();
  await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody(S, { roomsReplicas: 1 }));
  roomId = await eventually(
    async () => (await http(maestro.managementUrl, "GET", `/schedulers/${S}/rooms`)).json.rooms?.[0]?.id,
    { what: "a room" },
  );
  token = maestro.context.tokens.tokenFor(S, roomId);
});
afterAll(async () => maestro?.stop());

/** The same name with its first character percent-encoded: Fastify decodes it to the very same name. */
function escaped(name: string): string {
  return `%${name.charCodeAt(0).toString(16).toUpperCase()}${name.slice(1)}`;
}

async function put(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(maestro.roomsUrl + path, { method: "PUT", headers, body });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

/** Sends the ping the generic way, then the fast way (a repeated ping answers as the first one did). */
async function both(scheduler: string, room: string, body: string, headers: Record<string, string>) {
  const generic = await put(`/scheduler/${escaped(scheduler)}/rooms/${escaped(room)}/ping`, body, headers);
  const fast = await put(`/scheduler/${scheduler}/rooms/${room}/ping`, body, headers);
  return { generic, fast };
}

function requestsCounted(route: string): Promise<number> {
  return maestro.context.metrics.registry
    .getSingleMetric("maestro_http_requests_total")!
    .get()
    .then((m) => m.values.filter((v) => v.labels.route === route).reduce((sum, v) => sum + v.value, 0));
}

describe("the fast ping route", () => {
  const bodies = [
    '{"status":"ready"}',
    '{"status":"ready","runningMatches":0,"timestamp":1764950400}',
    '{"status":"occupied","runningMatches":2,"metadata":{"map":"desert","players":[1,2]}}',
    '{"status":"occupied","runningMatches":"3","timestamp":"12312312313"}',
    '{"status":"ready","running_matches":1}',
    '{"status":"ready","runningMatches":-1}',
    '{"status":"ready","runningMatches":1.5}',
    '{"status":"ready","timestamp":1e20}',
    '{"status":"ready","timestamp":null}',
    '{"status":"ready","metadata":[]}',
    '{"status":"ready","metadata":null}',
    '{"status":"ready","metadata":{"k":"a\\u0000b"}}',
    '{"status":"re\\u0000ady"}',
    '{"status":"bogus"}',
    '{"status":5}',
    '{"status":"ready","extra":1}',
    '{"status":"ready","__proto__":{"x":1}}',
    '{"status":"ready","schedulerName":"other"}',
    "{}",
    "[]",
    '"ready"',
    "{",
    "null",
  ];

  it("answers every body as the generic route does, with and without the room's token", async () => {
    const auths: Record<string, string>[] = [
      { authorization: `Bearer ${token}` },
      {},
      { authorization: `Bearer ${maestro.context.tokens.tokenFor(S, "another-room")}` },
      { authorization: "Basic abc" },
    ];
    const differences: unknown[] = [];
    const statuses = new Set<number>();
    for (const headers of auths) {
      for (const body of bodies) {
        for (const type of [{ "content-type": "application/json" }, {}] as Record<string, string>[]) {
          const { generic, fast } = await both(S, roomId, body, { ...headers, ...type });
          statuses.add(fast.status);
          if (JSON.stringify(generic) !== JSON.stringify(fast)) differences.push({ body, generic, fast });
        }
      }
    }
    expect(differences).toEqual([]);
    // The list must reach success, bad input and refused tokens, or it compares little.
    expect([...statuses].sort()).toEqual([200, 400, 401]);
  });

  it("answers unknown rooms and schedulers as the generic route does", async () => {
    const headers = { authorization: `Bearer ${maestro.context.tokens.tokenFor(S, "ghost")}` };
    const ghost = await both(S, "ghost", '{"status":"ready"}', headers);
    expect(ghost.fast).toEqual(ghost.generic);
    expect(ghost.fast.status).toBe(404);
    const noScheduler = {
      authorization: `Bearer ${maestro.context.tokens.tokenFor("nowhere", roomId)}`,
    };
    const nowhere = await both("nowhere", roomId, '{"status":"ready"}', noScheduler);
    expect(nowhere.fast).toEqual(nowhere.generic);
    expect(nowhere.fast.status).toBe(404);
  });

  it("writes the ping and counts it under the generic route's template", async () => {
    const route = "/scheduler/:scheduler_name/rooms/:room_name/ping";
    const headers = { authorization: `Bearer ${token}` };
    const before = await requestsCounted(route);
    await put(`/scheduler/${escaped(S)}/rooms/${roomId}/ping`, '{"status":"ready"}', headers);
    expect(await requestsCounted(route)).toBe(before + 1);
    const body = '{"status":"occupied","runningMatches":2,"metadata":{"map":"forest"}}';
    const answer = await put(`/scheduler/${S}/rooms/${roomId}/ping`, body, headers);
    expect(answer).toEqual({ status: 200, type: "application/json; charset=utf-8", body: '{"success":true}' });
    expect(await requestsCounted(route)).toBe(before + 2);
    const room = (await http(maestro.managementUrl, "GET", `/schedulers/${S}/rooms/${roomId}`)).json.room;
    expect(room).toMatchObject({
      status: "occupied",
      pingStatus: "occupied",
      runningMatches: 2,
      metadata: { map: "forest" },
    });
  });

  it("leaves chunked and oversized bodies to the generic route's limits", async () => {
    const chunked = await fetch(`${maestro.roomsUrl}/scheduler/${S}/rooms/${roomId}/ping`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
      body: new Blob(['{"status":"ready"}']).stream(),
      duplex: "half",
    } as RequestInit);
    expect({ status: chunked.status, body: await chunked.text() }).toEqual({ status: 200, body: '{"success":true}' });
    const huge = `{"status":"ready","metadata":{"pad":"${"x".repeat(20_000)}"}}`;
    const { generic, fast } = await both(S, roomId, huge, { authorization: `Bearer ${token}` });
    expect(fast).toEqual(generic);
    expect(fast.status).toBe(200);
  });

  it("answers header case and duplicate Authorization headers as the generic route does", async () => {
    /** A PUT with this exact header list (names as written, duplicates kept), as a proxy might forward it. */
    const rawPut = (path: string, body: string, headers: string[]) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        // A raw list replaces every default header, Host included (which HTTP/1.1 requires).
        const req = request(
          maestro.roomsUrl + path,
          { method: "PUT", headers: ["Host", "maestro", ...headers] },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => {
              text += c;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const body = '{"status":"ready"}';
    const good = `Bearer ${token}`;
    const bad = `Bearer ${maestro.context.tokens.tokenFor(S, "someone-else")}`;
    for (const [headers, status] of [
      [
        [
          "CONTENT-LENGTH",
          String(body.length),
          "content-type",
          "application/json",
          "AUTHORIZATION",
          good,
          "authorization",
          bad,
        ],
        200,
      ],
      [
        [
          "Content-Length",
          String(body.length),
          "Content-Type",
          "application/json",
          "Authorization",
          bad,
          "Authorization",
          good,
        ],
        401,
      ],
    ] as const) {
      const fast = await rawPut(`/scheduler/${S}/rooms/${roomId}/ping`, body, [...headers]);
      const generic = await rawPut(`/scheduler/${escaped(S)}/rooms/${escaped(roomId)}/ping`, body, [...headers]);
      expect(fast).toEqual(generic);
      expect(fast.status).toBe(status);
    }
  });
});
