import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Scheduler } from "../../src/core/entities/scheduler.js";
import { isMaestroError } from "../../src/core/errors.js";
import { CoreHarness, gameRoom, instanceOf, isAlive, waitFor } from "../support/core-harness.js";
import { validContainer, validScheduler } from "../support/fixtures.js";
import { freePort } from "../support/free-port.js";

/** A room that listens on its allocated port and writes what it was given to `<MARKER_DIR>/<room id>.json`. */
const ROOM_SCRIPT = `
const fs = require("fs"), net = require("net");
const port = Number(process.env.MAESTRO_PORT_GAME);
net.createServer((s) => s.end("hi")).listen(port, "127.0.0.1", () => {
  const seen = { pid: process.pid, port, room: process.env.MAESTRO_ROOM_ID, scheduler: process.env.MAESTRO_SCHEDULER_NAME,
    token: process.env.MAESTRO_ROOM_TOKEN, api: process.env.MAESTRO_ROOMS_API_URL };
  fs.writeFileSync(process.env.MARKER_DIR + "/" + process.env.MAESTRO_ROOM_ID + ".json", JSON.stringify(seen));
});
process.on("SIGTERM", () => process.exit(0));
`;

interface Seen {
  pid: number;
  port: number;
  room: string;
  scheduler: string;
  token: string;
  api: string;
}

function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
    });
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("RoomManager on the process runtime", () => {
  let h: CoreHarness;
  let scheduler: Scheduler;

  beforeEach(async () => {
    h = await CoreHarness.create();
    scheduler = validScheduler({
      name: "rooms",
      state: "in-sync",
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [
          validContainer({
            command: ["node", "-e", ROOM_SCRIPT],
            environment: [{ name: "MARKER_DIR", value: h.dataDir }],
          }),
        ],
      },
    });
  });

  afterEach(async () => {
    await h.close();
  });

  const seen = (roomId: string) =>
    waitFor(async () => {
      try {
        return JSON.parse(await readFile(join(h.dataDir, `${roomId}.json`), "utf8")) as Seen;
      } catch {
        return undefined;
      }
    }, `room ${roomId} to start`);

  /** What the runtime watcher would do: feed the runtime's current view of the room to the room manager. */
  async function syncInstance(roomId: string, type = "ready"): Promise<void> {
    const instance = await waitFor(
      async () =>
        (await h.runtime.listInstances(scheduler.name)).find((i) => i.id === roomId && i.status.type === type),
      `instance ${roomId} to be ${type}`,
    );
    await h.roomManager.updateInstance(scheduler, instance);
  }

  async function readyRoom(): Promise<string> {
    const { room } = await h.roomManager.createRoom(scheduler);
    await syncInstance(room.id);
    await h.roomManager.updateRoomWithPing(scheduler, room.id, { status: "ready" });
    expect((await h.rooms.getRoom(scheduler.name, room.id))?.status).toBe("ready");
    return room.id;
  }

  it("creates a pending room and its instance and starts a real process on the allocated port", async () => {
    const { room, instance } = await h.roomManager.createRoom(scheduler);
    expect(room.id).toMatch(/^rooms-[a-z0-9]{5}$/);
    const stored = await h.rooms.getRoom(scheduler.name, room.id);
    expect(stored).toMatchObject({
      schedulerName: "rooms",
      version: "v1.0.0",
      status: "pending",
      pingStatus: "unknown",
      runningMatches: 0,
      isValidationRoom: false,
      createdAt: h.clock.now(),
      lastPingAt: h.clock.now(),
    });
    const storedInstance = await h.instances.getInstance(scheduler.name, room.id);
    expect(storedInstance?.id).toBe(room.id);
    const port = instance.address?.ports[0]?.port ?? 0;
    expect(instance.address?.ports).toEqual([{ name: "game", port, protocol: "tcp" }]);
    expect(port).toBeGreaterThanOrEqual(20000);
    expect(port).toBeLessThanOrEqual(20999);

    const env = await seen(room.id);
    expect(env).toMatchObject({ port, room: room.id, scheduler: "rooms", api: h.roomsApiUrl });
    expect(h.tokens.verify("rooms", room.id, env.token)).toBe(true);
    expect(isAlive(env.pid)).toBe(true);
    expect(await greeting(port)).toBe("hi");
    expect((await h.runtime.portsInUse()).has(port)).toBe(true);
  });

  it("gives concurrent rooms distinct host ports and marks validation rooms", async () => {
    const created = await Promise.all([
      h.roomManager.createRoom(scheduler),
      h.roomManager.createRoom(scheduler),
      h.roomManager.createRoom(scheduler, { isValidationRoom: true }),
    ]);
    const ports = created.map((c) => c.instance.address?.ports[0]?.port);
    expect(new Set(ports).size).toBe(3);
    expect((await h.rooms.getRoom(scheduler.name, created[2].room.id))?.isValidationRoom).toBe(true);
    expect((await h.rooms.listRooms(scheduler.name)).length).toBe(3);
  });

  it("leaves no record and releases the ports when the runtime refuses the room", async () => {
    const port = await freePort();
    const onePort = { portRange: { start: port, end: port } };
    const broken = {
      ...scheduler,
      ...onePort,
      spec: { ...scheduler.spec, containers: [validContainer({ command: [] })] },
    };
    const err = await h.roomManager.createRoom(broken).catch((e: unknown) => e);
    expect(isMaestroError(err, "invalid_argument")).toBe(true);
    expect(await h.rooms.listRooms(scheduler.name)).toEqual([]);
    expect(await h.instances.listInstances(scheduler.name)).toEqual([]);
    expect(await h.runtime.listInstances(scheduler.name)).toEqual([]);

    // The only port of the range must be free again for the next room.
    const { instance } = await h.roomManager.createRoom({ ...scheduler, ...onePort });
    expect(instance.address?.ports[0]?.port).toBe(port);
  });

  it("refuses a ping for an unknown room without writing anything", async () => {
    const err = await h.roomManager
      .updateRoomWithPing(scheduler, "rooms-ghost", { status: "ready" })
      .catch((e: unknown) => e);
    expect(isMaestroError(err, "not_found")).toBe(true);
    expect(await h.rooms.getRoom(scheduler.name, "rooms-ghost")).toBeUndefined();
    expect(await h.rooms.listRoomIds(scheduler.name)).toEqual([]);
    expect(await h.instances.listInstances(scheduler.name)).toEqual([]);
  });

  it("keeps a pinging room pending until its instance is ready, then makes it ready", async () => {
    const { room } = await h.roomManager.createRoom(scheduler);
    // The room reports ready before the runtime has said its instance is up.
    const stored = (await h.instances.getInstance(scheduler.name, room.id))!;
    await h.instances.upsertInstance({ ...stored, status: { type: "pending", description: "starting" } });
    h.clock.advance(1_000);
    const pinged = await h.roomManager.updateRoomWithPing(scheduler, room.id, {
      status: "ready",
      metadata: { map: "de_dust" },
    });
    expect(pinged).toMatchObject({ status: "pending", pingStatus: "ready", metadata: { map: "de_dust" } });
    expect((await h.rooms.getRoom(scheduler.name, room.id))?.lastPingAt).toEqual(h.clock.now());

    await syncInstance(room.id);
    expect(await h.rooms.getRoom(scheduler.name, room.id)).toMatchObject({ status: "ready", pingStatus: "ready" });
  });

  it("makes a room with a ready instance and no ping unready, and ready on its first ping", async () => {
    const { room } = await h.roomManager.createRoom(scheduler);
    await syncInstance(room.id);
    expect((await h.rooms.getRoom(scheduler.name, room.id))?.status).toBe("unready");
    const pinged = await h.roomManager.updateRoomWithPing(scheduler, room.id, { status: "ready" });
    expect(pinged.status).toBe("ready");
  });

  it("counts an occupied ping without running matches as one match and tracks when it became occupied", async () => {
    const id = await readyRoom();
    h.clock.advance(1_000);
    const occupiedAt = h.clock.now();
    const occupied = await h.roomManager.updateRoomWithPing(scheduler, id, { status: "occupied", runningMatches: 0 });
    expect(occupied).toMatchObject({ status: "occupied", runningMatches: 1, occupiedAt });
    h.clock.advance(1_000);
    const again = await h.roomManager.updateRoomWithPing(scheduler, id, { status: "occupied" });
    expect(again.occupiedAt).toEqual(occupiedAt);
    const ready = await h.roomManager.updateRoomWithPing(scheduler, id, { status: "ready" });
    expect(ready).toMatchObject({ status: "ready", runningMatches: 0, occupiedAt: undefined });
  });

  it("derives multi-match statuses from running matches", async () => {
    scheduler = { ...scheduler, matchAllocation: { maxMatches: 3 } };
    const id = await readyRoom();
    const ping = (status: "ready" | "occupied", runningMatches?: number) =>
      h.roomManager.updateRoomWithPing(scheduler, id, { status, runningMatches });
    expect((await ping("occupied", 0)).status).toBe("active");
    expect((await ping("occupied", 2)).status).toBe("active");
    expect((await ping("occupied", 3)).status).toBe("occupied");
    expect((await ping("ready", 0)).status).toBe("ready");
  });

  it("lets a multi-match room that reported matches before its instance was ready become active", async () => {
    scheduler = { ...scheduler, matchAllocation: { maxMatches: 3 } };
    const { room } = await h.roomManager.createRoom(scheduler);
    const stored = (await h.instances.getInstance(scheduler.name, room.id))!;
    await h.instances.upsertInstance({ ...stored, status: { type: "pending", description: "starting" } });
    const early = await h.roomManager.updateRoomWithPing(scheduler, room.id, { status: "occupied", runningMatches: 2 });
    expect(early.status).toBe("pending");
    await syncInstance(room.id);
    expect(await h.rooms.getRoom(scheduler.name, room.id)).toMatchObject({ status: "active", runningMatches: 2 });
  });

  it("refuses a transition the status table forbids and leaves the room as it was", async () => {
    const id = await readyRoom();
    const direct = await h.roomManager.updateRoomWithPing(scheduler, id, { status: "terminated" }).catch((e) => e);
    expect(isMaestroError(direct, "failed_precondition")).toBe(true);
    expect((await h.rooms.getRoom(scheduler.name, id))?.status).toBe("ready");

    await h.roomManager.updateRoomWithPing(scheduler, id, { status: "terminating" });
    expect((await h.roomManager.updateRoomWithPing(scheduler, id, { status: "terminated" })).status).toBe("terminated");
    const before = await h.rooms.getRoom(scheduler.name, id);
    h.clock.advance(5_000);
    const err = await h.roomManager.updateRoomWithPing(scheduler, id, { status: "ready" }).catch((e: unknown) => e);
    expect(isMaestroError(err, "failed_precondition")).toBe(true);
    expect(await h.rooms.getRoom(scheduler.name, id)).toEqual(before);
  });

  it("ignores an instance update that would make a status transition the table forbids", async () => {
    const id = await readyRoom();
    await h.roomManager.updateRoomWithPing(scheduler, id, { status: "terminating" });
    await h.roomManager.updateRoomWithPing(scheduler, id, { status: "terminated" });
    const instance = (await h.instances.getInstance(scheduler.name, id))!;
    await h.roomManager.updateInstance(scheduler, { ...instance, status: { type: "error", description: "crashed" } });
    expect((await h.instances.getInstance(scheduler.name, id))?.status.type).toBe("error");
    expect((await h.rooms.getRoom(scheduler.name, id))?.status).toBe("terminated");
  });

  it("deleteRoom marks the room terminating and stops its process", async () => {
    const id = await readyRoom();
    const { pid } = await seen(id);
    await h.roomManager.deleteRoom(scheduler.name, id, "scale_down");
    expect((await h.rooms.getRoom(scheduler.name, id))?.status).toBe("terminating");
    await waitFor(() => !isAlive(pid), `process ${pid} to stop`);
    await waitFor(
      async () => (await h.runtime.listInstances(scheduler.name)).every((i) => i.id !== id),
      "the runtime to forget the room",
    );
  });

  it("deleteRoom of a room the runtime does not know removes its records", async () => {
    // Records left by a server whose rooms died with it.
    await h.rooms.createRoom(gameRoom({ id: "rooms-gone1", schedulerName: scheduler.name }));
    await h.instances.upsertInstance(instanceOf("rooms-gone1", "ready", scheduler.name));
    await h.roomManager.deleteRoom(scheduler.name, "rooms-gone1", "scale_down");
    expect(await h.rooms.getRoom(scheduler.name, "rooms-gone1")).toBeUndefined();
    expect(await h.instances.getInstance(scheduler.name, "rooms-gone1")).toBeUndefined();
  });

  it("deleteRoom of a room without an instance record removes the room record", async () => {
    const { room } = await h.roomManager.createRoom(scheduler);
    await h.instances.deleteInstance(scheduler.name, room.id);
    await h.roomManager.deleteRoom(scheduler.name, room.id, "expired_room");
    expect(await h.rooms.getRoom(scheduler.name, room.id)).toBeUndefined();
  });

  it("cleanRoomState removes the room and instance records and frees the room's port", async () => {
    const port = await freePort();
    scheduler = { ...scheduler, portRange: { start: port, end: port } };
    const { room } = await h.roomManager.createRoom(scheduler);
    const { pid } = await seen(room.id);
    await h.roomManager.deleteRoom(scheduler.name, room.id, "scale_down");
    await waitFor(() => !isAlive(pid), `process ${pid} to stop`);
    await waitFor(async () => (await h.runtime.listInstances(scheduler.name)).length === 0, "the room to be gone");

    await h.roomManager.cleanRoomState(scheduler.name, room.id);
    expect(await h.rooms.getRoom(scheduler.name, room.id)).toBeUndefined();
    expect(await h.instances.getInstance(scheduler.name, room.id)).toBeUndefined();
    await h.roomManager.cleanRoomState(scheduler.name, room.id); // twice is fine: watcher and worker race

    const next = await h.roomManager.createRoom(scheduler);
    expect(next.instance.address?.ports[0]?.port).toBe(port);
  });
});
