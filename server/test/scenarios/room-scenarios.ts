import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, type TestMaestro } from "../support/test-maestro.js";

/** A room as GET /schedulers/:name/rooms lists it. */
export interface ListedRoom {
  id: string;
  status: string;
  version: string;
  isValidationRoom: boolean;
  instanceStatus: string;
  instanceStatusDescription: string;
  host: string;
  ports: { name: string; port: number; protocol: string }[];
}

/** What a runtime shows of one room: a pod, a process. */
export interface RoomArtefact {
  id: string;
  /** The scheduler version the artefact was made for, when the runtime records it (a pod's label). */
  version?: string | undefined;
}

/** What differs between runtimes; everything else about a scenario is the same on each. */
export interface RuntimeDriver {
  /** Starts Maestro on this runtime, with intervals short enough for a test. */
  start(): Promise<TestMaestro>;
  /** Rooms of the "normal" schedulers in every scenario (scale goes to rooms + 2, then rooms − 1). */
  rooms: number;
  /** Whether the rooms ping by themselves, or the test must ping on their behalf (kwok runs no code). */
  roomsPingThemselves: boolean;
  /** A container whose rooms become ready; a different `image` makes a new major version. */
  container(image: string): Record<string, unknown>;
  /** A container whose rooms can never start. */
  brokenContainer(): Record<string, unknown>;
  /** How the runtime describes the broken container's failure (the room's instanceStatusDescription). */
  brokenDescription: RegExp;
  /** The scheduler's rooms whose artefact is up (a Running pod, a live process). */
  liveRooms(maestro: TestMaestro, scheduler: string): Promise<RoomArtefact[]>;
  /** Ends one room from outside Maestro, as a crash or an operator would (delete the pod, SIGKILL the process). */
  killRoom(maestro: TestMaestro, scheduler: string, roomId: string): Promise<void>;
  /** Whether the scheduler's own artefact (namespace, rooms directory) exists. */
  schedulerArtefactExists(maestro: TestMaestro, scheduler: string): Promise<boolean>;
  /** Prefix of the scheduler names, so suites on one cluster or machine do not meet. */
  prefix: string;
  wait: { timeoutMs: number; intervalMs: number };
}

/** What roomScenarios gives the runtime's own extra checks, run against the same Maestro. */
export interface ScenarioContext {
  readonly maestro: TestMaestro;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  rooms(scheduler: string): Promise<ListedRoom[]>;
  /** A create-scheduler body of `replicas` rooms running the driver's container. */
  body(name: string, replicas: number, image?: string): Record<string, unknown>;
  /** Creates a scheduler whose rooms become ready (pinged for, if the runtime needs it) and deleted at the end. */
  createScheduler(name: string, replicas: number): Promise<void>;
  /** Waits for exactly `n` ready rooms, each with a live artefact, none other. */
  readyRooms(scheduler: string, n: number, version?: string): Promise<ListedRoom[]>;
}

/**
 * The room lifecycle every runtime must get right, written once: `driver` says how this runtime starts Maestro, kills
 * a room from outside and shows its artefacts. `extra` adds the runtime's own checks against the same Maestro.
 */
export function roomScenarios(name: string, driver: RuntimeDriver, extra?: (ctx: ScenarioContext) => void): void {
  describe(name, () => {
    let maestro: TestMaestro;
    const created = new Set<string>();
    /** Schedulers whose rooms the test pings for, when they cannot ping themselves. */
    const pinged = new Set<string>();
    let pinging = true;
    let pinger: Promise<void> | undefined;
    const WAIT = driver.wait;
    /** A scenario waits at most a few times for the runtime. */
    const TEST_TIMEOUT = WAIT.timeoutMs * 4;

    const api = (method: string, path: string, body?: unknown) => http(maestro.managementUrl, method, path, body);
    const rooms = async (scheduler: string): Promise<ListedRoom[]> =>
      (await api("GET", `/schedulers/${scheduler}/rooms`)).json.rooms ?? [];
    const body = (scheduler: string, replicas: number, image = "game:1", container = driver.container(image)) =>
      schedulerBody(scheduler, {
        roomsReplicas: replicas,
        portRange: { start: 20000, end: 29999 },
        spec: { terminationGracePeriod: "1s", containers: [container] },
      });
    const readyRooms = (scheduler: string, n: number, version?: string) =>
      eventually(
        async () => {
          const all = await rooms(scheduler);
          const ready = all.filter((r) => r.status === "ready" && !r.isValidationRoom);
          const live = await driver.liveRooms(maestro, scheduler);
          const versionsOk =
            version === undefined ||
            (ready.every((r) => r.version === version) &&
              live.every((a) => a.version === undefined || a.version === version));
          const sameIds = live.length === n && ready.every((r) => live.some((a) => a.id === r.id));
          return ready.length === n && all.length === n && sameIds && versionsOk ? ready : undefined;
        },
        {
          ...WAIT,
          what: `${n} ready rooms of ${scheduler}, each with a live artefact${version ? `, at ${version}` : ""}`,
        },
      );
    const createScheduler = async (scheduler: string, replicas: number) => {
      created.add(scheduler);
      if (!driver.roomsPingThemselves) pinged.add(scheduler);
      const res = await api("POST", "/schedulers", body(scheduler, replicas));
      expect(res.status, JSON.stringify(res.json)).toBe(200);
    };

    beforeAll(async () => {
      maestro = await driver.start();
      if (driver.roomsPingThemselves) return;
      // Every room of the pinged schedulers says "ready", with its own token, every 300 ms, as a game server would.
      pinger = (async () => {
        while (pinging) {
          for (const scheduler of pinged) {
            for (const room of await rooms(scheduler).catch(() => [] as ListedRoom[])) {
              if (room.status === "terminating" || room.status === "terminated") continue;
              const token = maestro.context.tokens.tokenFor(scheduler, room.id);
              await http(
                maestro.roomsUrl,
                "PUT",
                `/scheduler/${scheduler}/rooms/${room.id}/ping`,
                { status: "ready", timestamp: Date.now() },
                { authorization: `Bearer ${token}` },
              ).catch(() => undefined);
            }
          }
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
    });

    afterAll(async () => {
      pinging = false;
      await pinger;
      for (const scheduler of created) await api("DELETE", `/schedulers/${scheduler}`).catch(() => undefined);
      await maestro?.stop();
    }, TEST_TIMEOUT);

    it(
      "create → every room ready with its artefact; scale up and down",
      async () => {
        const scheduler = `${driver.prefix}-scale`;
        const n = driver.rooms;
        await createScheduler(scheduler, n);
        await readyRooms(scheduler, n);
        expect(await driver.schedulerArtefactExists(maestro, scheduler)).toBe(true);

        expect((await api("PATCH", `/schedulers/${scheduler}`, { roomsReplicas: n + 2 })).status).toBe(200);
        await readyRooms(scheduler, n + 2);
        expect((await api("PATCH", `/schedulers/${scheduler}`, { roomsReplicas: n - 1 })).status).toBe(200);
        await readyRooms(scheduler, n - 1);
      },
      TEST_TIMEOUT,
    );

    it(
      "a major version replaces every room",
      async () => {
        const scheduler = `${driver.prefix}-major`;
        const n = driver.rooms;
        await createScheduler(scheduler, n);
        const before = await readyRooms(scheduler, n, "v1.0.0");

        const res = await api("POST", `/schedulers/${scheduler}`, body(scheduler, n, "game:2"));
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        const after = await readyRooms(scheduler, n, "v2.0.0");
        expect(after.filter((r) => before.some((b) => b.id === r.id))).toEqual([]);
      },
      TEST_TIMEOUT,
    );

    it(
      "a room killed from outside is noticed and replaced",
      async () => {
        const scheduler = `${driver.prefix}-kill`;
        const n = driver.rooms;
        await createScheduler(scheduler, n);
        const ready = await readyRooms(scheduler, n);
        const victim = ready[0]!.id;
        await driver.killRoom(maestro, scheduler, victim);

        const replaced = await eventually(
          async () => {
            const now = await rooms(scheduler);
            const live = await driver.liveRooms(maestro, scheduler);
            const readyNow = now.filter((r) => r.status === "ready");
            const gone = !now.some((r) => r.id === victim) && !live.some((a) => a.id === victim);
            return gone && readyNow.length === n && live.length === n ? readyNow : undefined;
          },
          { ...WAIT, what: `the killed room ${victim} to be replaced` },
        );
        expect(replaced.map((r) => r.id)).not.toContain(victim);
        // The survivors were left alone.
        for (const r of ready.slice(1)) expect(replaced.map((x) => x.id)).toContain(r.id);
      },
      TEST_TIMEOUT,
    );

    it(
      "a room that cannot start shows error",
      async () => {
        const scheduler = `${driver.prefix}-broken`;
        created.add(scheduler);
        const res = await api("POST", "/schedulers", body(scheduler, 1, "game:1", driver.brokenContainer()));
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        const errored = await eventually(
          async () =>
            (await rooms(scheduler)).find(
              (r) => r.status === "error" && driver.brokenDescription.test(r.instanceStatusDescription),
            ),
          { ...WAIT, what: `a room of ${scheduler} in error, described as ${driver.brokenDescription}` },
        );
        expect(errored.instanceStatus).toBe("error");
        expect((await driver.liveRooms(maestro, scheduler)).map((a) => a.id)).not.toContain(errored.id);
      },
      TEST_TIMEOUT,
    );

    it(
      "deleting a scheduler removes every room and its artefacts",
      async () => {
        const scheduler = `${driver.prefix}-delete`;
        const n = driver.rooms;
        await createScheduler(scheduler, n);
        await readyRooms(scheduler, n);
        expect(await driver.schedulerArtefactExists(maestro, scheduler)).toBe(true);

        expect((await api("DELETE", `/schedulers/${scheduler}`)).status).toBe(200);
        pinged.delete(scheduler);
        created.delete(scheduler);
        await eventually(async () => (await api("GET", `/schedulers/${scheduler}`)).status === 404, {
          ...WAIT,
          what: "the scheduler to be gone",
        });
        await eventually(async () => (await driver.liveRooms(maestro, scheduler)).length === 0, {
          ...WAIT,
          what: "no room artefact left",
        });
        await eventually(async () => !(await driver.schedulerArtefactExists(maestro, scheduler)), {
          ...WAIT,
          what: "the scheduler's artefact to be gone",
        });
        expect((await api("GET", `/schedulers/${scheduler}/rooms`)).json.rooms ?? []).toEqual([]);
      },
      TEST_TIMEOUT,
    );

    extra?.({
      get maestro() {
        return maestro;
      },
      api,
      rooms,
      body: (scheduler, replicas, image) => body(scheduler, replicas, image),
      createScheduler,
      readyRooms,
    });
  });
}
