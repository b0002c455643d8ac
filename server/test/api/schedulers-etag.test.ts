import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

let maestro: TestMaestro;

beforeAll(async () => {
  maestro = await startTestMaestro();
});
afterAll(async () => {
  await maestro?.stop();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(maestro.managementUrl + path, { headers });

describe("management reads with ETag / If-None-Match over REST", () => {
  it("answers 304 with no body while the scheduler and the list are unchanged, 200 with a new ETag once they change", async () => {
    const name = "etag-sched";
    expect(
      (await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody(name, { game: "etag-game" }))).status,
    ).toBe(200);
    await eventually(
      async () => (await http(maestro.managementUrl, "GET", `/schedulers/${name}`)).json.scheduler?.state === "in-sync",
    );

    for (const path of [`/schedulers/${name}`, "/schedulers?game=etag-game"]) {
      const first = await get(path);
      expect(first.status).toBe(200);
      const etag = first.headers.get("etag");
      expect(etag).toMatch(/^"[\w-]+"$/);
      await first.text();

      const same = await get(path, { "if-none-match": etag! });
      expect(same.status).toBe(304);
      expect(await same.text()).toBe("");
      // Weak comparison, lists and `*` as RFC 9110 says.
      expect((await get(path, { "if-none-match": `"other", W/${etag}` })).status).toBe(304);
      expect((await get(path, { "if-none-match": "*" })).status).toBe(304);
      const stale = await get(path, { "if-none-match": '"not-this-one"' });
      expect(stale.status).toBe(200);
      expect((await stale.json()) as unknown).toEqual(await (await get(path)).json());
    }

    const before = (await get(`/schedulers/${name}`)).headers.get("etag")!;
    const listBefore = (await get("/schedulers?game=etag-game")).headers.get("etag")!;
    const patched = await http(maestro.managementUrl, "PATCH", `/schedulers/${name}`, { maxSurge: "25%" });
    expect(patched.status).toBe(200);
    await eventually(
      async () => (await http(maestro.managementUrl, "GET", `/schedulers/${name}`)).json.scheduler?.maxSurge === "25%",
    );
    const after = await get(`/schedulers/${name}`, { "if-none-match": before });
    expect(after.status).toBe(200);
    expect(after.headers.get("etag")).not.toBe(before);
    expect(((await after.json()) as { scheduler: { maxSurge: string } }).scheduler.maxSurge).toBe("25%");
    expect((await get("/schedulers?game=etag-game", { "if-none-match": listBefore })).status).toBe(200);
  });

  it("an unknown scheduler is still a 404, whatever If-None-Match says", async () => {
    const res = await get("/schedulers/no-such-etag-scheduler", { "if-none-match": "*" });
    expect(res.status).toBe(404);
  });
});

describe("management reads with ETag / If-None-Match over Connect GET", () => {
  // Connect's GET form of a unary call (what the SDK sends for reads): the message travels in the query.
  const connectGet = (rpc: string, message: unknown, headers: Record<string, string> = {}) =>
    get(`/maestro.v1.${rpc}?connect=v1&encoding=json&message=${encodeURIComponent(JSON.stringify(message))}`, headers);

  it("answers a read RPC's GET with an ETag, then 304 while unchanged and 200 once the scheduler changes", async () => {
    const name = "etag-connect";
    expect((await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody(name))).status).toBe(200);
    await eventually(
      async () => (await http(maestro.managementUrl, "GET", `/schedulers/${name}`)).json.scheduler?.state === "in-sync",
    );
    const first = await connectGet("SchedulersService/GetScheduler", { schedulerName: name });
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(((await first.json()) as { scheduler: { name: string } }).scheduler.name).toBe(name);

    const same = await connectGet(
      "SchedulersService/GetScheduler",
      { schedulerName: name },
      { "if-none-match": etag! },
    );
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    // Another request is another answer: its own ETag.
    const list = await connectGet("SchedulersService/ListSchedulers", {}, { "if-none-match": etag! });
    expect(list.status).toBe(200);
    expect(list.headers.get("etag")).not.toBe(etag);
    await list.text();

    expect((await http(maestro.managementUrl, "PATCH", `/schedulers/${name}`, { maxSurge: "40%" })).status).toBe(200);
    await eventually(
      async () => (await http(maestro.managementUrl, "GET", `/schedulers/${name}`)).json.scheduler?.maxSurge === "40%",
    );
    const changed = await connectGet(
      "SchedulersService/GetScheduler",
      { schedulerName: name },
      { "if-none-match": etag! },
    );
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(((await changed.json()) as { scheduler: { maxSurge: string } }).scheduler.maxSurge).toBe("40%");
  });

  it("keeps errors as Connect errors, POST reads unconditional, and writes off GET", async () => {
    const missing = await connectGet(
      "SchedulersService/GetScheduler",
      { schedulerName: "no-such-connect" },
      {
        "if-none-match": "*",
      },
    );
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe("not_found");

    const post = await fetch(`${maestro.managementUrl}/maestro.v1.SchedulersService/ListSchedulers`, {
      method: "POST",
      headers: { "content-type": "application/json", "if-none-match": "*" },
      body: "{}",
    });
    expect(post.status).toBe(200);
    expect(post.headers.get("etag")).toBeNull();
    await post.text();

    // A write has side effects: Connect offers it over POST only.
    const write = await connectGet("SchedulersService/DeleteScheduler", { schedulerName: "etag-connect" });
    expect(write.status).toBe(405);
    await write.text();
    expect((await http(maestro.managementUrl, "GET", "/schedulers/etag-connect")).status).toBe(200);
  });
});
