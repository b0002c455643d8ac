import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, cliPath, freePort, waitFor } from "../support/maestro-process.js";
import { pidsWithEnv } from "../support/processes.js";

/**
 * Fault matrix (issue 16): a real `maestro start` (schedulers in PGlite, operations and rooms in Redis, rooms as
 * processes) is crashed or stopped at a failpoint inside an operation (MAESTRO_FAILPOINTS), then restarted on the same
 * data directory, ports and Redis. After each fault: the operation reaches a final state exactly once, the scheduler
 * and its versions are intact, the room count converges to roomsReplicas, and every room process alive is one the
 * API lists (none left untracked). Add a row to `faults` to cover a new step; failpointNames lists them all.
 */
const faults: { operation: "add_rooms" | "remove_rooms"; point: string; action: "crash" | "term" }[] = [
  { operation: "add_rooms", point: "operation/leased:add_rooms", action: "crash" },
  { operation: "add_rooms", point: "add_rooms/replicas-adjusted", action: "crash" },
  { operation: "add_rooms", point: "room/stored", action: "crash" },
  { operation: "add_rooms", point: "room/spawned", action: "crash" },
  { operation: "add_rooms", point: "add_rooms/room-created", action: "crash" },
  { operation: "add_rooms", point: "operation/executed:add_rooms", action: "crash" },
  { operation: "add_rooms", point: "add_rooms/room-created", action: "term" },
  { operation: "remove_rooms", point: "operation/leased:remove_rooms", action: "crash" },
  { operation: "remove_rooms", point: "remove_rooms/replicas-adjusted", action: "crash" },
  { operation: "remove_rooms", point: "room/removal-claimed", action: "crash" },
  { operation: "remove_rooms", point: "operation/executed:remove_rooms", action: "crash" },
];
const finalStatuses = ["finished", "error", "canceled"];

let redis: ChildProcess;
let redisUrl: string;

beforeAll(async () => {
  const bin = (process.env.PATH ?? "")
    .split(delimiter)
    .map((d) => join(d, "redis-server"))
    .find((f) => existsSync(f));
  if (!bin) throw new Error("redis-server not found on PATH: run scripts/services");
  const port = await freePort();
  redis = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  redisUrl = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () =>
      new Promise<boolean>((resolve) => {
        const s = createConnection({ port, host: "127.0.0.1" }, () => {
          s.end();
          resolve(true);
        });
        s.on("error", () => resolve(false));
      }),
    "redis",
  );
});
afterAll(() => {
  redis?.kill("SIGKILL");
});

interface Server {
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

async function startServer(
  dataDir: string,
  ports: { management: number; rooms: number; internal: number },
  db: number,
  failpoints = "",
): Promise<Server> {
  let output = "";
  const child = spawn(
    process.execPath,
    [
      cliPath,
      "start",
      "--data-dir",
      dataDir,
      "--management-port",
      String(ports.management),
      "--rooms-port",
      String(ports.rooms),
      "--internal-port",
      String(ports.internal),
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        MAESTRO_FAILPOINTS: failpoints,
        MAESTRO_STORAGE_OPERATIONS_KIND: "redis",
        MAESTRO_STORAGE_OPERATIONS_URL: `${redisUrl}/${db}`,
        MAESTRO_STORAGE_STATE_KIND: "redis",
        MAESTRO_WORKERS_OPERATIONLEASETTLMS: "2000",
        MAESTRO_WORKERS_HEALTHCONTROLLERINTERVALMS: "1000",
        MAESTRO_SHUTDOWN_DRAINTIMEOUTMS: "2000",
        MAESTRO_LOG_LEVEL: "warn",
      },
    },
  );
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const base = `http://127.0.0.1:${ports.management}`;
  try {
    // Generous: a fresh embedded database on a loaded two-core machine can take a while.
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`maestro exited:\n${output}`);
        return fetch(`${base}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      "maestro ready",
      150_000,
    );
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return { child, exited, output: () => output };
}

async function stopServer(server: Server, roomsApiUrl: string): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  // A test that failed before a restart could reap them leaves the crashed server's rooms: they are ours to stop.
  for (const pid of pidsWithEnv({ MAESTRO_ROOMS_API_URL: roomsApiUrl })) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

const S = "faults";
const schedulerBody = {
  name: S,
  game: "faults",
  maxSurge: "10%",
  roomsReplicas: 0,
  portRange: { start: 41000, end: 41999 },
  spec: {
    terminationGracePeriod: "1s",
    containers: [
      {
        name: "room",
        image: "local",
        imagePullPolicy: "IfNotPresent",
        command: ["node", "-e", "setInterval(() => {}, 1000)"],
        requests: { memory: "64Mi", cpu: "100m" },
        limits: { memory: "128Mi", cpu: "200m" },
        ports: [{ name: "game", protocol: "tcp", port: 7000 }],
      },
    ],
  },
};

/** The invariants every fault must leave intact, once the (restarted) server has had time to recover. */
async function checkInvariants(M: string, roomsApiUrl: string, operationId: string): Promise<void> {
  const op = await waitFor(async () => {
    const res = await api(M, "GET", `/schedulers/${S}/operations/${operationId}`);
    return finalStatuses.includes(res.json?.operation?.status) ? res.json.operation : undefined;
  }, "the operation in a final state");
  const finals = (op.executionHistory as { event: string }[]).filter((e) => e.event === "Operation finished");
  expect(finals.length, JSON.stringify(op.executionHistory)).toBeLessThanOrEqual(1);

  const scheduler = (await api(M, "GET", `/schedulers/${S}`)).json.scheduler;
  expect(scheduler).toMatchObject({ name: S, spec: { version: "v1.0.0" } });
  expect((await api(M, "GET", `/schedulers/${S}/versions`)).json.versions).toHaveLength(1);

  await waitFor(
    async () => {
      const rooms = ((await api(M, "GET", `/schedulers/${S}/rooms`)).json.rooms ?? []).filter(
        (r: { status: string }) => r.status !== "terminating",
      );
      const live = pidsWithEnv({ MAESTRO_SCHEDULER_NAME: S, MAESTRO_ROOMS_API_URL: roomsApiUrl });
      return rooms.length === scheduler.roomsReplicas && live.length === rooms.length;
    },
    `rooms == roomsReplicas (${scheduler.roomsReplicas}) and one live process per listed room`,
    60_000,
  );
}

describe("fault matrix: operations", () => {
  it.each(faults.map((f, i) => ({ ...f, db: i + 1 })))(
    "$operation: $action at $point: final once, scheduler intact, rooms converge, no room untracked",
    async ({ operation, point, action, db }) => {
      const dataDir = await mkdtemp(join(tmpdir(), "maestro-faults-"));
      const ports = { management: await freePort(), rooms: await freePort(), internal: await freePort() };
      const M = `http://127.0.0.1:${ports.management}`;
      const roomsApiUrl = `http://127.0.0.1:${ports.rooms}`;
      // The fault fires on the first hit of its step inside add_rooms; a room step fires on the second room.
      const at =
        operation === "add_rooms" && (point.startsWith("room/") || point === "add_rooms/room-created") ? "@2" : "";
      let server = await startServer(dataDir, ports, db, `${point}=${action}${at}`);
      try {
        expect((await api(M, "POST", "/schedulers", schedulerBody)).status).toBe(200);
        await waitFor(
          async () => (await api(M, "GET", `/schedulers/${S}`)).json.scheduler?.state === "in-sync",
          "in-sync",
        );
        const added = await api(M, "POST", `/schedulers/${S}/add-rooms`, { amount: 3 });
        expect(added.status).toBe(200);
        let operationId: string = added.json.operationId;
        if (operation === "remove_rooms") {
          // The rooms to remove come first, with no failpoint of theirs armed.
          await waitFor(async () => {
            const op = (await api(M, "GET", `/schedulers/${S}/operations/${operationId}`)).json.operation;
            return op?.status === "finished";
          }, "add_rooms finished");
          const removed = await api(M, "POST", `/schedulers/${S}/remove-rooms`, { amount: 2 });
          expect(removed.status).toBe(200);
          operationId = removed.json.operationId;
        }
        await server.exited;
        expect(server.output()).toContain(`failpoint ${point.split(":")[0]}: ${action}`);

        server = await startServer(dataDir, ports, db);
        await checkInvariants(M, roomsApiUrl, operationId);
        await stopServer(server, roomsApiUrl);
        // Whatever the fault left, the last server's shutdown stopped every room.
        expect(pidsWithEnv({ MAESTRO_ROOMS_API_URL: roomsApiUrl })).toEqual([]);
      } finally {
        await stopServer(server, roomsApiUrl);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    400_000,
  );
});

describe("fault matrix: Redis frozen mid-operation", () => {
  it("add_rooms stalled while Redis is frozen past the lease: final once, rooms converge, none untracked", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "maestro-faults-"));
    const ports = { management: await freePort(), rooms: await freePort(), internal: await freePort() };
    const M = `http://127.0.0.1:${ports.management}`;
    const server = await startServer(dataDir, ports, faults.length + 1, "add_rooms/room-created=sleep(2000)");
    try {
      expect((await api(M, "POST", "/schedulers", schedulerBody)).status).toBe(200);
      await waitFor(
        async () => (await api(M, "GET", `/schedulers/${S}`)).json.scheduler?.state === "in-sync",
        "in-sync",
      );
      const operationId: string = (await api(M, "POST", `/schedulers/${S}/add-rooms`, { amount: 3 })).json.operationId;
      await waitFor(async () => server.output().includes("failpoint add_rooms/room-created: sleep"), "the stall");
      redis.kill("SIGSTOP");
      // Longer than the operation lease (2 s): the worker loses it and another attempt must not double the work.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      redis.kill("SIGCONT");
      await checkInvariants(M, `http://127.0.0.1:${ports.rooms}`, operationId);
    } finally {
      redis.kill("SIGCONT");
      await stopServer(server, `http://127.0.0.1:${ports.rooms}`);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 400_000);
});
