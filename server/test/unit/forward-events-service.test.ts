import { describe, expect, it } from "vitest";
import { MemoryInstanceStorage, MemoryRoomStorage } from "../../src/adapters/storage/memory/index.js";
import type { Forwarder, Scheduler } from "../../src/core/entities/scheduler.js";
import { MaestroError } from "../../src/core/errors.js";
import type { ForwardCallOptions, ForwarderClient, ForwarderPlugin } from "../../src/core/ports/event-forwarder.js";
import type { ForwardOutcome } from "../../src/core/ports/forwarding-stats.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import { DeliveryQueue } from "../../src/core/services/delivery-queue.js";
import { EventsService, stringMap } from "../../src/core/services/events-service.js";
import { deferred, gameRoom } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";
import { waitFor } from "../support/wait-for.js";

interface Sent {
  forwarder: string;
  method: keyof ForwarderClient;
  message: unknown;
  eventId: string;
}

/** A forwarder type that records what it is sent; `behaviour` decides how each call ends. */
function recordingPlugin(type = "rec") {
  const sent: Sent[] = [];
  let behaviour: (opts: ForwardCallOptions) => Promise<void> = async () => {};
  const plugin: ForwarderPlugin = {
    type,
    create(f: Forwarder) {
      const record = (method: keyof ForwarderClient) => async (message: unknown, opts: ForwardCallOptions) => {
        sent.push({ forwarder: f.name, method, message, eventId: opts.eventId });
        await behaviour(opts);
      };
      return {
        roomResync: record("roomResync"),
        roomStatus: record("roomStatus"),
        roomEvent: record("roomEvent"),
        playerEvent: record("playerEvent"),
      };
    },
  };
  return {
    plugin,
    sent,
    behave(b: typeof behaviour) {
      behaviour = b;
    },
  };
}

function forwarder(overrides: Partial<Forwarder> = {}): Forwarder {
  return {
    name: "mm",
    enable: true,
    type: "rec",
    address: "mm:9090",
    options: { timeout: 200, metadata: { roomType: "green", region: "eu", map: "forwarder-map" } },
    ...overrides,
  };
}

async function setup(scheduler: Scheduler, limits = { concurrency: 4, queueSize: 8 }) {
  const rec = recordingPlugin();
  const rooms = new MemoryRoomStorage();
  const instances = new MemoryInstanceStorage();
  const outcomes: { forwarder: string; event: string; outcome: ForwardOutcome }[] = [];
  const events = new EventsService({
    schedulers: { getScheduler: async () => scheduler },
    rooms,
    instances,
    forwarders: { get: (t) => (t === rec.plugin.type ? rec.plugin : undefined) },
    stats: { delivered: (f, e, outcome) => outcomes.push({ forwarder: f, event: e, outcome }) },
    logger: silentLogger,
    limits,
  });
  const room = gameRoom({ id: "room-1", schedulerName: scheduler.name, metadata: { map: "room-map", players: 3 } });
  await rooms.createRoom(room);
  await instances.upsertInstance({
    id: "room-1",
    schedulerName: scheduler.name,
    status: { type: "ready", description: "" },
    address: {
      host: "10.1.2.3",
      ports: [
        { name: "game", port: 40001, protocol: "udp" },
        { name: "clientPort", port: 40002, protocol: "tcp" },
      ],
    },
  });
  return { rec, rooms, instances, events, room, outcomes };
}

const ports = JSON.stringify([
  { name: "game", port: 40001, protocol: "udp" },
  { name: "clientPort", port: 40002, protocol: "tcp" },
]);

describe("EventsService messages (Maestro §2.6)", () => {
  const scheduler = validScheduler({ name: "tennis", game: "tennis-game" });
  scheduler.forwarders = [forwarder()];

  it("resync on ping: host, clientPort, ports JSON, forwarder metadata under the event's, roomType", async () => {
    const { rec, events, room } = await setup(scheduler);
    events.forwardPing(scheduler, { ...room, pingStatus: "occupied" });
    await waitFor(() => rec.sent.length === 1, "deliveries");
    expect(rec.sent[0]).toMatchObject({
      forwarder: "mm",
      method: "roomResync",
      message: {
        status: "occupied",
        room: {
          game: "tennis-game",
          roomId: "room-1",
          host: "10.1.2.3",
          port: 40002,
          roomType: "green",
          metadata: {
            roomType: "green",
            region: "eu",
            map: "room-map",
            players: "3",
            eventType: "resync",
            pingType: "occupied",
            ports,
          },
        },
      },
    });
  });

  it("room event: the forwarder's metadata wins and no roomType is set", async () => {
    const { rec, events } = await setup(scheduler);
    await events.roomEvent("tennis", "room-1", "matchStarted", { map: "event-map", round: 2 });
    expect(rec.sent).toEqual([
      {
        forwarder: "mm",
        method: "roomEvent",
        eventId: expect.any(String),
        message: {
          eventType: "matchStarted",
          room: {
            game: "tennis-game",
            roomId: "room-1",
            host: "10.1.2.3",
            port: 40002,
            roomType: "",
            metadata: {
              map: "forwarder-map",
              round: "2",
              roomType: "green",
              region: "eu",
              eventType: "roomEvent",
              roomEvent: "matchStarted",
              ports,
            },
          },
        },
      },
    ]);
  });

  it("player event: the room carries game and id only; metadata gets eventType and the forwarder's roomType", async () => {
    const { rec, events } = await setup(scheduler);
    await events.playerEvent("tennis", "room-1", "playerLeft", "p1", { playerId: "p1", team: 1 });
    expect(rec.sent[0]?.message).toEqual({
      playerId: "p1",
      room: { game: "tennis-game", roomId: "room-1" },
      eventType: "playerLeft",
      metadata: { playerId: "p1", team: "1", eventType: "playerLeft", roomType: "green" },
    });
  });

  it("terminated status tolerates a room without instance (host empty, port 0)", async () => {
    const { rec, events, instances, room } = await setup(scheduler);
    await instances.deleteInstance("tennis", "room-1");
    events.roomTerminated("tennis", room);
    await waitFor(() => rec.sent.length === 1, "deliveries");
    expect(rec.sent[0]).toMatchObject({
      method: "roomStatus",
      message: {
        status: "terminated",
        room: { host: "", port: 0, metadata: { pingType: "terminated", roomEvent: "terminated" } },
      },
    });
  });

  it("a room event for a room without address fails instead of sending port 0", async () => {
    const { rec, events, instances } = await setup(scheduler);
    await instances.deleteInstance("tennis", "room-1");
    await expect(events.roomEvent("tennis", "room-1", "x", {})).rejects.toThrow(/no address/);
    expect(rec.sent).toEqual([]);
    await events.roomEvent("tennis", "room-1", "terminating", {});
    expect(rec.sent[0]?.message).toMatchObject({ eventType: "terminating", room: { host: "", port: 0 } });
  });

  it("sends one event to every enabled forwarder with one event id, skipping disabled ones", async () => {
    const s = validScheduler({ name: "tennis" });
    s.forwarders = [forwarder({ name: "a" }), forwarder({ name: "b" }), forwarder({ name: "off", enable: false })];
    const { rec, events } = await setup(s);
    await events.roomStatus("tennis", "room-1", "ready", {});
    expect(rec.sent.map((x) => x.forwarder).sort()).toEqual(["a", "b"]);
    expect(new Set(rec.sent.map((x) => x.eventId)).size).toBe(1);
  });

  it("validation rooms and schedulers without forwarders send nothing", async () => {
    const { rec, events, rooms, room } = await setup(scheduler);
    await rooms.updateRoom({ ...room, isValidationRoom: true });
    await events.roomEvent("tennis", "room-1", "x", {});
    events.forwardPing(scheduler, { ...room, isValidationRoom: true });
    events.roomTerminated("tennis", { ...room, isValidationRoom: true });
    const bare = await setup(validScheduler({ name: "tennis" }));
    await bare.events.playerEvent("tennis", "room-1", "playerJoin", "p", {});
    bare.events.forwardPing(validScheduler({ name: "tennis" }), bare.room);
    await new Promise((r) => setImmediate(r));
    expect([...rec.sent, ...bare.rec.sent]).toEqual([]);
  });

  it("an unknown room is not_found", async () => {
    const { events } = await setup(scheduler);
    await expect(events.roomEvent("tennis", "nope", "x", {})).rejects.toMatchObject({ code: "not_found" });
  });

  it("renders values as Maestro's %v does for JSON scalars", () => {
    expect(stringMap({ s: "x", n: 1.5, i: 3, b: true, z: null, o: { a: 1 } })).toEqual({
      s: "x",
      n: "1.5",
      i: "3",
      b: "true",
      z: "<nil>",
      o: '{"a":1}',
    });
  });
});

describe("EventsService delivery outcomes", () => {
  const scheduler = validScheduler({ name: "tennis" });
  scheduler.forwarders = [forwarder({ options: { timeout: 50, metadata: {} } })];

  it("reports failure with the forwarder's error and timeout when the deadline passes", async () => {
    const { rec, events, outcomes } = await setup(scheduler);
    rec.behave(async () => {
      throw new Error("connection refused");
    });
    await expect(events.roomEvent("tennis", "room-1", "x", {})).rejects.toThrow(/mm.*connection refused/);
    rec.behave(
      (opts) => new Promise((_, reject) => opts.signal.addEventListener("abort", () => reject(opts.signal.reason))),
    );
    await expect(events.roomEvent("tennis", "room-1", "x", {})).rejects.toThrow(/timed out after 50 ms/);
    rec.behave(async () => {});
    await events.roomEvent("tennis", "room-1", "x", {});
    expect(outcomes.map((o) => o.outcome)).toEqual(["failure", "timeout", "success"]);
  });

  it("sheds pings beyond the bound while a forwarder hangs, and never holds the ping", async () => {
    const s = validScheduler({ name: "tennis" });
    s.forwarders = [forwarder({ options: { timeout: 60_000, metadata: {} } })];
    const { rec, events, room, outcomes } = await setup(s, { concurrency: 2, queueSize: 3 });
    const release = deferred();
    rec.behave(() => release.promise);
    for (let i = 0; i < 10; i++) events.forwardPing(s, room);
    await waitFor(() => rec.sent.length === 2 && outcomes.length === 5, "deliveries");
    expect(outcomes.map((o) => o.outcome)).toEqual(["shed", "shed", "shed", "shed", "shed"]);
    await expect(events.roomEvent("tennis", "room-1", "x", {})).rejects.toMatchObject({ code: "resource_exhausted" });
    release.resolve();
    await waitFor(() => outcomes.filter((o) => o.outcome === "success").length === 5, "deliveries");
    expect(rec.sent).toHaveLength(5);
  });
});

describe("EventsService clients", () => {
  it("closes the clients of forwarders no longer used (an old version's)", async () => {
    const closed: string[] = [];
    const plugin: ForwarderPlugin = {
      type: "rec",
      create: (f) => ({
        roomResync: async () => {},
        roomStatus: async () => {},
        roomEvent: async () => {},
        playerEvent: async () => {},
        close: async () => void closed.push(f.address),
      }),
    };
    const rooms = new MemoryRoomStorage();
    const instances = new MemoryInstanceStorage();
    let scheduler = validScheduler({ name: "tennis" });
    scheduler.forwarders = [forwarder({ address: "old:1" })];
    const events = new EventsService({
      schedulers: { getScheduler: async () => scheduler },
      rooms,
      instances,
      forwarders: { get: () => plugin },
      logger: silentLogger,
      clientIdleMs: 1,
    });
    await rooms.createRoom(gameRoom({ id: "room-1", schedulerName: "tennis" }));
    await events.roomStatus("tennis", "room-1", "terminating", {});
    expect(events.openClients).toBe(1);
    scheduler = { ...scheduler, forwarders: [forwarder({ address: "new:1" })] };
    await new Promise((r) => setTimeout(r, 5));
    await events.roomStatus("tennis", "room-1", "terminating", {});
    expect(closed).toEqual(["old:1"]);
    expect(events.openClients).toBe(1);
    await events.close();
    expect(closed).toEqual(["old:1", "new:1"]);
  });
});

describe("DeliveryQueue", () => {
  it("runs at most `concurrency` tasks, queues `capacity` more and sheds the rest", async () => {
    const q = new DeliveryQueue(1, 1);
    const gate = deferred();
    let running = 0;
    let most = 0;
    const task = async () => {
      running++;
      most = Math.max(most, running);
      await gate.promise;
      running--;
      return "done";
    };
    const a = q.run(task);
    const b = q.run(task);
    expect(await q.run(task)).toEqual({ shed: true });
    expect(q.size).toBe(2);
    gate.resolve();
    expect(await a).toEqual({ shed: false, value: "done" });
    expect(await b).toEqual({ shed: false, value: "done" });
    expect(most).toBe(1);
    expect(q.size).toBe(0);
  });

  it("frees the slot when a task throws", async () => {
    const q = new DeliveryQueue(1, 0);
    await expect(q.run(async () => Promise.reject(new MaestroError("internal", "x")))).rejects.toThrow("x");
    expect(await q.run(async () => 1)).toEqual({ shed: false, value: 1 });
  });
});
