import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  schedulerBody,
  startTestMaestro,
  type TestMaestro,
} from "../../server/test/support/test-maestro.js";
import {
  createMaestroClient,
  type MaestroClient,
  MaestroClientError,
  type Operation,
  type RoomChange,
  schedulerFromJson,
} from "../src/index.js";
import { pingingRoomCommand } from "./support/pinging-room.js";

let maestro: TestMaestro;
let client: MaestroClient;

beforeAll(async () => {
  maestro = await startTestMaestro();
  client = createMaestroClient({ baseUrl: maestro.managementUrl, roomsApiUrl: maestro.roomsUrl, timeoutMs: 30_000 });
});

afterAll(async () => {
  await maestro?.stop();
});

async function caught(p: Promise<unknown>): Promise<MaestroClientError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(MaestroClientError);
    return err as MaestroClientError;
  }
  throw new Error("expected a rejection");
}

async function createAndWait(name: string, overrides: Record<string, unknown> = {}): Promise<Operation> {
  await client.schedulers.create(schedulerFromJson(schedulerBody(name, overrides)));
  const item = await client.findOperation(name, "create_scheduler");
  expect(item?.definitionName).toBe("create_scheduler");
  return client.waitForOperation(name, item?.id ?? "", { pollIntervalMs: 100 });
}

describe("client against a real Maestro", () => {
  it("creates a scheduler, waits for create_scheduler, then lists, gets and counts it", async () => {
    const created = await client.schedulers.create(schedulerFromJson(schedulerBody("sdk-one", { game: "sdk-game" })));
    expect(created.state).toBe("creating");
    expect(created.spec?.version).toBe("v1.0.0");

    const item = await client.findOperation("sdk-one", "create_scheduler");
    const seen: string[] = [];
    const op = await client.waitForOperation("sdk-one", item?.id ?? "", {
      pollIntervalMs: 100,
      onProgress: (o) => seen.push(o.status),
    });
    expect(op.status).toBe("finished");
    expect(op.definitionName).toBe("create_scheduler");
    expect(seen.at(-1)).toBe("finished");

    const list = await client.schedulers.list({ game: "sdk-game" });
    expect(list.map((s) => s.name)).toEqual(["sdk-one"]);
    expect(list[0]?.version).toBe("v1.0.0");
    const got = await client.schedulers.get("sdk-one");
    expect(got.state).toBe("in-sync");
    expect(got.spec?.containers[0]?.command).toEqual(["node", "-e", "setInterval(() => {}, 1000)"]);
    const info = await client.schedulers.info("sdk-game");
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ name: "sdk-one", state: "in-sync", roomsReplicas: 0 });
    const versions = await client.schedulers.versions("sdk-one");
    expect(versions.map((v) => [v.version, v.isActive])).toEqual([["v1.0.0", true]]);
  });

  it("throws typed errors: not_found, invalid_argument naming fields, already_exists", async () => {
    const notFound = await caught(client.schedulers.get("does-not-exist"));
    expect(notFound.code).toBe("not_found");
    expect(notFound.rawMessage).toMatch(/does-not-exist/);

    const bad = schedulerBody("sdk-bad", { maxSurge: "lots" });
    (bad.spec as { containers: { ports: { protocol: string }[] }[] }).containers[0]!.ports[0]!.protocol = "pigeon";
    const invalid = await caught(client.schedulers.create(schedulerFromJson(bad)));
    expect(invalid.code).toBe("invalid_argument");
    expect(invalid.rawMessage).toContain("spec.containers[0].ports[0].protocol");
    expect(invalid.rawMessage).toContain("maxSurge");

    await createAndWait("sdk-dup");
    const dup = await caught(client.schedulers.create(schedulerFromJson(schedulerBody("sdk-dup"))));
    expect(dup.code).toBe("already_exists");

    const opNotFound = await caught(client.operations.get("sdk-dup", "00000000-0000-4000-8000-000000000000"));
    expect(opNotFound.code).toBe("not_found");
  });

  it("reports an unreachable server as unavailable", async () => {
    const dead = createMaestroClient({ baseUrl: "http://127.0.0.1:1" });
    expect((await caught(dead.schedulers.list())).code).toBe("unavailable");
  });

  it("honours AbortSignal on calls and on waitForOperation, and cancels operations", async () => {
    const pre = await caught(client.schedulers.list({}, { signal: AbortSignal.abort() }));
    expect(pre.code).toBe("canceled");

    const inFlight = new AbortController();
    const pending = client.schedulers.list({}, { signal: inFlight.signal });
    inFlight.abort();
    expect((await caught(pending)).code).toBe("canceled");

    // A major version waits for a validation room to become ready; these rooms never ping, so it stays in progress.
    await createAndWait("sdk-major");
    const def = schedulerFromJson(schedulerBody("sdk-major", {}));
    def.spec!.containers[0]!.command = ["node", "-e", "setInterval(() => {}, 2000)"];
    const opId = await client.schedulers.newVersion(def);

    const ac = new AbortController();
    const waiting = client.waitForOperation("sdk-major", opId, {
      pollIntervalMs: 100,
      signal: ac.signal,
      onProgress: (o) => {
        if (o.status === "in_progress") ac.abort();
      },
    });
    const aborted = await caught(waiting);
    expect(aborted.code).toBe("canceled");
    expect(aborted.operation).toBeUndefined();

    await client.operations.cancel("sdk-major", opId);
    const ended = await caught(client.waitForOperation("sdk-major", opId, { pollIntervalMs: 100 }));
    expect(["canceled", "failed_precondition"]).toContain(ended.code);
    expect(ended.operation?.id).toBe(opId);
    expect(["canceled", "error"]).toContain(ended.operation?.status);
    expect(ended.lastEvent).toBeTruthy();
    expect(ended.rawMessage).toContain(opId);
  });

  it("iterates and watches rooms after add-rooms", async () => {
    await createAndWait("sdk-rooms");
    const watcher = new AbortController();
    const changes: RoomChange[] = [];
    const watching = (async () => {
      for await (const change of client.watchRooms("sdk-rooms", { intervalMs: 100, signal: watcher.signal })) {
        changes.push(change);
      }
    })();

    const op = await client.schedulers.addRooms("sdk-rooms", 2);
    await client.waitForOperation("sdk-rooms", op, { pollIntervalMs: 100 });
    const rooms = await eventually(
      async () => {
        const all = [];
        for await (const room of client.rooms("sdk-rooms")) all.push(room);
        return all.length >= 2 && all;
      },
      { what: "two rooms", timeoutMs: 30_000 },
    );
    expect(rooms.every((r) => r.schedulerName === "sdk-rooms")).toBe(true);
    const one = await client.rooms.get("sdk-rooms", rooms[0]?.id ?? "");
    expect(one.id).toBe(rooms[0]?.id);
    expect(one.ports[0]?.port).toBeGreaterThanOrEqual(30000);
    expect((await caught(client.rooms.get("sdk-rooms", "nope"))).code).toBe("not_found");

    await eventually(() => changes.filter((c) => c.type === "added").length >= 2, { what: "two added changes" });
    watcher.abort();
    await watching; // ends quietly on abort
    const added = new Set(changes.filter((c) => c.type === "added").map((c) => c.room.id));
    for (const r of rooms) expect(added.has(r.id)).toBe(true);
  });

  it("allocates a ready room through the rooms API", async () => {
    const body = schedulerBody("sdk-alloc", { roomsReplicas: 1 });
    (body.spec as { containers: { command: string[] }[] }).containers[0]!.command = pingingRoomCommand;
    await client.schedulers.create(schedulerFromJson(body));
    const ready = await eventually(async () => (await client.rooms.list("sdk-alloc", { status: "ready" }))[0], {
      what: "a ready room",
      timeoutMs: 30_000,
    });
    const res = await client.allocateRoom("sdk-alloc");
    expect(res).toMatchObject({ success: true, roomId: ready.id });
    expect(res.ports[0]?.port).toBe(ready.ports[0]?.port);
    expect((await client.rooms.get("sdk-alloc", ready.id)).status).toBe("allocated");
    const noRooms = createMaestroClient({ baseUrl: maestro.managementUrl });
    expect((await caught(noRooms.allocateRoom("sdk-alloc"))).code).toBe("failed_precondition");
  });

  it("pages through final operations with listAllOperations", async () => {
    await createAndWait("sdk-ops");
    for (let i = 0; i < 2; i++) {
      await client.waitForOperation("sdk-ops", await client.schedulers.addRooms("sdk-ops", 1), { pollIntervalMs: 100 });
    }
    const firstPage = await client.operations.list("sdk-ops", { stage: "final", page: 1, perPage: 1 });
    expect(firstPage.operations).toHaveLength(1);
    const all = [];
    for await (const op of client.listAllOperations("sdk-ops", "final", { perPage: 1 })) all.push(op);
    expect(all.length).toBe(firstPage.total);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(new Set(all.map((o) => o.id)).size).toBe(all.length);
    expect(all.filter((o) => o.definitionName === "add_rooms").length).toBeGreaterThanOrEqual(2);
  });

  it("patches, switches versions and deletes", async () => {
    await createAndWait("sdk-life");
    const patchOp = await client.schedulers.patch("sdk-life", { roomsReplicas: 0, maxSurge: "2" });
    await client.waitForOperation("sdk-life", patchOp, { pollIntervalMs: 100 });
    expect((await client.schedulers.get("sdk-life")).spec?.version).toBe("v1.1.0");
    const switchOp = await client.schedulers.switchActiveVersion("sdk-life", "v1.0.0");
    await client.waitForOperation("sdk-life", switchOp, { pollIntervalMs: 100 });
    expect((await client.schedulers.get("sdk-life")).maxSurge).toBe("10%");
    const del = await client.schedulers.delete("sdk-life");
    await client.waitForOperation("sdk-life", del, { pollIntervalMs: 100 });
    await eventually(async () => (await caught(client.schedulers.get("sdk-life"))).code === "not_found", {
      what: "scheduler gone",
    });
  });

  it("sends requests through a caller-supplied fetch", async () => {
    const urls: string[] = [];
    const viaFetch = createMaestroClient({
      baseUrl: maestro.managementUrl,
      fetch: (input, init) => {
        urls.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      },
    });
    await viaFetch.schedulers.create(schedulerFromJson(schedulerBody("sdk-fetch")));
    const list = await viaFetch.schedulers.list({ name: "sdk-fetch" });
    expect(list.map((s) => s.name)).toEqual(["sdk-fetch"]);
    // A read goes out as a Connect GET: the request message rides in the query.
    expect(urls.some((u) => u.includes("/maestro.v1.SchedulersService/ListSchedulers?"))).toBe(true);
    expect((await caught(viaFetch.schedulers.get("nope"))).code).toBe("not_found");
  });
});

describe("client with tokens", () => {
  let secured: TestMaestro;
  beforeAll(async () => {
    secured = await startTestMaestro({
      "managementApi.writeTokens": "w-secret",
      "managementApi.readTokens": "r-secret",
    });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  it("sends the bearer token and maps 401/403", async () => {
    const anonymous = createMaestroClient({ baseUrl: secured.managementUrl });
    expect((await caught(anonymous.schedulers.list())).code).toBe("unauthenticated");
    const reader = createMaestroClient({ baseUrl: secured.managementUrl, token: "r-secret" });
    expect(await reader.schedulers.list()).toEqual([]);
    const denied = await caught(reader.schedulers.create(schedulerFromJson(schedulerBody("tok"))));
    expect(denied.code).toBe("permission_denied");
    const writer = createMaestroClient({ baseUrl: secured.managementUrl, token: "w-secret" });
    expect((await writer.schedulers.create(schedulerFromJson(schedulerBody("tok")))).name).toBe("tok");
  });
});
