import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type TestPostgres } from "../../server/test/support/postgres.js";
import { startRedis, type TestRedis } from "../../server/test/support/redis.js";
import { api, waitFor } from "../support/maestro-process.js";
import { Fleet, schedulerBody, waitInSync, waitReadyRooms } from "./fleet.js";
import { AllocationProbe, checkInvariants, versionOutcome } from "./invariants.js";

/**
 * Faults beyond one worker step (issue 16): kill -9 of the rooms-API and of the management-API module (each its own
 * `maestro start <module>` process), kill -9 of one of two worker replicas (the other takes its schedulers over), and
 * PostgreSQL and Redis stopped or frozen (SIGSTOP) mid-operation. The same invariant checker as the operation matrix
 * runs after each. SIGTERM mid-operation of every type is the matrix's `term` column.
 */
const S = "faults";
let redis: TestRedis;
let redisDir: string;
let pg: TestPostgres;
let db = 0;

beforeAll(async () => {
  redisDir = await mkdtemp(join(tmpdir(), "maestro-faults-redis-"));
  [redis, pg] = await Promise.all([startRedis({ persistIn: redisDir, databases: 32 }), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), pg?.stop()]);
  await rm(redisDir, { recursive: true, force: true });
});

async function newFleet(settings: Record<string, string | number> = {}): Promise<Fleet> {
  // Taken before any await: cases start concurrently and each needs its own number.
  const n = ++db;
  return new Fleet({
    redisUrl: `${redis.url}/${n}`,
    postgresUrl: await pg.createDatabase(`component${n}`),
    settings,
  });
}

async function createScheduler(fleet: Fleet, replicas: number): Promise<void> {
  const { M } = await fleet.urls();
  expect((await api(M, "POST", "/schedulers", schedulerBody(S, replicas))).status).toBe(200);
  await waitInSync(M, S);
  await waitReadyRooms(M, S, replicas);
}

async function allocate(R: string): Promise<string> {
  const res = await api(R, "POST", `/scheduler/${S}/rooms/allocate`, {});
  expect(res.json?.success, JSON.stringify(res.json)).toBe(true);
  return res.json.roomId;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

describe("fault matrix: processes other than the worker step", () => {
  it.concurrent("kill -9 of the rooms-API module mid add_rooms: rooms converge, the allocated room stays", async () => {
    const fleet = await newFleet();
    const { M, R } = await fleet.urls();
    try {
      await fleet.start("management", ["management-api"]);
      await fleet.start("rooms", ["rooms-api"]);
      await fleet.start("worker", ["worker", "runtime-watcher"]);
      await createScheduler(fleet, 2);
      const kept = await allocate(R);
      const probe = new AllocationProbe(R, S);
      const op = (await api(M, "POST", `/schedulers/${S}/add-rooms`, { amount: 1 })).json.operationId as string;
      await fleet.kill("rooms");
      // Rooms ping nowhere meanwhile; the new room cannot report ready until the module is back.
      await sleep(3000);
      await fleet.start("rooms", ["rooms-api"]);
      await checkInvariants(fleet, { scheduler: S, operationIds: [op], mustFinish: [op], keptRooms: [kept], probe });
    } finally {
      await fleet.stop();
    }
  }, 300_000);

  it.concurrent("kill -9 of the management-API module mid remove_rooms: the operation ends once, the allocated room stays", async () => {
    const fleet = await newFleet({ "rooms.allocationTtlMs": 8000 });
    const { M, R } = await fleet.urls();
    try {
      await fleet.start("management", ["management-api"]);
      await fleet.start("rooms", ["rooms-api"]);
      await fleet.start("worker", ["worker", "runtime-watcher"], "room/removal-claimed=sleep(2000)");
      await createScheduler(fleet, 3);
      const kept = await allocate(R);
      const op = (await api(M, "POST", `/schedulers/${S}/remove-rooms`, { amount: 1 })).json.operationId as string;
      await fleet.kill("management");
      await sleep(2000);
      await fleet.start("management", ["management-api"]);
      await checkInvariants(fleet, { scheduler: S, operationIds: [op], mustFinish: [op], keptRooms: [kept] });
    } finally {
      await fleet.stop();
    }
  }, 300_000);

  it.concurrent("kill -9 of one of two worker replicas mid add_rooms: the other takes over, no dead room handed out", async () => {
    const fleet = await newFleet();
    const { M, R } = await fleet.urls();
    try {
      await fleet.start("apis", ["management-api", "rooms-api"]);
      const w1 = await fleet.start("w1", ["worker", "runtime-watcher"]);
      const w2 = await fleet.start("w2", ["worker", "runtime-watcher"]);
      await createScheduler(fleet, 2);
      const parents = new Set((await fleet.roomPids(S)).map(parentOf));
      const owner = parents.has(w1.child.pid ?? -1) ? "w1" : parents.has(w2.child.pid ?? -1) ? "w2" : undefined;
      expect(owner, `room parents ${[...parents]} are neither replica`).toBeDefined();
      const probe = new AllocationProbe(R, S);
      const op = (await api(M, "POST", `/schedulers/${S}/add-rooms`, { amount: 1 })).json.operationId as string;
      await fleet.kill(owner!);
      const killedAt = Date.now();
      await checkInvariants(fleet, {
        scheduler: S,
        operationIds: [op],
        // Taken over mid-way or not started yet, the request completes on the survivor.
        mustFinish: [op],
        probe,
        // The survivor learns at takeover: once the claim lapses (workers.ownershipTtlMs) and it syncs.
        knownGoneAt: killedAt + 3000 + 1000,
      });
    } finally {
      await fleet.stop();
    }
  }, 300_000);

  it.concurrent("kill -9 of the worker replica that deleted the scheduler before it reported: exactly one other replica finishes the deletion", async () => {
    const fleet = await newFleet();
    const { M } = await fleet.urls();
    try {
      await fleet.start("apis", ["management-api", "rooms-api"]);
      // All armed: whichever owns the scheduler dies once the record is gone; the others never run the deletion.
      const crash = "operation/executed:delete_scheduler=crash";
      const workers = await Promise.all(
        ["w1", "w2", "w3"].map((w) => fleet.start(w, ["worker", "runtime-watcher"], crash)),
      );
      await createScheduler(fleet, 1);
      const op = (await api(M, "DELETE", `/schedulers/${S}`)).json.operationId as string;
      await waitFor(async () => workers.some((w) => !w.alive()), "the deleting replica killed");
      expect(workers.filter((w) => w.alive())).toHaveLength(2);
      await checkInvariants(fleet, { scheduler: S, operationIds: [op], mustFinish: [op], deleted: true });
      const events = (
        (await api(M, "GET", `/schedulers/${S}/operations/${op}`)).json.operation.executionHistory as {
          event: string;
        }[]
      ).map((e) => e.event);
      expect(
        events.filter((e) => e.startsWith("Operation finished by recovery")),
        JSON.stringify(events),
      ).toHaveLength(1);
    } finally {
      await fleet.stop();
    }
  }, 300_000);
});

describe("fault matrix: stores stopped or frozen mid-operation", () => {
  /** A spec change: create_new_scheduler_version, which validates a room of the new version before switching. */
  const patchNewVersion = async (M: string): Promise<string> =>
    (
      await api(M, "PATCH", `/schedulers/${S}`, {
        spec: { containers: [{ environment: [{ name: "FAULT_VARIANT", value: "b" }] }] },
      })
    ).json.operationId;
  const storeFaults: {
    name: string;
    point: string;
    trigger: (M: string) => Promise<string>;
    fault: () => Promise<void>;
    version?: string;
  }[] = [
    {
      name: "PostgreSQL stopped mid new version",
      point: "validation/room-settled=sleep(3000)",
      trigger: patchNewVersion,
      fault: async () => {
        await pg.halt();
        await sleep(5000);
        await pg.resume();
      },
    },
    {
      name: "PostgreSQL frozen mid new version",
      point: "validation/room-settled=sleep(3000)",
      trigger: patchNewVersion,
      fault: async () => {
        pg.freeze();
        await sleep(5000);
        pg.thaw();
      },
    },
    {
      name: "Redis stopped mid add_rooms",
      point: "add_rooms/room-created=sleep(2000)",
      trigger: async (M) => (await api(M, "POST", `/schedulers/${S}/add-rooms`, { amount: 2 })).json.operationId,
      fault: async () => {
        const port = redis.port;
        await redis.stop();
        await sleep(5000);
        redis = await startRedis({ port, persistIn: redisDir, databases: 32 });
      },
    },
    {
      name: "Redis frozen past the operation lease mid add_rooms",
      point: "add_rooms/room-created=sleep(2000)",
      trigger: async (M) => (await api(M, "POST", `/schedulers/${S}/add-rooms`, { amount: 2 })).json.operationId,
      fault: async () => {
        redis.freeze();
        // Longer than the operation lease (2 s): the worker loses it and another attempt must not double the work.
        await sleep(5000);
        redis.thaw();
      },
    },
  ];

  it.each(storeFaults)(
    "$name: final once, scheduler intact, rooms converge, none untracked, no dead room handed out",
    async ({ point, trigger, fault }) => {
      const fleet = await newFleet();
      const { M, R } = await fleet.urls();
      try {
        const proc = await fleet.start("maestro", [], point);
        await createScheduler(fleet, 2);
        const probe = new AllocationProbe(R, S);
        const op = await trigger(M);
        const fired = `failpoint ${point.split("=")[0]}: sleep`;
        await waitFor(async () => proc.output().includes(fired), fired, 120_000);
        await fault();
        const faultEnd = Date.now();
        expect(proc.alive(), `maestro died:\n${proc.output()}`).toBe(true);
        await checkInvariants(fleet, {
          scheduler: S,
          operationIds: [op],
          // A scaling request completes through the outage (re-run if its worker lost the lease meanwhile).
          mustFinish: point.startsWith("add_rooms/") ? [op] : [],
          probe,
          knownGoneAt: faultEnd,
          ...(point.startsWith("validation/") ? { settled: () => versionOutcome(M, S) } : {}),
        });
      } finally {
        await fleet.stop();
      }
    },
    300_000,
  );
});
