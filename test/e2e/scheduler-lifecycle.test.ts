import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, gameRoomPath, type MaestroProcess, startMaestroProcess, waitFor } from "../support/maestro-process.js";

/**
 * Maestro's scheduler e2e scenarios (create, versions, switch, patch, get, info, list, delete) on the embedded default
 * with real game-room processes.
 */
interface Room {
  id: string;
  status: string;
  version: string;
}

const gameRoomContainer = (env: Record<string, string> = {}, command = [process.execPath, gameRoomPath]) => ({
  name: "game-room",
  image: "local",
  imagePullPolicy: "IfNotPresent",
  command,
  environment: Object.entries(env).map(([name, value]) => ({ name, value })),
  requests: { memory: "64Mi", cpu: "100m" },
  limits: { memory: "128Mi", cpu: "200m" },
  ports: [{ name: "game", protocol: "tcp", port: 7000 }],
});

const schedulerBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  game: "lifecycle",
  maxSurge: "1",
  roomsReplicas: 2,
  portRange: { start: 48000, end: 48999 },
  spec: { terminationGracePeriod: "5", containers: [gameRoomContainer({ FLAVOUR: "vanilla" })] },
  ...extra,
});

describe("scheduler lifecycle on the embedded default", () => {
  let m: MaestroProcess;
  const get = (path: string) => api(m.managementUrl, "GET", path);
  const rooms = async (name: string): Promise<Room[]> => (await get(`/schedulers/${name}/rooms`)).json.rooms ?? [];
  const operation = async (name: string, id: string) =>
    waitFor(async () => {
      const op = (await get(`/schedulers/${name}/operations/${id}`)).json.operation;
      return ["finished", "error", "canceled", "evicted"].includes(op?.status) ? op : undefined;
    }, `operation ${id} to end`);
  const readyRoomsOf = (name: string, version: string, count: number) =>
    waitFor(
      async () => {
        const rs = await rooms(name);
        const ok = rs.filter((r) => r.status === "ready" && r.version === version);
        return ok.length === count && rs.length === count ? rs : undefined;
      },
      `${count} ready rooms of ${name} at ${version}`,
      90_000,
    );
  const versions = async (name: string) =>
    (await get(`/schedulers/${name}/versions`)).json.versions as { version: string; isActive: boolean }[];

  beforeAll(async () => {
    m = await startMaestroProcess([
      "--set",
      "workers.healthControllerIntervalMs=1000",
      "--set",
      "rooms.validationTimeoutMs=3000",
      "--set",
      "rooms.validationAttempts=1",
    ]);
  });
  afterAll(async () => {
    await m?.stop();
  });

  it("create_scheduler: succeeds, and a failed creation rolls back", async () => {
    expect((await api(m.managementUrl, "POST", "/schedulers", schedulerBody("created"))).status).toBe(200);
    await readyRoomsOf("created", "v1.0.0", 2);
    const ops = (await get("/schedulers/created/operations?stage=final&orderBy=createdAt%20asc")).json.operations;
    expect(ops[0]).toMatchObject({ definitionName: "create_scheduler", status: "finished" });

    // The runtime already has a home for this name (Maestro: the namespace exists): creation fails and is undone.
    await mkdir(join(m.dataDir, "rooms", "clashing"), { recursive: true });
    expect((await api(m.managementUrl, "POST", "/schedulers", schedulerBody("clashing"))).status).toBe(200);
    await waitFor(async () => (await get("/schedulers/clashing")).status === 404, "the failed scheduler to be removed");
  });

  it("get / list / info", async () => {
    const one = (await get("/schedulers/created")).json.scheduler;
    expect(one).toMatchObject({ name: "created", game: "lifecycle", state: "in-sync", roomsReplicas: 2 });
    expect((await get("/schedulers/created?version=v1.0.0")).json.scheduler.spec.version).toBe("v1.0.0");
    expect((await get("/schedulers/created?version=v9.0.0")).status).toBe(404);
    expect((await get("/schedulers/nope")).status).toBe(404);
    const list = (await get("/schedulers?game=lifecycle")).json.schedulers;
    expect(list.map((s: { name: string }) => s.name)).toEqual(["created"]);
    expect((await get("/schedulers?name=none")).json.schedulers).toEqual([]);
    const info = (await get("/schedulers/info?game=lifecycle")).json.schedulers;
    expect(info).toEqual([expect.objectContaining({ name: "created", roomsReady: 2, roomsOccupied: 0 })]);
    expect((await get("/schedulers/info?game=unknown-game")).json.schedulers).toEqual([]);
  });

  it("create_new_scheduler_version: minor keeps rooms, major replaces all, switch back, next numbers", async () => {
    const before = (await rooms("created")).map((r) => r.id).sort();

    // Minor: only roomsReplicas-like fields change.
    const minor = await api(
      m.managementUrl,
      "POST",
      "/schedulers/created",
      schedulerBody("created", { maxSurge: "2" }),
    );
    expect(minor.status).toBe(200);
    expect((await operation("created", minor.json.operationId)).status).toBe("finished");
    await waitFor(
      async () => (await get("/schedulers/created")).json.scheduler.spec.version === "v1.1.0",
      "v1.1.0 active",
    );
    expect((await rooms("created")).map((r) => r.id).sort()).toEqual(before);

    // Major: the container's environment changes; a validation room must become ready first.
    const majorBody = schedulerBody("created", {
      spec: { terminationGracePeriod: "5", containers: [gameRoomContainer({ FLAVOUR: "chocolate" })] },
    });
    const major = await api(m.managementUrl, "POST", "/schedulers/created", majorBody);
    expect(major.status).toBe(200);
    const majorOp = await operation("created", major.json.operationId);
    expect(majorOp.status, JSON.stringify(majorOp.executionHistory)).toBe("finished");
    expect(majorOp.executionHistory.map((e: { event: string }) => e.event).join("\n")).toContain("validation");
    const replaced = await readyRoomsOf("created", "v2.0.0", 2);
    expect(replaced.some((r) => before.includes(r.id))).toBe(false);

    // Switch back to the first version: rooms roll back to it.
    const back = await api(m.managementUrl, "PUT", "/schedulers/created", { version: "v1.0.0" });
    expect(back.status).toBe(200);
    await readyRoomsOf("created", "v1.0.0", 2);
    expect((await versions("created")).find((v) => v.isActive)?.version).toBe("v1.0.0");

    // Next numbers: a minor of v1 is v1.2.0, a major after v2 is v3.0.0.
    const minor2 = await api(m.managementUrl, "PATCH", "/schedulers/created", { maxSurge: "3" });
    expect(minor2.status).toBe(200);
    await operation("created", minor2.json.operationId);
    await waitFor(async () => (await get("/schedulers/created")).json.scheduler.spec.version === "v1.2.0", "v1.2.0");
    const major2 = await api(m.managementUrl, "PATCH", "/schedulers/created", { labels: { team: "blue" } });
    expect(major2.status).toBe(200);
    expect((await operation("created", major2.json.operationId)).status).toBe("finished");
    await waitFor(async () => (await get("/schedulers/created")).json.scheduler.spec.version === "v3.0.0", "v3.0.0");
    await readyRoomsOf("created", "v3.0.0", 2);
    expect((await versions("created")).map((v) => v.version)).toEqual([
      "v3.0.0",
      "v1.2.0",
      "v2.0.0",
      "v1.1.0",
      "v1.0.0",
    ]);
  });

  it("create_new_scheduler_version: invalid request is 400; rooms that never get ready fail and change nothing", async () => {
    const invalid = await api(m.managementUrl, "POST", "/schedulers/created", {
      ...schedulerBody("created"),
      maxSurge: "x",
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json.message).toContain("maxSurge");

    const versionsBefore = await versions("created");
    const roomsBefore = (await rooms("created")).map((r) => r.id).sort();
    const neverReady = schedulerBody("created", {
      spec: {
        terminationGracePeriod: "5",
        containers: [gameRoomContainer({}, [process.execPath, "-e", "setInterval(() => {}, 1000)"])],
      },
    });
    const res = await api(m.managementUrl, "POST", "/schedulers/created", neverReady);
    expect(res.status).toBe(200);
    const op = await operation("created", res.json.operationId);
    expect(op.status).toBe("error");
    expect(op.executionHistory.map((e: { event: string }) => e.event).join("\n")).toContain(
      "All validation attempts have failed",
    );
    expect(await versions("created")).toEqual(versionsBefore);
    // The last validation room is deleted as the operation ends; its record goes once its process has exited.
    const sameRooms = async () =>
      JSON.stringify((await rooms("created")).map((r) => r.id).sort()) === JSON.stringify(roomsBefore);
    await waitFor(sameRooms, "the rooms from before the failed version, and no other");
    expect((await rooms("created")).map((r) => r.id).sort()).toEqual(roomsBefore);
  });

  it("patch_scheduler: single and several fields; empty patch refused", async () => {
    const empty = await api(m.managementUrl, "PATCH", "/schedulers/created", {});
    expect(empty.status).toBe(409);
    const several = await api(m.managementUrl, "PATCH", "/schedulers/created", {
      roomsReplicas: 3,
      annotations: { owner: "lifecycle-test" },
    });
    expect(several.status).toBe(200);
    expect((await operation("created", several.json.operationId)).status).toBe("finished");
    const s = (await get("/schedulers/created")).json.scheduler;
    expect(s).toMatchObject({ roomsReplicas: 3, annotations: { owner: "lifecycle-test" } });
    await readyRoomsOf("created", s.spec.version, 3);
  });

  it("switch_active_version: an unknown version is refused", async () => {
    const res = await api(m.managementUrl, "PUT", "/schedulers/created", { version: "v42.0.0" });
    expect(res.status).toBe(404);
  });

  it("delete_scheduler: rooms and records go; unknown scheduler is 404", async () => {
    const del = await api(m.managementUrl, "DELETE", "/schedulers/created");
    expect(del.status).toBe(200);
    await waitFor(async () => (await get("/schedulers/created")).status === 404, "scheduler deleted");
    await waitFor(
      async () => (await get("/schedulers/info?game=lifecycle")).json.schedulers.length === 0,
      "info empty",
    );
    expect((await api(m.managementUrl, "DELETE", "/schedulers/created")).status).toBe(404);
  });
});
