import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Scheduler } from "../../src/core/entities/scheduler.js";
import { type ErrorCode, isMaestroError } from "../../src/core/errors.js";
import type { SchedulerStorage } from "../../src/core/ports/scheduler-storage.js";
import { validScheduler } from "../support/fixtures.js";

/**
 * The SchedulerStorage contract. The factory is called once per suite; every test uses scheduler names (and games)
 * of its own, so adapters backed by a shared database need no cleanup between tests.
 */
export function schedulerStorageContract(name: string, factory: () => SchedulerStorage | Promise<SchedulerStorage>) {
  describe(`SchedulerStorage contract: ${name}`, () => {
    let storage: SchedulerStorage;

    beforeAll(async () => {
      storage = await factory();
    });

    afterAll(async () => {
      await storage?.close();
    });

    describe("createScheduler / getScheduler", () => {
      it("returns what was created, every field included", async () => {
        const scheduler = fullScheduler(uniqueName());
        await storage.createScheduler(scheduler);
        expect(await storage.getScheduler(scheduler.name)).toEqual(scheduler);
        expect(await storage.getSchedulerVersion(scheduler.name, "v1.0.0")).toEqual(scheduler);
      });

      it("keeps a per-port hostPortRange scheduler without portRange", async () => {
        const scheduler = validScheduler({ name: uniqueName(), portRange: undefined });
        scheduler.spec.containers[0]!.ports = [
          { name: "game", protocol: "udp", port: 7000, hostPortRange: { start: 30000, end: 30010 } },
        ];
        await storage.createScheduler(scheduler);
        const stored = await storage.getScheduler(scheduler.name);
        expect(stored).toEqual(scheduler);
        expect(stored.portRange).toBeUndefined();
      });

      it("keeps a plugin policy's custom parameters as given, nested JSON included", async () => {
        const custom = { spare: 3, ratio: 0.25, tiers: [{ name: "eu", weight: 2 }], flags: { warm: true, note: null } };
        const scheduler = validScheduler({
          name: uniqueName(),
          autoscaling: {
            enabled: true,
            min: 1,
            max: 10,
            cooldown: 0,
            policy: { type: "spareRooms", parameters: { custom } },
          },
        });
        await storage.createScheduler(scheduler);
        const stored = await storage.getScheduler(scheduler.name);
        expect(stored).toEqual(scheduler);
        expect(stored.autoscaling?.policy.parameters.custom).toEqual(custom);
      });

      it("rejects a second scheduler with the same name as already_exists and keeps the first", async () => {
        const name = uniqueName();
        await storage.createScheduler(validScheduler({ name, game: "first" }));
        await expectCode(storage.createScheduler(validScheduler({ name, game: "second" })), "already_exists");
        expect((await storage.getScheduler(name)).game).toBe("first");
        expect(await storage.listVersions(name)).toHaveLength(1);
      });

      it("lets exactly one of several concurrent creates of one name win", async () => {
        const name = uniqueName();
        const results = await Promise.allSettled(
          [1, 2, 3, 4].map((n) => storage.createScheduler(validScheduler({ name, roomsReplicas: n }))),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results) {
          if (r.status === "rejected") expect(isMaestroError(r.reason, "already_exists")).toBe(true);
        }
        expect(await storage.listVersions(name)).toHaveLength(1);
      });

      it("throws not_found for an unknown scheduler or version", async () => {
        const name = uniqueName();
        await expectCode(storage.getScheduler(name), "not_found");
        await expectCode(storage.getSchedulerVersion(name, "v1.0.0"), "not_found");
        await storage.createScheduler(validScheduler({ name }));
        await expectCode(storage.getSchedulerVersion(name, "v9.0.0"), "not_found");
      });

      it("does not share objects with the caller", async () => {
        const scheduler = validScheduler({ name: uniqueName(), labels: { team: "a" } });
        await storage.createScheduler(scheduler);
        scheduler.labels["team"] = "changed";
        scheduler.spec.containers[0]!.image = "changed";
        const first = await storage.getScheduler(scheduler.name);
        expect(first.labels).toEqual({ team: "a" });
        expect(first.spec.containers[0]!.image).toBe("local");
        first.spec.containers[0]!.image = "mutated-read";
        first.createdAt.setTime(0);
        const second = await storage.getScheduler(scheduler.name);
        expect(second.spec.containers[0]!.image).toBe("local");
        expect(second.createdAt.getTime()).not.toBe(0);
      });
    });

    describe("createSchedulerVersion", () => {
      it("adds a version that is stored but not active", async () => {
        const name = uniqueName();
        const v1 = validScheduler({ name, createdAt: at(1) });
        const v2 = validScheduler({
          name,
          spec: { version: "v2.0.0", terminationGracePeriodSeconds: 30 },
          rollbackVersion: "v1.0.0",
          createdAt: at(2),
        });
        await storage.createScheduler(v1);
        await storage.createSchedulerVersion(v2);
        expect((await storage.getScheduler(name)).spec.version).toBe("v1.0.0");
        const stored = await storage.getSchedulerVersion(name, "v2.0.0");
        expect(stored.spec.terminationGracePeriodSeconds).toBe(30);
        expect(stored.rollbackVersion).toBe("v1.0.0");
        expect(stored.createdAt).toEqual(at(2));
        expect(await storage.listVersions(name)).toEqual([
          { version: "v2.0.0", isActive: false, createdAt: at(2) },
          { version: "v1.0.0", isActive: true, createdAt: at(1) },
        ]);
      });

      it("throws already_exists for an existing version and keeps the stored one", async () => {
        const name = uniqueName();
        await storage.createScheduler(validScheduler({ name, roomsReplicas: 1 }));
        await expectCode(storage.createSchedulerVersion(validScheduler({ name, roomsReplicas: 9 })), "already_exists");
        expect((await storage.getSchedulerVersion(name, "v1.0.0")).roomsReplicas).toBe(1);
      });

      it("throws not_found when the scheduler does not exist", async () => {
        const name = uniqueName();
        await expectCode(storage.createSchedulerVersion(validScheduler({ name })), "not_found");
        await expectCode(storage.getScheduler(name), "not_found");
      });
    });

    describe("switchActiveVersion", () => {
      it("makes another version the active one", async () => {
        const name = uniqueName();
        await storage.createScheduler(validScheduler({ name, roomsReplicas: 1, createdAt: at(1) }));
        await storage.createSchedulerVersion(
          validScheduler({ name, spec: { version: "v1.1.0" }, roomsReplicas: 5, createdAt: at(2) }),
        );
        await storage.switchActiveVersion(name, "v1.1.0");
        const active = await storage.getScheduler(name);
        expect(active.spec.version).toBe("v1.1.0");
        expect(active.roomsReplicas).toBe(5);
        expect(active.createdAt).toEqual(at(2));
        expect((await storage.listVersions(name)).map((v) => [v.version, v.isActive])).toEqual([
          ["v1.1.0", true],
          ["v1.0.0", false],
        ]);
        await storage.switchActiveVersion(name, "v1.0.0");
        expect((await storage.getScheduler(name)).roomsReplicas).toBe(1);
      });

      it("keeps the scheduler-wide state and lastDownscaleAt across a switch", async () => {
        const name = uniqueName();
        await storage.createScheduler(validScheduler({ name, state: "creating" }));
        await storage.createSchedulerVersion(validScheduler({ name, spec: { version: "v2.0.0" }, state: "creating" }));
        const current = await storage.getScheduler(name);
        await storage.updateScheduler({ ...current, state: "in-sync", lastDownscaleAt: at(50) });
        await storage.switchActiveVersion(name, "v2.0.0");
        const active = await storage.getScheduler(name);
        expect(active.spec.version).toBe("v2.0.0");
        expect(active.state).toBe("in-sync");
        expect(active.lastDownscaleAt).toEqual(at(50));
      });

      it("throws not_found for an unknown scheduler or version and changes nothing", async () => {
        const name = uniqueName();
        await expectCode(storage.switchActiveVersion(name, "v1.0.0"), "not_found");
        await storage.createScheduler(validScheduler({ name }));
        await expectCode(storage.switchActiveVersion(name, "v3.0.0"), "not_found");
        expect((await storage.getScheduler(name)).spec.version).toBe("v1.0.0");
      });
    });

    describe("updateScheduler", () => {
      it("rewrites the stored fields of a version in place without creating a version", async () => {
        const name = uniqueName();
        const created = validScheduler({ name, state: "creating", createdAt: at(7) });
        await storage.createScheduler(created);
        const updated: Scheduler = {
          ...created,
          state: "in-sync",
          roomsReplicas: 12,
          lastDownscaleAt: at(99),
          labels: { env: "prod" },
          autoscaling: {
            enabled: true,
            min: 1,
            max: -1,
            cooldown: 30,
            policy: { type: "fixedBuffer", parameters: { fixedBuffer: { amount: 3 } } },
          },
        };
        await storage.updateScheduler(updated);
        expect(await storage.getScheduler(name)).toEqual(updated);
        expect(await storage.listVersions(name)).toEqual([{ version: "v1.0.0", isActive: true, createdAt: at(7) }]);
      });

      it("clears optional fields that the update leaves out", async () => {
        const name = uniqueName();
        const created = fullScheduler(name);
        await storage.createScheduler(created);
        await storage.updateScheduler({ ...created, lastDownscaleAt: undefined, autoscaling: undefined });
        const stored = await storage.getScheduler(name);
        expect(stored.lastDownscaleAt).toBeUndefined();
        expect(stored.autoscaling).toBeUndefined();
      });

      it("updates a non-active version without touching the active one", async () => {
        const name = uniqueName();
        await storage.createScheduler(validScheduler({ name, roomsReplicas: 1 }));
        const v2 = validScheduler({ name, spec: { version: "v2.0.0" }, roomsReplicas: 2 });
        await storage.createSchedulerVersion(v2);
        await storage.updateScheduler({ ...v2, roomsReplicas: 20 });
        expect((await storage.getSchedulerVersion(name, "v2.0.0")).roomsReplicas).toBe(20);
        const active = await storage.getScheduler(name);
        expect(active.spec.version).toBe("v1.0.0");
        expect(active.roomsReplicas).toBe(1);
      });

      it("throws not_found for an unknown scheduler or version", async () => {
        const name = uniqueName();
        await expectCode(storage.updateScheduler(validScheduler({ name })), "not_found");
        await expectCode(storage.getScheduler(name), "not_found");
        await storage.createScheduler(validScheduler({ name }));
        await expectCode(storage.updateScheduler(validScheduler({ name, spec: { version: "v4.0.0" } })), "not_found");
        expect(await storage.listVersions(name)).toHaveLength(1);
      });
    });

    describe("listVersions", () => {
      it("orders versions newest first by creation time, whatever the insertion order", async () => {
        const name = uniqueName();
        await storage.createScheduler(validScheduler({ name, createdAt: at(10) }));
        await storage.createSchedulerVersion(validScheduler({ name, spec: { version: "v3.0.0" }, createdAt: at(30) }));
        await storage.createSchedulerVersion(validScheduler({ name, spec: { version: "v2.0.0" }, createdAt: at(20) }));
        expect((await storage.listVersions(name)).map((v) => v.version)).toEqual(["v3.0.0", "v2.0.0", "v1.0.0"]);
      });

      it("orders versions created within the same millisecond by creation order", async () => {
        const name = uniqueName();
        const sameInstant = at(500);
        await storage.createScheduler(validScheduler({ name, createdAt: sameInstant }));
        for (const version of ["v1.1.0", "v1.2.0", "v2.0.0", "v1.3.0"]) {
          await storage.createSchedulerVersion(validScheduler({ name, spec: { version }, createdAt: sameInstant }));
        }
        expect((await storage.listVersions(name)).map((v) => v.version)).toEqual([
          "v1.3.0",
          "v2.0.0",
          "v1.2.0",
          "v1.1.0",
          "v1.0.0",
        ]);
      });

      it("throws not_found for an unknown scheduler", async () => {
        await expectCode(storage.listVersions(uniqueName()), "not_found");
      });
    });

    describe("listSchedulers / listSchedulerNames", () => {
      it("lists active schedulers ordered by name and filters by name, game and active version", async () => {
        const game = `game-${randomUUID()}`;
        const prefix = uniqueName();
        const [b, a, c] = [`${prefix}-b`, `${prefix}-a`, `${prefix}-c`];
        await storage.createScheduler(validScheduler({ name: b, game }));
        await storage.createScheduler(validScheduler({ name: a, game }));
        await storage.createScheduler(validScheduler({ name: c, game: `${game}-other` }));
        await storage.createSchedulerVersion(validScheduler({ name: a, game, spec: { version: "v2.0.0" } }));
        await storage.createSchedulerVersion(validScheduler({ name: b, game, spec: { version: "v2.0.0" } }));
        await storage.switchActiveVersion(b, "v2.0.0");

        const byGame = await storage.listSchedulers({ game });
        expect(byGame.map((s) => [s.name, s.spec.version])).toEqual([
          [a, "v1.0.0"],
          [b, "v2.0.0"],
        ]);
        expect(byGame[1]).toEqual(await storage.getScheduler(b));
        expect((await storage.listSchedulers({ name: c })).map((s) => s.name)).toEqual([c]);
        expect((await storage.listSchedulers({ game, version: "v2.0.0" })).map((s) => s.name)).toEqual([b]);
        expect((await storage.listSchedulers({ game, version: "v1.0.0" })).map((s) => s.name)).toEqual([a]);
        expect(await storage.listSchedulers({ name: a, game: `${game}-other` })).toEqual([]);
        expect(await storage.listSchedulers({ game: `${game}-none` })).toEqual([]);

        const all = (await storage.listSchedulers()).map((s) => s.name);
        expect(all.filter((n) => n.startsWith(prefix))).toEqual([a, b, c]);
        expect(all).toEqual([...all].sort(codeUnitOrder));
      });

      it("lists every scheduler name in name order", async () => {
        const prefix = uniqueName();
        const names = [`${prefix}-2`, `${prefix}-10`, `${prefix}-1`, `${prefix}0`];
        for (const name of names) await storage.createScheduler(validScheduler({ name }));
        const listed = await storage.listSchedulerNames();
        expect(listed.filter((n) => n.startsWith(prefix))).toEqual([...names].sort(codeUnitOrder));
        expect(listed).toEqual([...listed].sort(codeUnitOrder));
      });
    });

    describe("deleteScheduler", () => {
      it("removes the scheduler and every version", async () => {
        const name = uniqueName();
        await storage.createScheduler(validScheduler({ name }));
        await storage.createSchedulerVersion(validScheduler({ name, spec: { version: "v2.0.0" } }));
        await storage.deleteScheduler(name);
        await expectCode(storage.getScheduler(name), "not_found");
        await expectCode(storage.getSchedulerVersion(name, "v2.0.0"), "not_found");
        await expectCode(storage.listVersions(name), "not_found");
        expect(await storage.listSchedulerNames()).not.toContain(name);
        expect(await storage.listSchedulers({ name })).toEqual([]);

        await storage.createScheduler(validScheduler({ name, game: "reborn" }));
        expect((await storage.listVersions(name)).map((v) => v.version)).toEqual(["v1.0.0"]);
        expect((await storage.getScheduler(name)).game).toBe("reborn");
      });

      it("throws not_found for an unknown scheduler", async () => {
        await expectCode(storage.deleteScheduler(uniqueName()), "not_found");
      });
    });

    it("rejects calls with an aborted signal as canceled", async () => {
      const name = uniqueName();
      await storage.createScheduler(validScheduler({ name }));
      const signal = AbortSignal.abort();
      await expectCode(storage.getScheduler(name, { signal }), "canceled");
      await expectCode(storage.listSchedulers({}, { signal }), "canceled");
      await expectCode(storage.createScheduler(validScheduler({ name: uniqueName() }), { signal }), "canceled");
      await expectCode(storage.deleteScheduler(name, { signal }), "canceled");
      expect((await storage.getScheduler(name)).name).toBe(name);
    });
  });
}

/** A scheduler with every optional field set, to check nothing is lost on the way through storage. */
export function fullScheduler(name: string): Scheduler {
  return validScheduler({
    name,
    game: "full-game",
    state: "in-sync",
    spec: {
      version: "v1.0.0",
      terminationGracePeriodSeconds: 42,
      toleration: "dedicated",
      affinity: "game-nodes",
      restartPolicy: "OnFailure",
      containers: [
        {
          name: "game",
          image: "registry.local/game:1.2.3",
          imagePullPolicy: "Always",
          command: ["./server", "--port", "7000"],
          environment: [
            { name: "PLAIN", value: "1" },
            { name: "FROM_FIELD", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            { name: "FROM_SECRET", valueFrom: { secretKeyRef: { name: "secret", key: "token" } } },
          ],
          requests: { memory: "100Mi", cpu: "100m" },
          limits: { memory: "200Mi", cpu: "1" },
          ports: [
            { name: "game", protocol: "udp", port: 7000 },
            { name: "admin", protocol: "tcp", port: 7001 },
          ],
        },
        {
          name: "sidecar",
          image: "registry.local/sidecar:1",
          imagePullPolicy: "IfNotPresent",
          command: [],
          environment: [],
          requests: { memory: "10Mi", cpu: "10m" },
          limits: { memory: "20Mi", cpu: "20m" },
          ports: [],
        },
      ],
    },
    portRange: { start: 40000, end: 40100 },
    maxSurge: "3",
    roomsReplicas: 7,
    autoscaling: {
      enabled: true,
      min: 2,
      max: 50,
      cooldown: 60,
      policy: { type: "roomOccupancy", parameters: { roomOccupancy: { readyTarget: 0.3, downThreshold: 0.99 } } },
    },
    forwarders: [
      {
        name: "matchmaker",
        enable: true,
        type: "gRPC",
        address: "127.0.0.1:9090",
        options: { timeout: 1500, metadata: { region: "sa", nested: { list: [1, "two", null, true] } } },
      },
    ],
    annotations: { "maestro.io/owner": "team-a" },
    labels: { env: "test", "tier.io/level": "gold" },
    matchAllocation: { maxMatches: 4 },
    rollbackVersion: "v0.9.0",
    createdAt: new Date("2026-03-04T05:06:07.891Z"),
    lastDownscaleAt: new Date("2026-03-05T00:00:00.123Z"),
  });
}

function uniqueName(): string {
  return `sch-${randomUUID().slice(0, 18)}`;
}

function at(seconds: number): Date {
  return new Date(Date.UTC(2026, 0, 1) + seconds * 1000 + 123);
}

function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a MaestroError ${code}`).toSatisfy((e: unknown) => isMaestroError(e, code));
}
