import { afterEach, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/**
 * Maestro's autoscaling_test scenarios on the embedded default (PGlite, memory state, process runtime): real room
 * processes, whose pings the test sends as the rooms would (the rooms API runs in Maestro-compatible mode, without
 * room tokens), so each step decides exactly which rooms are occupied.
 */

interface Room {
  id: string;
  status: string;
}

const gone = new Set(["terminating", "terminated", "error"]);

/** Pings every live room of a scheduler with the status the test wants for it (ready unless told otherwise). */
class RoomDriver {
  private readonly wanted = new Map<string, "ready" | "occupied">();

  constructor(
    private readonly maestro: TestMaestro,
    private readonly scheduler: string,
  ) {}

  /** The live rooms after one round of pings. */
  async sync(): Promise<Room[]> {
    for (const room of await this.live()) {
      const status = this.wanted.get(room.id) ?? "ready";
      const path = `/scheduler/${this.scheduler}/rooms/${room.id}/ping`;
      // A room that goes away between the list and its ping answers 404/400: the next round skips it.
      await http(this.maestro.roomsUrl, "PUT", path, { status, runningMatches: status === "occupied" ? 1 : 0 });
    }
    return this.live();
  }

  async set(status: "ready" | "occupied", rooms?: Room[]): Promise<void> {
    for (const room of rooms ?? (await this.live())) this.wanted.set(room.id, status);
  }

  private async live(): Promise<Room[]> {
    const res = await http(this.maestro.managementUrl, "GET", `/schedulers/${this.scheduler}/rooms?pageSize=1000`);
    return ((res.json.rooms ?? []) as Room[]).filter((r) => !gone.has(r.status));
  }
}

function autoscaled(name: string, max: number, cooldown: number) {
  return schedulerBody(name, {
    autoscaling: {
      enabled: true,
      min: 1,
      max,
      cooldown,
      policy: { type: "roomOccupancy", parameters: { roomOccupancy: { readyTarget: 0.5, downThreshold: 0.99 } } },
    },
  });
}

/**
 * Records health-controller runs that finished without acting: the worker deletes those operations instead of
 * keeping them in the history, so they are seen through the storage calls.
 */
function recordHealthRuns(maestro: TestMaestro) {
  const storage = maestro.context.operationStorage;
  const created = new Map<string, number>();
  const idle: number[] = [];
  const create = storage.createOperation.bind(storage);
  const remove = storage.deleteOperation.bind(storage);
  storage.createOperation = (op, opts) => {
    if (op.definitionName === "health_controller") created.set(op.id, Date.now());
    return create(op, opts);
  };
  storage.deleteOperation = (schedulerName, id, opts) => {
    const at = created.get(id);
    if (at !== undefined) idle.push(at);
    created.delete(id);
    return remove(schedulerName, id, opts);
  };
  return {
    /** Idle runs so far. */
    count: () => idle.length,
    /** Whether an idle run was created at or after `time` (epoch ms). */
    idleSince: (time: number) => idle.some((at) => at >= time),
  };
}

const count = (rooms: Room[], status: string) => rooms.filter((r) => r.status === status).length;

/** Waits (pinging) until the live rooms are exactly `occupied` occupied and `ready` ready rooms. */
async function settle(driver: RoomDriver, occupied: number, ready: number, what: string): Promise<Room[]> {
  return eventually(
    async () => {
      const rooms = await driver.sync();
      return rooms.length === occupied + ready &&
        count(rooms, "occupied") === occupied &&
        count(rooms, "ready") === ready
        ? rooms
        : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, what },
  );
}

describe("autoscaling with roomOccupancy (readyTarget 0.5)", () => {
  let maestro: TestMaestro | undefined;
  afterEach(async () => {
    await maestro?.stop();
    maestro = undefined;
  });

  it("scales 1 → 2 → 4 up to max as rooms turn occupied, then down to min as they turn ready", async () => {
    maestro = await startTestMaestro({
      "roomsApi.roomTokens": false,
      "workers.healthControllerIntervalMs": 1000,
    });
    expect((await http(maestro.managementUrl, "POST", "/schedulers", autoscaled("scaled", 4, 2))).status).toBe(200);
    const driver = new RoomDriver(maestro, "scaled");
    const runs = recordHealthRuns(maestro);

    await settle(driver, 0, 1, "min: 1 ready room");
    await driver.set("occupied");
    await settle(driver, 1, 1, "1 occupied → 2 rooms");
    await driver.set("occupied");
    await settle(driver, 2, 2, "2 occupied → 4 rooms");
    await driver.set("occupied");
    const full = await settle(driver, 4, 0, "4 occupied rooms");

    // 4 running matches want 8 rooms; max holds it at 4 through further health-controller runs.
    const before = runs.count();
    await eventually(async () => (await driver.sync()) && runs.count() >= before + 2, {
      timeoutMs: 30_000,
      what: "two more health-controller runs",
    });
    expect((await driver.sync()).map((r) => r.id).sort()).toEqual(full.map((r) => r.id).sort());

    // One match left: 2 rooms wanted, and the occupied room is not the one removed.
    const [keep, ...rest] = full;
    await driver.set("ready", rest);
    const two = await settle(driver, 1, 1, "1 occupied → down to 2 rooms");
    expect(two.map((r) => r.id)).toContain(keep!.id);

    // No match left: down to min once the cooldown since the last downscale has passed.
    await driver.set("ready");
    await settle(driver, 0, 1, "0 occupied → down to min 1");
  }, 150_000);

  it("runs the health controller when a room's status changes, not only on its periodic tick", async () => {
    // A periodic tick an hour apart: only the status change of a ping can explain the scale-up below.
    maestro = await startTestMaestro({
      "roomsApi.roomTokens": false,
      "workers.healthControllerIntervalMs": 3_600_000,
    });
    const runs = recordHealthRuns(maestro);
    expect((await http(maestro.managementUrl, "POST", "/schedulers", autoscaled("woken", 4, 0))).status).toBe(200);
    const room = await eventually(
      async () => {
        const rooms = (await http(maestro!.managementUrl, "GET", "/schedulers/woken/rooms")).json.rooms ?? [];
        return rooms.length === 1 && rooms[0].instanceStatus === "ready" ? (rooms[0] as Room) : undefined;
      },
      { what: "the min room's instance to be ready" },
    );
    // Let every wake-up caused by the runtime's events pass: the first ping is answered at `pinged`, and once a run
    // created after it has finished idle, nothing is pending any more.
    const pinged = Date.now();
    const ping = (status: string) =>
      http(maestro!.roomsUrl, "PUT", `/scheduler/woken/rooms/${room.id}/ping`, { status, runningMatches: 0 });
    expect((await ping("ready")).status).toBe(200);
    await eventually(() => runs.idleSince(pinged), { what: "a health-controller run after the ready ping" });

    expect((await ping("occupied")).status).toBe(200);
    const driver = new RoomDriver(maestro, "woken");
    await driver.set("occupied", [room]);
    await settle(driver, 1, 1, "the occupied ping to wake the health controller: 2 rooms");
  }, 60_000);
});
