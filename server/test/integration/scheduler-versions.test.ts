import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openSchedulerStorage } from "../../src/adapters/storage/sql/open-scheduler-storage.js";
import type { Operation } from "../../src/core/entities/operation.js";
import type { Scheduler } from "../../src/core/entities/scheduler.js";
import { isMaestroError, type MaestroError } from "../../src/core/errors.js";
import { installFailpoints } from "../../src/core/failpoints.js";
import { schedulerToJson } from "../../src/core/operations/create-new-scheduler-version/scheduler-input.js";
import type { ValidationSettings } from "../../src/core/operations/services.js";
import type { SchedulerStorage } from "../../src/core/ports/scheduler-storage.js";
import { CoreHarness, waitFor } from "../support/core-harness.js";
import { validContainer, validScheduler } from "../support/fixtures.js";

const S = "versioned";

/**
 * Versions end to end on real parts: PGlite scheduler storage, memory state, the process runtime with real child
 * processes whose instance events are fed into room state as the runtime watcher does. Nothing pings the rooms API in
 * core tests, so a helper pings validation rooms "ready" through the room manager, as the ping handler would.
 */
describe("scheduler versions (PGlite, process runtime)", () => {
  let storage: SchedulerStorage;
  let h: CoreHarness;
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    storage = await openSchedulerStorage({ kind: "pglite" });
  });

  afterAll(async () => {
    await storage.close();
  });

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await h.close();
  });

  /** A harness with an in-sync scheduler, its worker and the runtime watcher running. */
  async function setUp(
    validation: Partial<ValidationSettings> = { timeoutMs: 20_000, attempts: 1 },
    overrides: Parameters<typeof validScheduler>[0] = {},
  ): Promise<Scheduler> {
    h = await CoreHarness.create({ schedulers: storage, validation });
    // Created before the harness clock's "now", like any version the operations add later.
    const createdAt = h.clock.ago(60_000);
    const scheduler = validScheduler({ name: S, state: "in-sync", roomsReplicas: 0, createdAt, ...overrides });
    await h.schedulers.createScheduler(scheduler);
    await h.runtime.createScheduler(scheduler);
    stops.push(watchRuntime(S));
    h.startWorker(S);
    return scheduler;
  }

  /** What modules/runtime-watcher does: instance events → room state. */
  function watchRuntime(name: string): () => Promise<void> {
    const abort = new AbortController();
    const done = (async () => {
      for await (const event of h.runtime.watch(name, { signal: abort.signal })) {
        try {
          if (event.type === "deleted") await h.roomManager.cleanRoomState(name, event.instance.id);
          else await h.roomManager.updateInstance(await h.schedulers.getScheduler(name), event.instance);
        } catch {
          // A room removed meanwhile: the next event or the health controller settles it.
        }
      }
    })();
    return async () => {
      abort.abort();
      await done;
    };
  }

  /** Pings every validation room "ready" once it exists, as a healthy game room would. Returns the rooms pinged. */
  function pingValidationRooms(name: string): { pinged: Set<string>; stop: () => Promise<void> } {
    const pinged = new Set<string>();
    let stopped = false;
    const done = (async () => {
      while (!stopped) {
        for (const room of await h.rooms.listRooms(name)) {
          if (!room.isValidationRoom || pinged.has(room.id)) continue;
          try {
            await h.roomManager.updateRoomWithPing(await h.schedulers.getScheduler(name), room.id, { status: "ready" });
            pinged.add(room.id);
          } catch {
            // Not accepted yet (e.g. just deleted); try again on the next round.
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const stop = async () => {
      stopped = true;
      await done;
    };
    stops.push(stop);
    return { pinged, stop };
  }

  async function caught(run: () => Promise<unknown>): Promise<MaestroError> {
    const err = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    return err as MaestroError;
  }

  const events = (op: Operation) => op.executionHistory.map((e) => e.event);
  const versions = async () => (await h.schedulers.listVersions(S)).map((v) => `${v.version}${v.isActive ? "*" : ""}`);

  /** Waits for the new-version operation and the switch it enqueued; returns both. */
  async function finishVersionChange(op: Operation): Promise<{ create: Operation; switched: Operation }> {
    const create = await h.waitForFinal(S, op.id);
    expect(create.status, events(create).join("\n")).toBe("finished");
    const line = events(create).find((e) => e.startsWith("enqueued switch active version operation with id: "));
    expect(line).toBeDefined();
    const switched = await h.waitForFinal(S, line!.slice(line!.lastIndexOf(" ") + 1));
    expect(switched).toMatchObject({ definitionName: "switch_active_version", status: "finished" });
    return { create, switched };
  }

  async function noValidationRoomLeft(): Promise<void> {
    await waitFor(async () => {
      const rooms = await h.rooms.listRooms(S);
      const live = await h.runtime.listInstances(S);
      const validation = rooms.filter((r) => r.isValidationRoom).map((r) => r.id);
      return validation.length === 0 && live.every((i) => !validation.includes(i.id)) ? true : undefined;
    }, "validation rooms to be gone");
  }

  it("a minor change (replicas) becomes v1.1.0 without a validation room, keeping the running rooms", async () => {
    const scheduler = await setUp();
    const kept = [
      (await h.roomManager.createRoom(scheduler)).room.id,
      (await h.roomManager.createRoom(scheduler)).room.id,
    ];
    await waitFor(async () => (await h.runtime.listInstances(S)).length === 2, "two room processes");

    const op = await h.schedulerManager.newSchedulerVersion({ ...scheduler, roomsReplicas: 5, maxSurge: "50%" });
    expect(op).toMatchObject({ definitionName: "create_new_scheduler_version", status: "pending" });
    // Dates travel as JSON strings in the stored input, so the API shows them.
    expect(typeof (op.input.scheduler as Record<string, unknown>).createdAt).toBe("string");

    const { create, switched } = await finishVersionChange(op);
    expect(events(create)).toContain("Minor version detected (v1.1.0): no game room validation needed");
    expect(events(create).some((e) => e.includes("validation process"))).toBe(false);
    expect(events(switched)).toContain("active version switched from v1.0.0 to v1.1.0");
    expect(await versions()).toEqual(["v1.1.0*", "v1.0.0"]);

    const active = await h.schedulers.getScheduler(S);
    expect(active).toMatchObject({ state: "in-sync", roomsReplicas: 5, maxSurge: "50%", rollbackVersion: "v1.0.0" });
    expect(active.spec).toEqual({ ...scheduler.spec, version: "v1.1.0" });
    expect((await h.rooms.listRooms(S)).map((r) => r.id).sort()).toEqual([...kept].sort());
    expect((await h.runtime.listInstances(S)).map((i) => i.id).sort()).toEqual([...kept].sort());
  });

  it("a major change is validated by a room that becomes ready, then stored as v2.0.0 and made active", async () => {
    const scheduler = await setUp();
    const { pinged } = pingValidationRooms(S);
    const next = structuredClone(scheduler);
    next.spec.containers[0]!.environment = [{ name: "GAME_MODE", value: "ranked" }];
    next.spec.version = "v9.0.0"; // ignored: Maestro numbers versions

    const op = await h.schedulerManager.newSchedulerVersion(next);
    const { create } = await finishVersionChange(op);
    const history = events(create);
    expect(history).toEqual(
      expect.arrayContaining([
        "Major version detected, starting game room validation process...",
        "1º Attempt: Game room validation success!",
        "created version v2.0.0 (previous active version v1.0.0)",
      ]),
    );
    expect(pinged.size).toBe(1);
    expect(await versions()).toEqual(["v2.0.0*", "v1.0.0"]);
    const active = await h.schedulers.getScheduler(S);
    expect(active).toMatchObject({ state: "in-sync", rollbackVersion: "v1.0.0" });
    expect(active.spec.version).toBe("v2.0.0");
    expect(active.spec.containers[0]!.environment).toEqual([{ name: "GAME_MODE", value: "ranked" }]);
    // The old version is kept as it was.
    expect((await h.schedulers.getSchedulerVersion(S, "v1.0.0")).spec.containers[0]!.environment).toEqual([]);
    await noValidationRoomLeft();
  });

  it("a major change whose room never becomes ready fails after every attempt, changing nothing", async () => {
    const scheduler = await setUp({ timeoutMs: 500, attempts: 2 });
    const next = { ...structuredClone(scheduler), portRange: { start: 21000, end: 21999 } };

    const op = await h.schedulerManager.newSchedulerVersion(next);
    const done = await h.waitForFinal(S, op.id);
    expect(done.status).toBe("error");
    const history = events(done);
    expect(history).toContain("Major version detected, starting game room validation process...");
    const timeouts = history.filter((e) =>
      /^\dº Attempt: Got timeout waiting for the GRU with ID: \S+ to be ready/.test(e),
    );
    expect(timeouts.map((e) => e.slice(0, 2))).toEqual(["1º", "2º"]);
    // Each attempt used a room of its own.
    expect(new Set(timeouts.map((e) => /ID: (\S+) to/.exec(e)![1])).size).toBe(2);
    expect(history).toContain("All validation attempts have failed, operation aborted!");
    expect(history.some((e) => e.startsWith("Operation execution failed: game room validation failed"))).toBe(true);

    expect(await versions()).toEqual(["v1.0.0*"]);
    expect(await h.schedulers.getScheduler(S)).toMatchObject({ portRange: scheduler.portRange, state: "in-sync" });
    expect((await h.operationStorage.listOperations(S, "pending")).map((o) => o.definitionName)).toEqual([]);
    await noValidationRoomLeft();
  });

  it("a major change whose room crashes fails with the room's last event", async () => {
    const scheduler = await setUp({ timeoutMs: 20_000, attempts: 1 });
    const next = structuredClone(scheduler);
    next.spec.containers[0]!.command = ["node", "-e", "console.error('missing asset map.bin'); process.exit(3)"];

    const done = await h.waitForFinal(S, (await h.schedulerManager.newSchedulerVersion(next)).id);
    expect(done.status).toBe("error");
    const line = events(done).find((e) => e.startsWith("1º Attempt: The room created for validation with ID "));
    expect(line).toMatch(
      /is entering in error state.*Last event in the game room: ".*exit code 3: missing asset map\.bin"/,
    );
    expect(events(done)).toContain("All validation attempts have failed, operation aborted!");
    expect(await versions()).toEqual(["v1.0.0*"]);
    expect((await h.schedulers.getScheduler(S)).spec.containers[0]!.command).toEqual(
      scheduler.spec.containers[0]!.command,
    );
    await noValidationRoomLeft();
  });

  it("a canceled validation ends canceled and removes its room", async () => {
    const scheduler = await setUp({ timeoutMs: 60_000, attempts: 3 });
    const next = { ...structuredClone(scheduler), labels: { tier: "gold" } };
    const op = await h.schedulerManager.newSchedulerVersion(next);
    await waitFor(async () => (await h.rooms.listRooms(S)).some((r) => r.isValidationRoom), "a validation room");
    const busy = await caught(() => h.schedulerManager.patchScheduler(S, { roomsReplicas: 4 }));
    expect(isMaestroError(busy, "failed_precondition")).toBe(true);
    expect(busy.message).toContain(`create_new_scheduler_version operation ${op.id} is in_progress`);
    await h.operationManager.cancel(S, op.id);
    const done = await h.waitForFinal(S, op.id);
    expect(done.status).toBe("canceled");
    expect(await versions()).toEqual(["v1.0.0*"]);
    await noValidationRoomLeft();
  });

  it("numbers v1.1.0, v2.0.0, then v1.2.0 and v3.0.0 after switching back to v1.0.0", async () => {
    const scheduler = await setUp();
    pingValidationRooms(S);
    const change = async (edit: (s: Scheduler) => void) => {
      const next = structuredClone(await h.schedulers.getScheduler(S));
      edit(next);
      await finishVersionChange(await h.schedulerManager.newSchedulerVersion(next));
      h.clock.advance(1_000);
      return (await h.schedulers.getScheduler(S)).spec.version;
    };
    expect(await change((s) => (s.roomsReplicas = 1))).toBe("v1.1.0");
    expect(await change((s) => (s.annotations = { a: "1" }))).toBe("v2.0.0");

    const back = await h.schedulerManager.switchActiveVersion(S, "v1.0.0");
    expect((await h.waitForFinal(S, back.id)).status).toBe("finished");
    expect(await h.schedulers.getScheduler(S)).toMatchObject({ annotations: {}, roomsReplicas: 0 });
    expect((await h.schedulers.getScheduler(S)).spec.version).toBe("v1.0.0");

    expect(await change((s) => (s.roomsReplicas = 2))).toBe("v1.2.0");
    expect(
      await change((s) => (s.spec.terminationGracePeriodSeconds = scheduler.spec.terminationGracePeriodSeconds + 1)),
    ).toBe("v3.0.0");
    expect(await versions()).toEqual(["v3.0.0*", "v1.2.0", "v2.0.0", "v1.1.0", "v1.0.0"]);
    expect((await h.schedulers.getScheduler(S)).rollbackVersion).toBe("v1.2.0");
  });

  it("patches one field into a minor version and several fields into a validated major version", async () => {
    const scheduler = await setUp({ timeoutMs: 20_000, attempts: 1 }, { annotations: { team: "a" } });
    pingValidationRooms(S);

    await finishVersionChange(await h.schedulerManager.patchScheduler(S, { roomsReplicas: 3 }));
    const minor = await h.schedulers.getScheduler(S);
    expect(minor.spec.version).toBe("v1.1.0");
    expect(minor.rollbackVersion).toBe("v1.0.0");
    // Nothing but roomsReplicas (and the version) changed.
    expect({ ...minor, roomsReplicas: 0, rollbackVersion: undefined, createdAt: scheduler.createdAt }).toEqual({
      ...scheduler,
      spec: { ...scheduler.spec, version: "v1.1.0" },
    });

    const op = await h.schedulerManager.patchScheduler(S, {
      spec: { containers: [{ image: "game:2", requests: { memory: "32Mi", cpu: "50m" } }] },
      annotations: { team: "b" },
      autoscaling: {
        enabled: false,
        min: 1,
        max: 4,
        cooldown: 10,
        policy: { type: "fixedBuffer", parameters: { fixedBuffer: { amount: 1 } } },
      },
    });
    const { create } = await finishVersionChange(op);
    expect(events(create)).toContain("1º Attempt: Game room validation success!");
    const major = await h.schedulers.getScheduler(S);
    expect(major.spec.version).toBe("v2.0.0");
    expect(major.spec.containers[0]).toEqual({
      ...validContainer(),
      image: "game:2",
      requests: { memory: "32Mi", cpu: "50m" },
    });
    expect(major).toMatchObject({ annotations: { team: "b" }, roomsReplicas: 3, rollbackVersion: "v1.1.0" });
    expect(major.autoscaling).toMatchObject({ min: 1, max: 4, policy: { type: "fixedBuffer" } });
  });

  it("refuses a patch that changes nothing (already_exists), an invalid one, and unknown schedulers", async () => {
    const scheduler = await setUp();
    const empty = await caught(() => h.schedulerManager.patchScheduler(S, {}));
    expect(isMaestroError(empty, "already_exists")).toBe(true);
    expect(empty.message).toBe(`no change found to scheduler ${S}`);
    const same = await caught(() =>
      h.schedulerManager.patchScheduler(S, { roomsReplicas: scheduler.roomsReplicas, labels: {} }),
    );
    expect(isMaestroError(same, "already_exists")).toBe(true);

    const invalid = await caught(() =>
      h.schedulerManager.patchScheduler(S, {
        maxSurge: "0",
        spec: { containers: [{ imagePullPolicy: "Sometimes" as never }] },
      }),
    );
    expect(isMaestroError(invalid, "invalid_argument")).toBe(true);
    expect(invalid.violations.map((v) => v.field)).toEqual(
      expect.arrayContaining(["maxSurge", "spec.containers[0].imagePullPolicy"]),
    );
    expect(
      isMaestroError(await caught(() => h.schedulerManager.patchScheduler("nope", { roomsReplicas: 1 })), "not_found"),
    ).toBe(true);
    expect(await h.operationStorage.listOperations(S, "final")).toEqual([]);
    expect(await h.operationStorage.listOperations(S, "pending")).toEqual([]);
  });

  it("newSchedulerVersion validates the definition and refuses another game or an unknown scheduler", async () => {
    const scheduler = await setUp();
    const bad = structuredClone(scheduler);
    bad.spec.containers = [];
    bad.roomsReplicas = -1;
    const invalid = await caught(() => h.schedulerManager.newSchedulerVersion(bad));
    expect(isMaestroError(invalid, "invalid_argument")).toBe(true);
    expect(invalid.violations.map((v) => v.field)).toEqual(
      expect.arrayContaining(["spec.containers", "roomsReplicas"]),
    );

    const otherGame = await caught(() => h.schedulerManager.newSchedulerVersion({ ...scheduler, game: "other-game" }));
    expect(isMaestroError(otherGame, "invalid_argument")).toBe(true);
    expect(otherGame.violations).toEqual([{ field: "game", message: "must be the scheduler's game (test-game)" }]);

    const missing = await caught(() => h.schedulerManager.newSchedulerVersion({ ...scheduler, name: "nope" }));
    expect(isMaestroError(missing, "not_found")).toBe(true);
    expect(await h.operationStorage.listOperations(S, "pending")).toEqual([]);
  });

  it("refuses a second version change while one is pending or running, and accepts it afterwards", async () => {
    h = await CoreHarness.create({ schedulers: storage, validation: { timeoutMs: 20_000, attempts: 1 } });
    const scheduler = validScheduler({ name: S, state: "in-sync", roomsReplicas: 0, createdAt: h.clock.ago(60_000) });
    await h.schedulers.createScheduler(scheduler);
    // No worker yet: the operation stays pending.
    const first = await h.schedulerManager.patchScheduler(S, { roomsReplicas: 1 });
    const attempts = [
      () => h.schedulerManager.patchScheduler(S, { roomsReplicas: 2 }),
      () => h.schedulerManager.newSchedulerVersion({ ...scheduler, maxSurge: "3" }),
      () => h.schedulerManager.switchActiveVersion(S, "v1.0.0"),
    ];
    for (const attempt of attempts) {
      const err = await caught(attempt);
      expect(isMaestroError(err, "failed_precondition")).toBe(true);
      expect(err.message).toContain(`create_new_scheduler_version operation ${first.id} is pending`);
    }
    // Other changes are not version changes and are not blocked.
    expect((await h.schedulerManager.addRooms(S, 1)).definitionName).toBe("add_rooms");
    expect((await h.queuedOperations(S)).map((o) => o.definitionName)).toEqual([
      "create_new_scheduler_version",
      "add_rooms",
    ]);

    // A queued switch blocks too, until it has run; a canceled operation blocks nothing.
    for (const op of await h.queuedOperations(S)) await h.operationManager.cancel(S, op.id);
    const pendingSwitch = await h.operationManager.enqueue(S, "switch_active_version", { newActiveVersion: "v1.0.0" });
    const blocked = await caught(() => h.schedulerManager.patchScheduler(S, { roomsReplicas: 2 }));
    expect(isMaestroError(blocked, "failed_precondition")).toBe(true);
    expect(blocked.message).toContain(`switch_active_version operation ${pendingSwitch.id} is pending`);

    h.startWorker(S);
    expect((await h.waitForFinal(S, pendingSwitch.id)).status).toBe("finished");
    const again = await h.schedulerManager.patchScheduler(S, { roomsReplicas: 2 });
    await finishVersionChange(again);
    expect(await versions()).toEqual(["v1.1.0*", "v1.0.0"]);
  });

  it("switchActiveVersion answers not_found for a missing version; a queued switch to one fails clearly", async () => {
    await setUp();
    const err = await caught(() => h.schedulerManager.switchActiveVersion(S, "v9.0.0"));
    expect(isMaestroError(err, "not_found")).toBe(true);
    expect(err.message).toContain("v9.0.0");
    expect(
      isMaestroError(await caught(() => h.schedulerManager.switchActiveVersion("nope", "v1.0.0")), "not_found"),
    ).toBe(true);

    // Enqueued directly, as if the version vanished between the request and the run.
    const op = await h.operationManager.enqueue(S, "switch_active_version", { newActiveVersion: "v9.0.0" });
    const done = await h.waitForFinal(S, op.id);
    expect(done.status).toBe("error");
    expect(events(done)).toContain(`Operation execution failed: version v9.0.0 of scheduler ${S} does not exist`);
    expect(await versions()).toEqual(["v1.0.0*"]);
  });

  it("operation inputs are checked before they are queued", async () => {
    await setUp();
    const bad = await caught(() =>
      h.operationManager.enqueue(S, "create_new_scheduler_version", { scheduler: { name: S } }),
    );
    expect(isMaestroError(bad, "invalid_argument")).toBe(true);
    expect(bad.violations.map((v) => v.field)).toEqual(
      expect.arrayContaining(["scheduler.spec", "scheduler.createdAt"]),
    );
    const noVersion = await caught(() => h.operationManager.enqueue(S, "switch_active_version", {}));
    expect(isMaestroError(noVersion, "invalid_argument")).toBe(true);
  });

  /**
   * A version change the API accepted whose worker stopped mid-way (killed, or cut off past its lease): the takeover's
   * recovery must make the requested version active, once. It used to end `error`, leaving a stored version inactive
   * when the worker stopped after storing it; run again from the start it would have stored a second, higher version.
   */
  describe("whose worker stopped mid-way", () => {
    /** The takeover: recovery of what the killed worker left; the running worker then takes what it re-queued. */
    async function takeOver(op: Operation): Promise<Operation> {
      const recovered = await h.recoverAbandoned(S);
      expect(recovered.requeued).toContain(op.id);
      return (await finishVersionChange(await h.waitForFinal(S, op.id))).create;
    }

    afterEach(() => installFailpoints(undefined));

    const ranked = (scheduler: Scheduler) => {
      const next = structuredClone(scheduler);
      next.spec.containers[0]!.environment = [{ name: "GAME_MODE", value: "ranked" }];
      return next;
    };

    it("a major version stored before the worker died: made active once validated, no second version, no second validation", async () => {
      const scheduler = await setUp();
      const { pinged } = pingValidationRooms(S);
      const op = await h.acceptedOperation(S, "create_new_scheduler_version", {
        scheduler: schedulerToJson(ranked(scheduler)),
      });
      await h.runAsStoppedWorker(op, { point: "create_new_scheduler_version/version-stored" });
      expect(await versions()).toEqual(["v2.0.0", "v1.0.0*"]);

      const done = await takeOver(op);
      expect(await versions()).toEqual(["v2.0.0*", "v1.0.0"]);
      const active = await h.schedulers.getScheduler(S);
      expect(active).toMatchObject({ state: "in-sync", rollbackVersion: "v1.0.0" });
      expect(active.spec.containers[0]!.environment).toEqual([{ name: "GAME_MODE", value: "ranked" }]);
      expect(pinged.size).toBe(1);
      expect(events(done)).toContain("version v2.0.0 was stored by an earlier run of this operation");
      await noValidationRoomLeft();
    });

    it("a minor version stored before the worker died: switched at once, no second version", async () => {
      const scheduler = await setUp();
      const op = await h.acceptedOperation(S, "create_new_scheduler_version", {
        scheduler: schedulerToJson({ ...scheduler, roomsReplicas: 3 }),
      });
      await h.runAsStoppedWorker(op, { point: "create_new_scheduler_version/version-stored" });

      await takeOver(op);
      expect(await versions()).toEqual(["v1.1.0*", "v1.0.0"]);
      expect(await h.schedulers.getScheduler(S)).toMatchObject({ state: "in-sync", roomsReplicas: 3 });
    });

    it("a major version whose worker died during validation: its room removed, validated again, stored once and made active", async () => {
      const scheduler = await setUp();
      const { pinged } = pingValidationRooms(S);
      const op = await h.acceptedOperation(S, "create_new_scheduler_version", {
        scheduler: schedulerToJson(ranked(scheduler)),
      });
      await h.runAsStoppedWorker(op, { point: "validation/room-settled" });
      const [left] = (await h.rooms.listRooms(S)).filter((r) => r.isValidationRoom);
      expect(left).toBeDefined();

      await takeOver(op);
      expect(await versions()).toEqual(["v2.0.0*", "v1.0.0"]);
      expect(pinged.size).toBe(2);
      expect(await h.rooms.getRoom(S, left!.id)).toBeUndefined();
      await noValidationRoomLeft();
    });

    it("a switch whose worker died after switching: finished, the version active and the scheduler in-sync", async () => {
      const scheduler = await setUp();
      await h.schedulers.createSchedulerVersion({
        ...scheduler,
        roomsReplicas: 3,
        spec: { ...scheduler.spec, version: "v1.1.0" },
      });
      const op = await h.acceptedOperation(S, "switch_active_version", { newActiveVersion: "v1.1.0" });
      await h.runAsStoppedWorker(op, { point: "switch_active_version/switched" });

      await h.recoverAbandoned(S);
      const done = await h.waitForFinal(S, op.id);
      expect(done.status, events(done).join("\n")).toBe("finished");
      expect(await versions()).toEqual(["v1.1.0*", "v1.0.0"]);
      expect(await h.schedulers.getScheduler(S)).toMatchObject({ state: "in-sync", roomsReplicas: 3 });
      expect(events(done)).toContain("active version v1.1.0 was switched by an earlier run of this operation");
    });
  });
});
