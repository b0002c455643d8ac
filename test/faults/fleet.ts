import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, cliPath, freeStablePort, gameRoomPath, waitFor } from "../support/maestro-process.js";
import { pidsWithEnv } from "../support/processes.js";

/** Settings that make recovery fast enough for a matrix: short leases, ticks and drains, a shared room-token secret. */
export const fastSettings: Record<string, string | number> = {
  "workers.operationLeaseTtlMs": 2000,
  "workers.healthControllerIntervalMs": 1000,
  "workers.syncIntervalMs": 500,
  "workers.ownershipTtlMs": 3000,
  "shutdown.drainTimeoutMs": 2000,
  "rooms.allocationTtlMs": 1500,
  "roomsApi.tokenSecret": "fault-matrix-secret",
  "log.level": "warn",
};

export interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  output(): string;
  alive(): boolean;
}

export interface FleetOptions {
  /** `redis://host:port/db`: operations and room state. */
  redisUrl: string;
  /** Schedulers in this PostgreSQL; PGlite in the first process's data directory when omitted (one process only). */
  postgresUrl?: string | undefined;
  settings?: Record<string, string | number>;
}

/**
 * The Maestro processes of one fault case: management and rooms ports kept for the fleet's life (so a restart is the
 * same deployment to clients and rooms; below the ephemeral range, see freeStablePort), one data directory per process name (kept across its restarts: the process runtime reaps what
 * a crashed predecessor left there), every module in one process unless told otherwise.
 */
export class Fleet {
  readonly management: Promise<number>;
  readonly rooms: Promise<number>;
  readonly procs = new Map<string, Proc>();
  private readonly dirs = new Map<string, string>();

  constructor(private readonly opts: FleetOptions) {
    this.management = freeStablePort();
    this.rooms = freeStablePort();
  }

  async urls(): Promise<{ M: string; R: string }> {
    return { M: `http://127.0.0.1:${await this.management}`, R: `http://127.0.0.1:${await this.rooms}` };
  }

  /** Starts (or restarts) process `name` running `modules` (all when empty) and waits for its /readyz. */
  async start(name: string, modules: string[] = [], failpoints = ""): Promise<Proc> {
    let dataDir = this.dirs.get(name);
    if (dataDir === undefined) {
      dataDir = await mkdtemp(join(tmpdir(), "maestro-faults-"));
      this.dirs.set(name, dataDir);
    }
    const { R } = await this.urls();
    const internal = await freeStablePort();
    const settings: Record<string, string | number> = {
      ...fastSettings,
      "storage.operations.kind": "redis",
      "storage.operations.url": this.opts.redisUrl,
      "storage.state.kind": "redis",
      "roomsApi.publicUrl": R,
      ...(this.opts.postgresUrl
        ? { "storage.schedulers.kind": "postgres", "storage.schedulers.url": this.opts.postgresUrl }
        : {}),
      ...this.opts.settings,
    };
    const args = [
      cliPath,
      "start",
      ...modules,
      "--data-dir",
      dataDir,
      "--management-port",
      String(await this.management),
      "--rooms-port",
      String(await this.rooms),
      "--internal-port",
      String(internal),
      ...Object.entries(settings).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
    ];
    let output = "";
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, MAESTRO_FAILPOINTS: failpoints },
    });
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const alive = () => child.exitCode === null && child.signalCode === null;
    const proc: Proc = { name, child, exited, output: () => output, alive };
    this.procs.set(name, proc);
    try {
      // Generous: a fresh embedded database on a loaded two-core machine can take a while.
      await waitFor(
        async () => {
          if (!alive()) throw new Error(`maestro ${name} exited:\n${output}`);
          return fetch(`http://127.0.0.1:${internal}/readyz`).then(
            (r) => r.ok,
            () => false,
          );
        },
        `maestro ${name} ready`,
        150_000,
      );
    } catch (err) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`${(err as Error).message}\n${output}`);
    }
    return proc;
  }

  proc(name: string): Proc {
    const p = this.procs.get(name);
    if (!p) throw new Error(`no process ${name}`);
    return p;
  }

  async kill(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const p = this.proc(name);
    if (p.alive()) p.child.kill(signal);
    await p.exited;
  }

  /** Pids of room processes of this fleet's scheduler `scheduler` (or of any scheduler) alive now. */
  async roomPids(scheduler?: string): Promise<number[]> {
    const { R } = await this.urls();
    return pidsWithEnv({ MAESTRO_ROOMS_API_URL: R, ...(scheduler ? { MAESTRO_SCHEDULER_NAME: scheduler } : {}) });
  }

  /** Stops every process (SIGTERM), kills room processes a crash left, removes the data directories. */
  async stop(): Promise<void> {
    for (const p of this.procs.values()) {
      if (p.alive()) p.child.kill("SIGTERM");
      await p.exited;
    }
    for (const pid of await this.roomPids()) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await Promise.all([...this.dirs.values()].map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** A scheduler whose rooms are the example game room: it pings ready and listens on its port, so it can be allocated. */
export function schedulerBody(name: string, roomsReplicas: number): Record<string, unknown> {
  return {
    name,
    game: "faults",
    maxSurge: "50%",
    roomsReplicas,
    portRange: { start: 42000, end: 47999 },
    spec: {
      terminationGracePeriod: "1s",
      containers: [
        {
          name: "room",
          image: "local",
          command: [process.execPath, gameRoomPath],
          environment: [{ name: "FAULT_VARIANT", value: "a" }],
          requests: { memory: "64Mi", cpu: "100m" },
          limits: { memory: "128Mi", cpu: "200m" },
          ports: [{ name: "game", protocol: "tcp", port: 7000 }],
        },
      ],
    },
  };
}

export async function waitInSync(M: string, S: string): Promise<void> {
  await waitFor(async () => (await api(M, "GET", `/schedulers/${S}`)).json?.scheduler?.state === "in-sync", "in-sync");
}

export interface RoomView {
  id: string;
  status: string;
  version: string;
}

export async function listRooms(M: string, S: string): Promise<RoomView[]> {
  const res = await api(M, "GET", `/schedulers/${S}/rooms`);
  if (res.status !== 200) throw new Error(`list rooms: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.rooms ?? [];
}

export async function waitReadyRooms(M: string, S: string, n: number): Promise<RoomView[]> {
  return waitFor(async () => {
    const ready = (await listRooms(M, S)).filter((r) => r.status === "ready");
    return ready.length >= n ? ready : undefined;
  }, `${n} ready rooms`);
}

/** Every operation of the scheduler in every stage (final: the last 100), as the management API lists them. */
export async function operations(
  M: string,
  S: string,
): Promise<{ id: string; definitionName: string; status: string }[]> {
  const all = [];
  for (const stage of ["pending", "active", "final"]) {
    const q = stage === "final" ? "&perPage=100" : "";
    const res = await api(M, "GET", `/schedulers/${S}/operations?stage=${stage}${q}`);
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`list operations: ${res.status} ${JSON.stringify(res.json)}`);
    all.push(...(res.json.operations ?? []));
  }
  return all;
}
