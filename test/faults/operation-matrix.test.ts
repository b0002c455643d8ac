import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type TestPostgres } from "../../server/test/support/postgres.js";
import { startRedis, type TestRedis } from "../../server/test/support/redis.js";
import { api, waitFor } from "../support/maestro-process.js";
import { Fleet, operations, schedulerBody, waitInSync, waitReadyRooms } from "./fleet.js";
import { AllocationProbe, checkInvariants, type Expectations } from "./invariants.js";

/**
 * Fault matrix over operations (issue 16): a real `maestro start` (schedulers in PostgreSQL, operations and rooms in Redis,
 * rooms as processes) armed with one failpoint (MAESTRO_FAILPOINTS) is killed (`crash`: SIGKILL), shut down
 * (`term`: SIGTERM) or stalled (`stall`: the step sleeps past the operation lease) at that step of an operation, then
 * restarted on the same data directory, ports and databases (each row has its own). A probe allocates rooms all along. After each fault
 * the shared checker (invariants.ts) holds. Add a row to cover a step; failpointNames lists them all. Rows run a few at
 * a time: each one mostly waits (leases, ticks, start-ups).
 */
type Action = "crash" | "term" | "stall";
type Scenario =
  | "create"
  | "add_rooms"
  | "remove_rooms"
  | "patch_major"
  | "patch_minor"
  | "health_controller"
  | "delete"
  | "storage_clean_up";

const rows: { scenario: Scenario; point: string; action: Action }[] = [];
const row = (scenario: Scenario, actions: Action[], ...points: string[]) => {
  for (const point of points) for (const action of actions) rows.push({ scenario, point, action });
};
// create_scheduler
row("create", ["crash"], "operation/leased:create_scheduler", "operation/executed:create_scheduler");
row("create", ["crash", "term", "stall"], "create_scheduler/runtime-prepared");
// add_rooms (a room step fires on the second room)
row("add_rooms", ["crash"], "operation/leased:add_rooms", "add_rooms/replicas-adjusted", "room/stored@2");
row("add_rooms", ["crash"], "room/spawned@2", "operation/executed:add_rooms");
row("add_rooms", ["crash", "term", "stall"], "add_rooms/room-created@2");
// remove_rooms (one room is allocated before: a scale-down must leave it)
row("remove_rooms", ["crash"], "operation/leased:remove_rooms", "remove_rooms/replicas-adjusted");
row("remove_rooms", ["crash"], "operation/executed:remove_rooms");
row("remove_rooms", ["crash", "term", "stall"], "room/removal-claimed");
// PATCH with a major change: create_new_scheduler_version (validation room), switch_active_version, rolling update
row(
  "patch_major",
  ["crash"],
  "operation/leased:create_new_scheduler_version",
  "create_new_scheduler_version/validated",
);
row("patch_major", ["crash"], "create_new_scheduler_version/version-stored");
row("patch_major", ["crash"], "operation/executed:create_new_scheduler_version");
row("patch_major", ["crash", "term", "stall"], "validation/room-settled");
row("patch_major", ["crash"], "operation/leased:switch_active_version");
row("patch_major", ["crash", "stall"], "operation/leased:remove_rooms");
// PATCH with a minor change: create_new_scheduler_version (no validation room), switch_active_version
row("patch_minor", ["crash"], "create_new_scheduler_version/version-stored");
row("patch_minor", ["crash", "term", "stall"], "switch_active_version/switched");
row("patch_minor", ["crash"], "operation/executed:switch_active_version");
// health_controller (its first enqueue is the create's add_rooms)
row("health_controller", ["crash", "term", "stall"], "health_controller/enqueued");
row("health_controller", ["crash"], "operation/leased:health_controller");
// delete_scheduler
row("delete", ["crash"], "operation/leased:delete_scheduler", "delete_scheduler/terminating");
row("delete", ["crash"], "delete_scheduler/runtime-cleared", "operation/executed:delete_scheduler");
row("delete", ["crash", "term", "stall"], "delete_scheduler/operations-cleared");
// storage_clean_up (enqueued every second here)
row("storage_clean_up", ["crash", "term", "stall"], "storage_clean_up/cleaned");

const failpointSpec = (point: string, action: Action) => {
  const [name, at] = point.split("@");
  const act = action === "stall" ? "sleep(3500)" : action;
  return `${name}=${act}${at ? `@${at}` : ""}`;
};

let redis: TestRedis;
let pg: TestPostgres;
beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis({ databases: rows.length + 1 }), startPostgres()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), pg?.stop()]);
});

const S = "faults";
const patchEnv = (value: string) => ({ spec: { containers: [{ environment: [{ name: "FAULT_VARIANT", value }] }] } });

/** What each scenario sets up (with nothing armed firing), the request that starts the operation, and what must hold. */
async function setUp(scenario: Scenario, M: string, R: string): Promise<{ kept: string[] }> {
  if (scenario === "create" || scenario === "health_controller" || scenario === "storage_clean_up") return { kept: [] };
  const replicas = scenario === "add_rooms" ? 0 : scenario === "remove_rooms" ? 3 : 2;
  expect((await api(M, "POST", "/schedulers", schedulerBody(S, replicas))).status).toBe(200);
  await waitInSync(M, S);
  if (replicas > 0) await waitReadyRooms(M, S, replicas);
  if (scenario !== "remove_rooms") return { kept: [] };
  const res = await api(R, "POST", `/scheduler/${S}/rooms/allocate`, {});
  expect(res.json?.success, JSON.stringify(res.json)).toBe(true);
  return { kept: [res.json.roomId] };
}

/** Starts the scenario's operation; returns its id when the answer came before the fault. */
async function trigger(scenario: Scenario, M: string): Promise<string[]> {
  // The process may die under the request: the operation is what matters, read after the restart.
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await api(M, method, path, body).catch(() => undefined);
    return res?.json?.operationId ? [res.json.operationId as string] : [];
  };
  if (scenario === "create" || scenario === "health_controller")
    return call("POST", "/schedulers", schedulerBody(S, 2));
  if (scenario === "add_rooms") return call("POST", `/schedulers/${S}/add-rooms`, { amount: 3 });
  if (scenario === "remove_rooms") return call("POST", `/schedulers/${S}/remove-rooms`, { amount: 2 });
  if (scenario === "patch_major") return call("PATCH", `/schedulers/${S}`, patchEnv("b"));
  if (scenario === "patch_minor") return call("PATCH", `/schedulers/${S}`, { maxSurge: "60%" });
  if (scenario === "delete") return call("DELETE", `/schedulers/${S}`);
  // Its clean-up runs every second from the creation on: the failpoint fires on its own.
  return call("POST", "/schedulers", schedulerBody(S, 1));
}

/** Scenarios whose requested operation must end `finished` (the others may end `error` where the fault hit). */
const mustFinish: Scenario[] = ["add_rooms", "remove_rooms", "patch_major", "patch_minor", "delete"];

const triggered: Record<Scenario, string[]> = {
  create: ["create_scheduler"],
  add_rooms: ["add_rooms"],
  remove_rooms: ["remove_rooms"],
  patch_major: ["create_new_scheduler_version", "switch_active_version"],
  patch_minor: ["create_new_scheduler_version", "switch_active_version"],
  health_controller: ["create_scheduler", "add_rooms"],
  delete: ["delete_scheduler"],
  // One that removes nothing deletes its own record, so there is no id to follow: no operation may stay unfinished.
  storage_clean_up: [],
};

describe("fault matrix: every step of every operation type", () => {
  it.concurrent.each(rows.map((r, i) => ({ ...r, db: i + 1 })))(
    "$scenario: $action at $point",
    async ({ scenario, point, action, db }) => {
      const fleet = new Fleet({
        redisUrl: `${redis.url}/${db}`,
        postgresUrl: await pg.createDatabase(`case${db}`),
        settings: {
          ...(scenario === "storage_clean_up" ? { "workers.storageCleanupIntervalMs": 1000 } : {}),
          // The room allocated before a scale-down must stay allocated through it.
          ...(scenario === "remove_rooms" ? { "rooms.allocationTtlMs": 60_000 } : {}),
        },
      });
      const { M, R } = await fleet.urls();
      try {
        await fleet.start("maestro", [], failpointSpec(point, action));
        const { kept } = await setUp(scenario, M, R);
        // Not next to a long-held allocation: rooms it took would block the scale-down for the allocation's lifetime.
        const probe = scenario === "remove_rooms" ? undefined : new AllocationProbe(R, S);
        const started = await trigger(scenario, M);
        const fired = `failpoint ${point.split(/[:@]/)[0]}: ${action === "stall" ? "sleep" : action}`;
        await waitFor(async () => fleet.proc("maestro").output().includes(fired), fired, 120_000);
        let knownGoneAt = 0;
        if (action !== "stall") {
          await fleet.proc("maestro").exited;
          await fleet.start("maestro");
          // The restarted runtime has reaped its predecessor's rooms by the time it is ready.
          knownGoneAt = Date.now();
        }
        // Listed stage by stage, so an operation recovery moves meanwhile can be missed once: look until it shows.
        const first = triggered[scenario][0] as string | undefined;
        const relevant = async () =>
          (await operations(M, S)).filter((op) => triggered[scenario].includes(op.definitionName));
        const listed =
          scenario === "delete" || first === undefined
            ? await relevant()
            : await waitFor(async () => {
                const l = await relevant();
                return l.some((op) => op.definitionName === first) ? l : undefined;
              }, `the ${first} operation listed`);
        const ids = [...new Set([...started, ...listed.map((op) => op.id)])];
        const e: Expectations = {
          scheduler: S,
          operationIds: ids,
          // An accepted scaling, version change or deletion completes whatever step the fault hit: it is run again,
          // never given up.
          mustFinish: mustFinish.includes(scenario) ? started : [],
          // A deletion must finish; a creation completes (retried after a crash); nothing else removes the scheduler.
          deleted: scenario === "delete",
          probe,
          knownGoneAt,
          // Only a surviving worker keeps its rooms: a restarted process runtime reaps its predecessor's.
          keptRooms: action === "stall" ? kept : [],
        };
        if (scenario === "patch_minor") Object.assign(e, { version: "v1.1.0", versions: 2 });
        // The requested version ends active, stored once, wherever the fault hit.
        if (scenario === "patch_major") Object.assign(e, { version: "v2.0.0", versions: 2 });
        await checkInvariants(fleet, e);
      } finally {
        await fleet.stop();
      }
      expect(await fleet.roomPids(), "room processes left after the last shutdown").toEqual([]);
    },
    400_000,
  );
});
