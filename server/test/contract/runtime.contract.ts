import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GameRoom, InstanceEvent, InstanceStatusType } from "../../src/core/entities/game-room.js";
import { declaredPorts, type Scheduler } from "../../src/core/entities/scheduler.js";
import { isMaestroError } from "../../src/core/errors.js";
import type { AllocatedPort, RoomEnvironment, Runtime } from "../../src/core/ports/runtime.js";
import { waitFor } from "../support/wait-for.js";

export { waitFor };

export interface RuntimeContractContext {
  runtime: Runtime;
  /** A valid scheduler; the suite gives it a unique name and the long-running command. */
  scheduler: () => Scheduler;
  /** A command that runs until it is signalled and exits on SIGTERM. */
  longRunningCommand: string[];
  teardown(): Promise<void>;
}

/** Consumes a watch in the background and keeps every event. */
export class EventRecorder {
  readonly events: InstanceEvent[] = [];
  readonly done: Promise<void>;
  private readonly controller = new AbortController();

  constructor(runtime: Runtime, schedulerName: string) {
    const iterable = runtime.watch(schedulerName, { signal: this.controller.signal });
    this.done = (async () => {
      for await (const event of iterable) this.events.push(event);
    })();
  }

  of(roomId: string): InstanceEvent[] {
    return this.events.filter((e) => e.instance.id === roomId);
  }

  has(roomId: string, type: InstanceEvent["type"], status?: InstanceStatusType): boolean {
    return this.of(roomId).some((e) => e.type === type && (status === undefined || e.instance.status.type === status));
  }

  waitFor(roomId: string, type: InstanceEvent["type"], status?: InstanceStatusType): Promise<InstanceEvent> {
    return waitFor(
      () => this.of(roomId).find((e) => e.type === type && (status === undefined || e.instance.status.type === status)),
      `${type}${status ? ` ${status}` : ""} event of room ${roomId}`,
    );
  }

  waitForStatus(roomId: string, status: InstanceStatusType): Promise<InstanceEvent> {
    return waitFor(
      () => this.of(roomId).find((e) => e.type !== "deleted" && e.instance.status.type === status),
      `room ${roomId} to become ${status}`,
    );
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}

let counter = 0;

export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid % 10000}-${counter}-${Math.random().toString(36).slice(2, 6)}`;
}

export function gameRoom(scheduler: Scheduler, id = uniqueName("room")): GameRoom {
  const now = new Date();
  return {
    id,
    schedulerName: scheduler.name,
    version: scheduler.spec.version,
    status: "pending",
    pingStatus: "unknown",
    metadata: {},
    isValidationRoom: false,
    runningMatches: 0,
    createdAt: now,
    lastPingAt: now,
  };
}

let nextHostPort = 30_000 + Math.floor(Math.random() * 10_000);

/** Distinct host ports for every declared port; the contract does not need them bindable. */
export function portsFor(scheduler: Scheduler): AllocatedPort[] {
  return declaredPorts(scheduler.spec).map((p) => ({
    name: p.name,
    protocol: p.protocol,
    containerPort: p.port,
    hostPort: nextHostPort++,
  }));
}

export const roomEnv: RoomEnvironment = { roomsApiUrl: "http://127.0.0.1:1", roomToken: "contract-token" };

async function errorOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

/** Behaviour every Runtime must show; each adapter's test file calls this with its own setup. */
export function runtimeContract(name: string, setup: () => Promise<RuntimeContractContext>): void {
  describe(`Runtime contract: ${name}`, () => {
    let ctx: RuntimeContractContext;
    let runtime: Runtime;
    const recorders: EventRecorder[] = [];

    beforeEach(async () => {
      ctx = await setup();
      runtime = ctx.runtime;
    });

    afterEach(async () => {
      await Promise.all(recorders.splice(0).map((r) => r.stop()));
      await ctx.teardown();
    });

    const newScheduler = (): Scheduler => {
      const base = ctx.scheduler();
      return {
        ...base,
        name: uniqueName("contract"),
        spec: {
          ...base.spec,
          containers: base.spec.containers.map((c) => ({ ...c, command: ctx.longRunningCommand })),
        },
      };
    };

    const record = (schedulerName: string): EventRecorder => {
      const recorder = new EventRecorder(runtime, schedulerName);
      recorders.push(recorder);
      return recorder;
    };

    const createdScheduler = async (): Promise<Scheduler> => {
      const scheduler = newScheduler();
      await runtime.createScheduler(scheduler);
      return scheduler;
    };

    it("answers ready once it can serve rooms, and unavailable once closed", async () => {
      await waitFor(
        () =>
          runtime.ready().then(
            () => true,
            () => false,
          ),
        "the runtime to be ready",
      );
      await runtime.close();
      const err = await errorOf(runtime.ready());
      expect(isMaestroError(err, "unavailable")).toBe(true);
    });

    it("creates a scheduler once, refuses a second create, deletes it even twice and can create it again", async () => {
      const scheduler = newScheduler();
      await runtime.createScheduler(scheduler);
      const err = await errorOf(runtime.createScheduler(scheduler));
      expect(isMaestroError(err, "already_exists")).toBe(true);
      await runtime.deleteScheduler(scheduler);
      await runtime.deleteScheduler(scheduler);
      await waitFor(async () => {
        try {
          await runtime.createScheduler(scheduler);
          return true;
        } catch (e) {
          if (isMaestroError(e, "already_exists")) return false;
          throw e;
        }
      }, "the scheduler to be creatable again");
      await runtime.deleteScheduler(scheduler);
    });

    it("createRoom returns the instance with the allocated ports and watch shows it added, then ready", async () => {
      const scheduler = await createdScheduler();
      const recorder = record(scheduler.name);
      const room = gameRoom(scheduler);
      const ports = portsFor(scheduler);
      const instance = await runtime.createRoom(scheduler, room, ports, roomEnv);

      expect(instance.id).toBe(room.id);
      expect(instance.schedulerName).toBe(scheduler.name);
      expect(["pending", "ready"]).toContain(instance.status.type);
      expect(instance.address?.ports).toEqual(
        ports.map((p) => ({ name: p.name, port: p.hostPort, protocol: p.protocol })),
      );

      await recorder.waitFor(room.id, "added");
      const ready = await recorder.waitForStatus(room.id, "ready");
      expect(ready.instance.address?.ports.map((p) => p.port)).toEqual(ports.map((p) => p.hostPort));
      expect(recorder.of(room.id)[0]?.type).toBe("added");
    });

    it("listInstances and portsInUse reflect live rooms", async () => {
      const scheduler = await createdScheduler();
      const other = await createdScheduler();
      const room = gameRoom(scheduler);
      const ports = portsFor(scheduler);
      await runtime.createRoom(scheduler, room, ports, roomEnv);
      const otherRoom = gameRoom(other);
      const otherPorts = portsFor(other);
      await runtime.createRoom(other, otherRoom, otherPorts, roomEnv);

      const listed = await runtime.listInstances(scheduler.name);
      expect(listed.map((i) => i.id)).toEqual([room.id]);
      expect(listed[0]?.address?.ports.map((p) => p.port)).toEqual(ports.map((p) => p.hostPort));
      await waitFor(
        async () => (await runtime.listInstances(scheduler.name)).find((i) => i.status.type === "ready"),
        "listInstances to show the room ready",
      );
      const inUse = await runtime.portsInUse();
      for (const p of [...ports, ...otherPorts]) expect(inUse.has(p.hostPort)).toBe(true);
      expect(await runtime.listInstances(uniqueName("absent"))).toEqual([]);
    });

    it("deleteRoom: watch shows the room terminating, then deleted; it leaves listInstances and portsInUse", async () => {
      const scheduler = await createdScheduler();
      const recorder = record(scheduler.name);
      const room = gameRoom(scheduler);
      const ports = portsFor(scheduler);
      await runtime.createRoom(scheduler, room, ports, roomEnv);
      await recorder.waitForStatus(room.id, "ready");

      await runtime.deleteRoom(scheduler.name, room.id, "contract test");
      await recorder.waitFor(room.id, "deleted");
      const events = recorder.of(room.id);
      const terminating = events.findIndex((e) => e.type === "updated" && e.instance.status.type === "terminating");
      const deleted = events.findIndex((e) => e.type === "deleted");
      expect(terminating).toBeGreaterThanOrEqual(0);
      expect(terminating).toBeLessThan(deleted);
      expect(events.slice(deleted + 1)).toEqual([]);

      expect(await runtime.listInstances(scheduler.name)).toEqual([]);
      const inUse = await runtime.portsInUse();
      for (const p of ports) expect(inUse.has(p.hostPort)).toBe(false);
    });

    it("deleteRoom of an unknown room is not_found", async () => {
      const scheduler = await createdScheduler();
      const err = await errorOf(runtime.deleteRoom(scheduler.name, uniqueName("ghost"), "contract test"));
      expect(isMaestroError(err, "not_found")).toBe(true);
      const noScheduler = await errorOf(runtime.deleteRoom(uniqueName("ghost"), uniqueName("ghost"), "contract test"));
      expect(isMaestroError(noScheduler, "not_found")).toBe(true);
    });

    it("deleteScheduler removes its rooms and leaves other schedulers' rooms alone", async () => {
      const scheduler = await createdScheduler();
      const other = await createdScheduler();
      const recorder = record(scheduler.name);
      const rooms = [gameRoom(scheduler), gameRoom(scheduler)];
      for (const room of rooms) await runtime.createRoom(scheduler, room, portsFor(scheduler), roomEnv);
      const survivor = gameRoom(other);
      await runtime.createRoom(other, survivor, portsFor(other), roomEnv);
      for (const room of rooms) await recorder.waitForStatus(room.id, "ready");

      await runtime.deleteScheduler(scheduler);
      for (const room of rooms) await recorder.waitFor(room.id, "deleted");
      await waitFor(
        async () => (await runtime.listInstances(scheduler.name)).length === 0,
        "the deleted scheduler to list no instance",
      );
      expect((await runtime.listInstances(other.name)).map((i) => i.id)).toEqual([survivor.id]);
    });

    it("watch begins with an added event for every current instance", async () => {
      const scheduler = await createdScheduler();
      const rooms = [gameRoom(scheduler), gameRoom(scheduler)];
      for (const room of rooms) await runtime.createRoom(scheduler, room, portsFor(scheduler), roomEnv);

      const recorder = record(scheduler.name);
      await waitFor(() => recorder.events.length >= rooms.length, "the initial events");
      const initial = recorder.events.slice(0, rooms.length);
      expect(initial.every((e) => e.type === "added")).toBe(true);
      expect(initial.map((e) => e.instance.id).sort()).toEqual(rooms.map((r) => r.id).sort());
    });

    it("every concurrent watcher gets every event, and only its scheduler's", async () => {
      const scheduler = await createdScheduler();
      const other = await createdScheduler();
      const watchers = [record(scheduler.name), record(scheduler.name), record(scheduler.name)];
      const room = gameRoom(scheduler);
      await runtime.createRoom(scheduler, room, portsFor(scheduler), roomEnv);
      const foreign = gameRoom(other);
      await runtime.createRoom(other, foreign, portsFor(other), roomEnv);
      for (const w of watchers) await w.waitForStatus(room.id, "ready");
      await runtime.deleteRoom(scheduler.name, room.id, "contract test");
      for (const w of watchers) await w.waitFor(room.id, "deleted");

      const sequence = (w: EventRecorder) => w.of(room.id).map((e) => `${e.type}:${e.instance.status.type}`);
      expect(sequence(watchers[1]!)).toEqual(sequence(watchers[0]!));
      expect(sequence(watchers[2]!)).toEqual(sequence(watchers[0]!));
      for (const w of watchers) expect(w.of(foreign.id)).toEqual([]);
    });

    it("watch ends without an error when its signal aborts", async () => {
      const scheduler = await createdScheduler();
      await runtime.createRoom(scheduler, gameRoom(scheduler), portsFor(scheduler), roomEnv);

      const waiting = new AbortController();
      const seen: InstanceEvent[] = [];
      const consumed = (async () => {
        for await (const event of runtime.watch(scheduler.name, { signal: waiting.signal })) seen.push(event);
      })();
      await waitFor(() => seen.length > 0, "the first event");
      waiting.abort();
      await expect(consumed).resolves.toBeUndefined();

      const already = new AbortController();
      already.abort();
      const events: InstanceEvent[] = [];
      for await (const event of runtime.watch(scheduler.name, { signal: already.signal })) events.push(event);
      expect(events).toEqual([]);
    });
  });
}
