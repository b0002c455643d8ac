import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryRoomStorage } from "../../src/adapters/storage/memory/index.js";
import { createAuthorizer } from "../../src/api/auth/management-auth.js";
import { registerDashboardRoutes } from "../../src/api/dashboard/dashboard-routes.js";
import { RoomHistorySampler } from "../../src/api/dashboard/room-history.js";
import { findDashboardDist } from "../../src/api/dashboard/static-files.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import { gameRoom } from "../support/core-harness.js";

describe("dashboard routes", () => {
  let root: string;
  let dist: string;
  let rooms: MemoryRoomStorage;
  let names: string[];
  let now: Date;
  const apps: FastifyInstance[] = [];

  const appWith = (opts: { distDir?: string; tokens?: boolean } = {}) => {
    const app = fastify();
    const authorizer = createAuthorizer({
      host: "127.0.0.1",
      readTokens: opts.tokens ? "reader" : "",
      writeTokens: opts.tokens ? "writer" : "",
    });
    const history = new RoomHistorySampler({
      rooms,
      schedulers: { listSchedulerNames: async () => names },
      clock: { now: () => now },
      logger: silentLogger,
    });
    registerDashboardRoutes(app, { authorizer, history, distDir: opts.distDir ?? dist });
    apps.push(app);
    return { app, history };
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "maestro-dashboard-"));
    dist = join(root, "dist");
    await mkdir(join(dist, "assets"), { recursive: true });
    await writeFile(join(dist, "index.html"), "<!doctype html><title>Maestro</title>");
    await writeFile(join(dist, "assets", "index-abc123.js"), "console.log(1)");
    await writeFile(join(dist, "favicon.svg"), "<svg/>");
    await writeFile(join(root, "secret.txt"), "not for the web");
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await rm(root, { recursive: true, force: true });
  });

  it("serves the built files under /ui/, index.html for app paths, and nothing outside the folder", async () => {
    const { app } = appWith();
    const redirect = await app.inject("/ui");
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe("/ui/");

    const index = await app.inject("/ui/");
    expect(index.statusCode).toBe(200);
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(index.headers["cache-control"]).toBe("no-cache");
    expect(index.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(index.body).toContain("<title>Maestro</title>");

    const asset = await app.inject("/ui/assets/index-abc123.js");
    expect(asset.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(asset.headers["cache-control"]).toContain("immutable");
    expect(asset.body).toBe("console.log(1)");

    expect((await app.inject("/ui/schedulers/some-name")).body).toContain("<title>Maestro</title>");

    // Browsers ask for /favicon.ico at the root: the dashboard's icon, not a 404.
    const icon = await app.inject("/favicon.ico");
    expect(icon.statusCode).toBe(200);
    expect(icon.headers["content-type"]).toBe("image/svg+xml");
    expect(icon.body).toBe("<svg/>");
    for (const url of ["/ui/..%2fsecret.txt", "/ui/%2e%2e/secret.txt", "/ui/assets/..%2f..%2fsecret.txt"]) {
      const res = await app.inject(url);
      expect(res.body, url).not.toContain("not for the web");
    }
  });

  it("finds the dashboard package, and says how to build it when it is not built", async () => {
    expect(findDashboardDist()).toBe(join(fileURLToPath(new URL("../../../dashboard", import.meta.url)), "dist"));
    const res = await appWith({ distDir: join(root, "missing") }).app.inject("/ui/");
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain("npm run build -w @maestro/dashboard");
  });

  it("tells the caller its role, by the management API's tokens", async () => {
    const open = appWith().app;
    expect((await open.inject("/ui/api/whoami")).json()).toEqual({ role: "write", tokensRequired: false });

    const { app } = appWith({ tokens: true });
    const whoami = (token?: string) =>
      app.inject({ url: "/ui/api/whoami", headers: token ? { authorization: `Bearer ${token}` } : {} });
    const none = await whoami();
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ code: Code.Unauthenticated, message: "a management API token is required" });
    expect((await whoami("wrong")).json().message).toBe("unknown management API token");
    expect((await whoami("reader")).json()).toEqual({ role: "read", tokensRequired: true });
    expect((await whoami("writer")).json()).toEqual({ role: "write", tokensRequired: true });
    expect((await app.inject("/ui/api/schedulers/x/room-history")).statusCode).toBe(401);
  });

  it("adds the rooms' summed CPU and memory to each sample when the runtime measures them", async () => {
    rooms = new MemoryRoomStorage();
    names = ["alpha"];
    now = new Date("2026-01-01T10:00:00Z");
    let busy = 0;
    const history = new RoomHistorySampler({
      rooms,
      schedulers: { listSchedulerNames: async () => names },
      clock: { now: () => now },
      logger: silentLogger,
      usage: async (name) =>
        name !== "alpha"
          ? []
          : ["a1", "a2"].map((roomId, i) => ({
              roomId,
              cpuMillicores: i === 0 ? busy : 5,
              memoryBytes: 50 * 2 ** 20,
              cpuRequestMillicores: 100,
              memoryRequestBytes: 64 * 2 ** 20,
              sampledAt: now,
            })),
    });
    await history.sample();
    busy = 300;
    now = new Date("2026-01-01T10:00:10Z");
    const samples = await history.history("alpha");
    expect(samples.map((x) => x.usage)).toEqual([
      {
        rooms: 2,
        cpuMillicores: 5,
        memoryBytes: 100 * 2 ** 20,
        cpuRequestMillicores: 200,
        memoryRequestBytes: 128 * 2 ** 20,
      },
      {
        rooms: 2,
        cpuMillicores: 305,
        memoryBytes: 100 * 2 ** 20,
        cpuRequestMillicores: 200,
        memoryRequestBytes: 128 * 2 ** 20,
      },
    ]);
    names = ["beta"];
    await history.sample();
    expect((await history.history("beta"))[0]?.usage).toBeUndefined();
  });

  it("keeps an hour of room counts per scheduler and ends the history with the present", async () => {
    rooms = new MemoryRoomStorage();
    names = ["alpha", "beta"];
    now = new Date("2026-01-01T10:00:00Z");
    const { app, history } = appWith();
    await rooms.createRoom(gameRoom({ id: "a1", schedulerName: "alpha", status: "ready" }));
    await rooms.createRoom(gameRoom({ id: "a2", schedulerName: "alpha", status: "pending" }));
    await history.sample();
    now = new Date("2026-01-01T10:30:00Z");
    await rooms.createRoom(gameRoom({ id: "a3", schedulerName: "alpha", status: "ready" }));
    await history.sample();
    now = new Date("2026-01-01T11:10:00Z");
    await rooms.deleteRoom("alpha", "a2");

    const res = await app.inject("/ui/api/schedulers/alpha/room-history");
    expect(res.statusCode).toBe(200);
    // The 10:00 sample is older than an hour by now, but samples are dropped when a new one is stored.
    expect(res.json()).toEqual({
      intervalSeconds: 10,
      samples: [
        { at: "2026-01-01T10:00:00.000Z", counts: { ready: 1, pending: 1 } },
        { at: "2026-01-01T10:30:00.000Z", counts: { ready: 2, pending: 1 } },
        { at: "2026-01-01T11:10:00.000Z", counts: { ready: 2 } },
      ],
    });
    await history.sample();
    const after = (await app.inject("/ui/api/schedulers/alpha/room-history")).json().samples;
    expect(after.map((s: { at: string }) => s.at)).toEqual([
      "2026-01-01T10:30:00.000Z",
      "2026-01-01T11:10:00.000Z",
      "2026-01-01T11:10:00.000Z",
    ]);

    // The samples of a scheduler that is gone are forgotten: only the present is left.
    names = ["beta"];
    await history.sample();
    expect((await app.inject("/ui/api/schedulers/alpha/room-history")).json().samples).toEqual([
      { at: "2026-01-01T11:10:00.000Z", counts: { ready: 2 } },
    ]);
  });

  it("samples every scheduler, each with its own rooms, however many there are (sampled a batch at a time)", async () => {
    rooms = new MemoryRoomStorage();
    names = Array.from({ length: 37 }, (_, i) => `s${String(i).padStart(2, "0")}`);
    now = new Date("2026-01-01T10:00:00Z");
    const { app, history } = appWith();
    for (const [i, name] of names.entries()) {
      for (let r = 0; r <= i % 3; r++)
        await rooms.createRoom(gameRoom({ id: `r${r}`, schedulerName: name, status: "ready" }));
    }
    await history.sample();
    for (const [i, name] of names.entries()) {
      const samples = (await app.inject(`/ui/api/schedulers/${name}/room-history`)).json().samples;
      expect(samples).toEqual([
        { at: "2026-01-01T10:00:00.000Z", counts: { ready: (i % 3) + 1 } },
        { at: "2026-01-01T10:00:00.000Z", counts: { ready: (i % 3) + 1 } },
      ]);
    }
  });
});
