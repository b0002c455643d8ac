import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeRoomsApi, startFakeRoomsApi } from "../src/testing.js";

let api: FakeRoomsApi;

beforeEach(async () => {
  api = await startFakeRoomsApi();
});

afterEach(async () => {
  await api.close();
});

async function call(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const PING = "/scheduler/s/rooms/r/ping";

describe("startFakeRoomsApi", () => {
  it("listens on 127.0.0.1 and answers like the rooms API", async () => {
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
    expect(await call("PUT", PING, { status: "ready", timestamp: "1", runningMatches: 0 })).toEqual({
      status: 200,
      body: { success: true },
    });
    expect(await call("POST", "/scheduler/s/rooms/r/roomevent", { event: "e", metadata: {} })).toEqual({
      status: 200,
      body: { success: true, message: "" },
    });
  });

  it("validates bodies and routes like the real API, recording everything", async () => {
    expect(await call("PUT", PING, { status: "allocated" })).toMatchObject({ status: 400, body: { code: 3 } });
    expect(await call("PUT", PING, "{not json")).toMatchObject({ status: 400, body: { code: 3 } });
    expect(await call("POST", "/scheduler/s/rooms/r/playerevent", { event: "playerJoin", metadata: {} })).toMatchObject(
      { status: 400, body: { message: "metadata.playerId is required" } },
    );
    expect(await call("POST", PING, { status: "ready" })).toMatchObject({ status: 404, body: { code: 5 } });
    expect(await call("DELETE", "/nope", "")).toMatchObject({ status: 404 });
    expect(api.requests.map((r) => [r.kind, r.responseStatus])).toEqual([
      ["ping", 400],
      ["ping", 400],
      ["playerevent", 400],
      ["ping", 404],
      ["unknown", 404],
    ]);
    expect(api.requests[1]?.rawBody).toBe("{not json");
  });

  it("fails the next N matching requests, then succeeds", async () => {
    api.failNext(2, { status: 503, message: "down" });
    api.failNext(1, { kind: "roomevent", status: 200, message: "nope" });
    const ping = { status: "ready" };
    expect(await call("POST", "/scheduler/s/rooms/r/roomevent", { event: "e" })).toEqual({
      status: 200,
      body: { success: false, message: "nope" },
    });
    expect((await call("PUT", PING, ping)).status).toBe(503);
    expect((await call("PUT", PING, ping)).status).toBe(503);
    expect((await call("PUT", PING, ping)).status).toBe(200);
  });

  it("requires the token when configured, and reports each request to onRequest", async () => {
    const seen: string[] = [];
    const secured = await startFakeRoomsApi({
      token: "abc",
      onRequest: (r) => seen.push(`${r.kind} ${r.responseStatus}`),
    });
    try {
      const put = (authorization?: string) =>
        fetch(`${secured.url}${PING}`, {
          method: "PUT",
          headers: authorization ? { authorization } : {},
          body: JSON.stringify({ status: "ready" }),
        }).then((r) => r.status);
      expect(await put()).toBe(401);
      expect(await put("Bearer wrong")).toBe(401);
      expect(await put("Bearer abc")).toBe(200);
      expect(seen).toEqual(["ping 401", "ping 401", "ping 200"]);
    } finally {
      await secured.close();
    }
  });

  it("waitFor resolves on past and future requests, and times out with a summary", async () => {
    await call("PUT", PING, { status: "ready" });
    await expect(api.waitFor((r) => r.body.status === "ready")).resolves.toMatchObject({ kind: "ping" });
    const third = api.waitFor((r) => r.kind === "ping", { count: 3 });
    await call("PUT", PING, { status: "occupied" });
    await call("PUT", PING, { status: "terminating" });
    expect((await third).body.status).toBe("terminating");
    await expect(api.waitFor((r) => r.body.status === "terminated", { timeoutMs: 50 })).rejects.toThrow(
      /no matching request within 50 ms; got 3 request\(s\)/,
    );
    api.reset();
    expect(api.requests).toHaveLength(0);
  });
});
