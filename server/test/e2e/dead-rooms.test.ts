import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createRedisClient,
  type RedisClient,
  RedisRoomStorage,
  RedisSchedulerOwnership,
} from "../../src/adapters/storage/redis/index.js";
import { type MaestroCli, startMaestroCli } from "../support/maestro-cli.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { sharedStoreSettings } from "../support/shared-store-settings.js";
import { eventually, http, pingingSchedulerBody } from "../support/test-maestro.js";

/**
 * Issue 16, finding 2: rooms whose processes are gone must not stay `ready` (and allocatable) until their ping times
 * out (240 s by default, left as is here). The process runtime's rooms die with their server; after a kill -9 and
 * restart, a clean SIGTERM, or the death of the replica that ran them, their records must go as soon as the runtime
 * knows — at start, at shutdown, at takeover — not when the health controller's timeouts say so (its interval is a
 * minute here, so it cannot be what removes them).
 */
describe("rooms whose processes are gone", () => {
  let pg: TestPostgres;
  let redis: TestRedis;
  let client: RedisClient;
  let rooms: RedisRoomStorage;
  const running: MaestroCli[] = [];
  const dirs: string[] = [];
  /** The rooms API addresses of this file's servers: their rooms' processes carry one in their environment. */
  const roomsUrls = new Set<string>();

  const start = async (replicaId: string, dataDir?: string) => {
    const maestro = await startMaestroCli(
      ["all"],
      {
        ...sharedStoreSettings(pg, redis),
        "workers.replicaId": replicaId,
        "workers.ownershipTtlMs": 1500,
        "workers.syncIntervalMs": 500,
        "workers.operationLeaseTtlMs": 1000,
        "workers.healthControllerIntervalMs": 60000,
      },
      { dataDir },
    );
    running.push(maestro);
    roomsUrls.add(maestro.roomsUrl);
    return maestro;
  };
  const kill9 = async (maestro: MaestroCli) => {
    const exited = new Promise((r) => maestro.child.once("exit", r));
    maestro.child.kill("SIGKILL");
    await exited;
  };
  const readyRooms = async (scheduler: string, count: number) =>
    eventually(
      async () => {
        const all = await rooms.listRooms(scheduler);
        const ready = all.filter((r) => r.status === "ready");
        return ready.length >= count && ready.map((r) => r.id);
      },
      { what: `${count} ready rooms`, timeoutMs: 30_000 },
    );
  const createScheduler = async (maestro: MaestroCli, name: string) => {
    const res = await http(
      maestro.managementUrl,
      "POST",
      "/schedulers",
      pingingSchedulerBody(name, { roomsReplicas: 3 }),
    );
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    client = createRedisClient(redis.url, { name: "dead-rooms-test" });
    rooms = new RedisRoomStorage(client);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((m) => m.stop()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    // Rooms of a server killed here are orphans once it is gone: stopping the test's servers stops them too.
    expect(await roomProcessesOf(roomsUrls)).toEqual([]);
  });
  afterAll(async () => {
    client?.disconnect();
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  it("are forgotten when the server restarts after a kill -9", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "maestro-dead-rooms-"));
    dirs.push(dataDir);
    const first = await start("restarted", dataDir);
    await createScheduler(first, "after-crash");
    const before = await readyRooms("after-crash", 3);
    await kill9(first);
    await start("restarted", dataDir);
    await eventually(
      async () => {
        const ids = (await rooms.listRooms("after-crash")).map((r) => r.id);
        return before.every((id) => !ids.includes(id));
      },
      { what: "the rooms of the killed server to be forgotten" },
    );
  });

  it("are forgotten by a clean SIGTERM, before the server exits", async () => {
    const maestro = await start("terminated");
    await createScheduler(maestro, "after-sigterm");
    await readyRooms("after-sigterm", 3);
    await maestro.stop();
    expect(await rooms.listRooms("after-sigterm")).toEqual([]);
  });

  it("are forgotten when the replica that ran them dies and another takes the scheduler over", async () => {
    const a = await start("replica-a");
    const b = await start("replica-b");
    await createScheduler(a, "after-replica");
    const before = await readyRooms("after-replica", 3);
    const owner = await new RedisSchedulerOwnership(client).holder("after-replica");
    const [dead] = owner === "replica-a" ? [a, b] : [b, a];
    await kill9(dead!);
    await eventually(
      async () => {
        const ids = (await rooms.listRooms("after-replica")).map((r) => r.id);
        return before.every((id) => !ids.includes(id));
      },
      { what: "the rooms of the dead replica to be forgotten" },
    );
  });
});

/** Pids of live processes whose MAESTRO_ROOMS_API_URL is one of `urls` (room processes of those servers). */
async function roomProcessesOf(urls: Set<string>): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, "utf8").catch(() => "");
    const url = environ
      .split("\0")
      .find((v) => v.startsWith("MAESTRO_ROOMS_API_URL="))
      ?.slice("MAESTRO_ROOMS_API_URL=".length);
    if (url !== undefined && urls.has(url)) pids.push(Number(entry));
  }
  return pids;
}
