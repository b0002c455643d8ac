import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { expect } from "vitest";
import { api, waitFor } from "../support/maestro-process.js";
import { type Fleet, listRooms, operations } from "./fleet.js";

const finalStatuses = ["finished", "error", "canceled", "evicted"];

/** Whether something accepts TCP connections on 127.0.0.1:port (a live game room does). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: "127.0.0.1" }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

export interface Allocation {
  roomId: string;
  port: number;
  at: number;
  alive: boolean;
}

/**
 * Allocates from the scheduler over the rooms API every `everyMs` while a fault happens, and checks each room handed
 * out: a room whose port does not answer was dead when allocated. Allocations end after rooms.allocationTtlMs (set
 * short), so the same few rooms keep coming back and a dead one shows up quickly.
 */
export class AllocationProbe {
  readonly allocations: Allocation[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(R: string, S: string, everyMs = 150) {
    this.loop = (async () => {
      while (this.running) {
        try {
          const res = await fetch(`${R}/scheduler/${S}/rooms/allocate`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
            signal: AbortSignal.timeout(3000),
          });
          const j = (await res.json().catch(() => ({}))) as {
            success?: boolean;
            roomId?: string;
            ports?: { port: number }[];
          };
          if (res.ok && j.success && j.roomId && j.ports?.[0]) {
            const at = Date.now();
            const alive = await answers(j.ports[0].port);
            this.allocations.push({ roomId: j.roomId, port: j.ports[0].port, at, alive });
          }
        } catch {
          // the rooms API is down during the fault: nothing allocated, nothing to check
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Dead rooms handed out at or after `since` (epoch ms). */
  deadSince(since: number): Allocation[] {
    return this.allocations.filter((a) => !a.alive && a.at >= since);
  }
}

export interface Expectations {
  scheduler: string;
  /** Operations that must end in a final state, each exactly once. */
  operationIds: string[];
  /** Of those, the ones that must end `finished` (not merely in a final state). */
  mustFinish?: string[];
  /** The scheduler is gone (delete_scheduler ran) instead of intact. */
  deleted?: boolean;
  /** The active version and how many versions the scheduler must have. */
  version?: string;
  versions?: number;
  /** Allocated rooms that must still be listed afterwards (their owner process survived the fault). */
  keptRooms?: string[];
  probe?: AllocationProbe;
  /** When the runtime could know every room the fault killed is gone: no dead room handed out 2 s after it. */
  knownGoneAt?: number;
  /** Reads what to expect of the versions once the operations are final (when it depends on where the fault hit). */
  settled?: () => Promise<{ version: string; versions?: number }>;
  /** Bound for each operation to reach a final state and the room count to converge. */
  boundMs?: number;
}

/**
 * The invariants every fault must leave intact (issue 16): every operation final within the bound and exactly once
 * (one "Operation finished"), the scheduler and its versions intact (or wholly gone after a deletion), the room count
 * converged to roomsReplicas with exactly one live process per listed room and none untracked, no dead room ever
 * allocated once the runtime knew, and no allocated room lost to a scale-down or a recovery.
 */
export async function checkInvariants(fleet: Fleet, e: Expectations): Promise<void> {
  const { M } = await fleet.urls();
  const S = e.scheduler;
  const bound = e.boundMs ?? 60_000;
  const seen: unknown[] = [];
  // Allocation goes on a moment after the fault, then stops: a room allocated all the time is never idle, and a
  // rolling update replaces only idle rooms.
  if (e.probe) {
    await new Promise((r) => setTimeout(r, 3000));
    await e.probe.stop();
    const dead = e.probe.deadSince((e.knownGoneAt ?? 0) + 2000);
    expect(dead, "dead rooms handed out by allocate after the runtime knew they were gone").toEqual([]);
  }
  for (const id of e.operationIds) {
    const op = await waitFor(
      async () => {
        const res = await api(M, "GET", `/schedulers/${S}/operations/${id}`);
        return finalStatuses.includes(res.json?.operation?.status) ? res.json.operation : undefined;
      },
      `operation ${id} in a final state`,
      bound,
    );
    const history = op.executionHistory as { event: string }[];
    seen.push({ id, name: op.definitionName, status: op.status, history: history.map((h) => h.event) });
    if (e.mustFinish?.includes(id)) {
      expect(op.status, `${id} (${op.definitionName}) ended ${op.status}: ${JSON.stringify(history)}`).toBe("finished");
    }
    const finals = history.filter((h) => h.event === "Operation finished");
    expect(finals.length, `${id} finished more than once: ${JSON.stringify(history)}`).toBeLessThanOrEqual(1);
  }

  // No operation stays stuck behind the fault either (and what a finished one queued, e.g. a switch, has run).
  // Ticks keep queuing new ones (health checks, clean-ups): each one unfinished now must end, or go (no action).
  const unfinished = new Set(
    (await operations(M, S)).filter((op) => !finalStatuses.includes(op.status)).map((op) => op.id),
  );
  let stuck = "";
  await waitFor(
    async () => {
      const left = (await operations(M, S)).filter((op) => unfinished.has(op.id) && !finalStatuses.includes(op.status));
      stuck = JSON.stringify(left);
      return left.length === 0;
    },
    "no operation left pending or active",
    bound,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${stuck}`);
  });
  if (e.settled) Object.assign(e, await e.settled());
  if (e.deleted) {
    expect((await api(M, "GET", `/schedulers/${S}`)).status).toBe(404);
    await waitFor(
      async () => (await fleet.roomPids(S)).length === 0,
      "no room process of the deleted scheduler",
      bound,
    );
  } else {
    const scheduler = (await api(M, "GET", `/schedulers/${S}`)).json.scheduler;
    expect(scheduler, `the scheduler is intact; operations: ${JSON.stringify(seen)}`).toMatchObject({
      name: S,
      state: "in-sync",
    });
    if (e.version) expect(scheduler.spec.version).toBe(e.version);
    const versions = (await api(M, "GET", `/schedulers/${S}/versions`)).json.versions;
    if (e.versions !== undefined) expect(versions, JSON.stringify(versions)).toHaveLength(e.versions);
    let state = "";
    await waitFor(
      async () => {
        const rooms = (await listRooms(M, S)).filter((r) => r.status !== "terminating");
        const listed = new Set(rooms.map((r) => r.id));
        const live = await fleet.roomPids(S);
        const liveIds = live.map((pid) => roomIdOf(pid));
        const untracked = liveIds.filter((id) => !listed.has(id));
        state = JSON.stringify({ rooms, live: liveIds, untracked });
        return (
          rooms.length === scheduler.roomsReplicas &&
          live.length === rooms.length &&
          untracked.length === 0 &&
          // A minor version keeps the rooms it finds; a major one replaces them all.
          rooms.every((r) => major(r.version) === major(scheduler.spec.version))
        );
      },
      `rooms == roomsReplicas (${scheduler.roomsReplicas}) of ${major(scheduler.spec.version)}, one live process per listed room`,
      bound,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${state}`);
    });
    if (e.keptRooms?.length) {
      const ids = new Set((await listRooms(M, S)).map((r) => r.id));
      expect(
        e.keptRooms.filter((id) => !ids.has(id)),
        "allocated rooms removed by a scale-down or a recovery",
      ).toEqual([]);
    }
  }
}

const major = (version: string) => version.split(".")[0];

/**
 * The version a PATCH with a major change leaves active: v2 once a switch_active_version finished, else v1 (a fault
 * after storing v2 can end create_new_scheduler_version in error with its switch already queued, or leave v2 unused).
 */
export async function versionOutcome(M: string, S: string): Promise<{ version: string }> {
  const switched = (await operations(M, S)).some(
    (op) => op.definitionName === "switch_active_version" && op.status === "finished",
  );
  return { version: switched ? "v2.0.0" : "v1.0.0" };
}

function roomIdOf(pid: number): string {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    return (env.find((v) => v.startsWith("MAESTRO_ROOM_ID=")) ?? "").slice("MAESTRO_ROOM_ID=".length);
  } catch {
    return "";
  }
}
