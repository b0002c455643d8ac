import { describe, expect, it } from "vitest";
import { MemoryScalePoints } from "../../src/adapters/storage/memory/index.js";
import { Autoscaler } from "../../src/core/autoscaling/autoscaler.js";
import {
  currentUtilization,
  MetricsTriggersPolicy,
  pointsToKeep,
} from "../../src/core/autoscaling/metrics-triggers/metrics-triggers-policy.js";
import { roomsSnapshot } from "../../src/core/autoscaling/policy.js";
import type { RoomUsage } from "../../src/core/entities/room-usage.js";
import type { MetricsTriggers, Scheduler } from "../../src/core/entities/scheduler.js";
import { gameRoom, validScheduler } from "../support/fixtures.js";

/**
 * The policy around decideTriggers: points recorded per run, the shared cooldown timestamp, v9's bugs done as v9
 * meant, through the Autoscaler as the health controller calls it.
 */

const PERIOD_MS = 10_000;
const T0 = Date.UTC(2026, 0, 4, 12, 0, 0);

function setup(params: MetricsTriggers, usage: () => RoomUsage[] = () => [], overrides: Partial<Scheduler> = {}) {
  const points = new MemoryScalePoints();
  const policy = new MetricsTriggersPolicy(PERIOD_MS, { points, usage: async () => usage() });
  const autoscaler = new Autoscaler([policy]);
  const scheduler = validScheduler({
    name: "mt",
    state: "in-sync",
    createdAt: new Date(T0 - 3600_000),
    autoscaling: {
      enabled: true,
      min: 1,
      max: 20,
      cooldown: 0,
      policy: { type: "metricsTriggers", parameters: { metricsTriggers: params } },
    },
    ...overrides,
  } as never);
  /** One health-controller run with `occupied` of `total` rooms in use, at T0 + seconds. */
  const run = async (occupied: number, total: number, seconds: number, s: Scheduler = scheduler) => {
    const rooms = Array.from({ length: total }, (_, i) =>
      gameRoom({
        id: `r${i}`,
        schedulerName: "mt",
        status: i < occupied ? "occupied" : "ready",
        runningMatches: i < occupied ? 1 : 0,
      }),
    );
    const d = await autoscaler.evaluate(s, rooms, total, new Date(T0 + seconds * 1000), {});
    return { ...d, delta: d.desired - total };
  };
  return { points, scheduler, run };
}

describe("MetricsTriggersPolicy", () => {
  it("records one point per run and fires once more than threshold% of the window's points pass usage", async () => {
    const { points, run } = setup({
      up: { cooldown: 0, triggers: [{ type: "room", usage: 50, threshold: 50, time: 40 }] },
    });
    // capacity 4: fires when more than 2 points are above 0.5 (3 × 100 > 50 × 4).
    expect((await run(4, 5, 0)).delta).toBe(0);
    expect((await run(4, 5, 10)).delta).toBe(0);
    const fired = await run(4, 5, 20);
    expect(fired.delta).toBe(3);
    expect(fired.reason).toMatch(/up trigger 0 \(room\)/);
    expect((await points.points("mt", "room", 10)).map((p) => p.value)).toEqual([0.8, 0.8, 0.8]);
  });

  it("adds no point for a run closer than half a period to the previous one", async () => {
    const { points, run } = setup({
      up: { cooldown: 0, triggers: [{ type: "room", usage: 50, threshold: 50, time: 40 }] },
    });
    await run(1, 5, 0);
    await run(4, 5, 1);
    await run(4, 5, 4.9);
    expect((await points.points("mt", "room", 10)).map((p) => p.value)).toEqual([0.2]);
  });

  it("starts both cooldowns from the last trigger scale, once the health controller enqueued it", async () => {
    const { points, run } = setup({
      up: { cooldown: 30, triggers: [{ type: "room", usage: 50, threshold: 0, time: 10 }] },
      down: { cooldown: 60, triggers: [{ type: "room", usage: 30, threshold: 0, time: 10 }] },
    });
    const up = await run(4, 5, 0);
    expect(up.delta).toBe(3);
    await up.scaled?.({});
    expect(await points.lastScaleAt("mt")).toEqual(new Date(T0));
    // 20 s later: up cooling down (30 s); and the down trigger must wait for it.
    expect((await run(4, 5, 20)).delta).toBe(0);
    expect((await run(4, 5, 31)).delta).toBe(3);
    // Idle: down waits 60 s from the same timestamp.
    const idle = setup({ down: { cooldown: 60, triggers: [{ type: "room", usage: 30, threshold: 0, time: 10 }] } });
    await idle.points.setLastScaleAt("mt", new Date(T0));
    expect((await idle.run(0, 8, 59)).delta).toBe(0);
    expect((await idle.run(0, 8, 61)).delta).toBeLessThan(0);
  });

  it("decides nothing while the scheduler is being created or deleted, but records the point", async () => {
    const { points, run, scheduler } = setup({
      up: { cooldown: 0, triggers: [{ type: "room", usage: 50, threshold: 0, time: 10 }] },
    });
    const d = await run(5, 5, 0, { ...scheduler, state: "creating" });
    expect(d.delta).toBe(0);
    expect(d.reason).toBe("scheduler is creating");
    expect(await points.points("mt", "room", 10)).toHaveLength(1);
  });

  it("weighs cpu over the rooms' requests, from the runtime's usage", async () => {
    const usage = (cpu: number[]) =>
      cpu.map((c, i) => ({
        roomId: `r${i}`,
        cpuMillicores: c,
        memoryBytes: 0,
        cpuRequestMillicores: 100,
        memoryRequestBytes: 0,
        sampledAt: new Date(T0),
      }));
    let now = usage([300, 0]);
    const { run } = setup(
      { up: { cooldown: 0, triggers: [{ type: "cpu", usage: 50, threshold: 0, time: 10, limit: 1000 }] } },
      () => now,
    );
    // 300m over 200m requested = 1.5; ratio 3 → ⌈3 · 2⌉ − 2 = 4.
    expect((await run(0, 2, 0)).delta).toBe(4);
    now = [];
    // Unmeasured rooms: no cpu point and no decision.
    expect((await run(0, 2, 10)).delta).toBe(0);
  });
});

describe("MetricsTriggersPolicy when the runtime cannot measure", () => {
  it("still acts on room triggers", async () => {
    const { run } = setup(
      {
        up: {
          cooldown: 0,
          triggers: [
            { type: "cpu", usage: 50, threshold: 0, time: 10 },
            { type: "room", usage: 50, threshold: 0, time: 10 },
          ],
        },
      },
      () => {
        throw new Error("kubelet unreachable");
      },
    );
    const d = await run(4, 5, 0);
    expect(d.delta).toBe(3);
    expect(d.reason).toMatch(/up trigger 1 \(room\)/);
  });
});

describe("v9's bugs, done as v9 meant", () => {
  it("a down trigger's shorter time does not shorten the list an up trigger needs", () => {
    const params: MetricsTriggers = {
      up: { cooldown: 0, triggers: [{ type: "room", usage: 50, threshold: 80, time: 1200 }] },
      down: { cooldown: 0, triggers: [{ type: "room", usage: 30, threshold: 80, time: 100 }] },
    };
    // v9 kept ⌊100 / 10⌋ + 1 = 11 points here, so the up trigger (120 points) could never reach its threshold.
    expect(pointsToKeep(params, 10).room).toBe(121);
  });

  it("an up trigger with the longer window still fires on its threshold", async () => {
    const { run } = setup({
      up: { cooldown: 0, triggers: [{ type: "room", usage: 50, threshold: 80, time: 200, limit: 100 }] },
      down: { cooldown: 0, triggers: [{ type: "room", usage: 10, threshold: 80, time: 20 }] },
    });
    // 20 points of 0.8: 2000 > 80 × 20 on the 20th run.
    let last = 0;
    for (let i = 0; i < 20; i++) last = (await run(4, 5, i * 10)).delta;
    expect(last).toBe(3);
  });

  it("room usage at zero available rooms is 0, not NaN", () => {
    const u = currentUtilization(roomsSnapshot({}), 0, []);
    expect(u.room).toBe(0);
    expect(u.cpu).toBeUndefined();
  });
});
