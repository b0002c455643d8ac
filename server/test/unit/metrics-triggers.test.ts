import { describe, expect, it } from "vitest";
import {
  decideTriggers,
  type TriggerInput,
  triggerDelta,
  triggerFires,
} from "../../src/core/autoscaling/metrics-triggers/decide.js";
import type { MetricsTrigger, MetricsTriggers } from "../../src/core/entities/scheduler.js";

/**
 * Maestro v9's autoscaler table (watcher_test.go, autoscaler_test.go, scale_info_test.go) on decideTriggers. Points
 * are built as v9's MockGetUsages built them: `capacity` points, the given share at usage + 0.1, the rest at
 * usage − 0.1. "cool" = last scale older than every cooldown, "hot" = last scale now. Period 10 s.
 */

const NOW = Date.UTC(2026, 0, 4, 12, 0, 0);
const COOL = NOW - 3600_000;
const HOT = NOW;
const GiB = 2 ** 30;

/** capacity points for `trigger`, `share` of them beyond its usage in `direction`. */
function mockPoints(trigger: MetricsTrigger, share: number, direction: "up" | "down"): number[] {
  const capacity = Math.floor(trigger.time / 10);
  const beyond = Math.round(capacity * share);
  const u = trigger.usage / 100;
  const far = direction === "up" ? u + 0.1 : u - 0.1;
  const near = direction === "up" ? u - 0.1 : u + 0.1;
  return [...Array(beyond).fill(far), ...Array(capacity - beyond).fill(near)];
}

const room = (t: Partial<MetricsTrigger>): MetricsTrigger => ({
  type: "room",
  usage: 50,
  threshold: 80,
  time: 200,
  ...t,
});

// Config R (yamlWithRoomMetricsTrigger): min 2, max 20.
const R: MetricsTriggers = {
  up: { cooldown: 30, triggers: [room({ usage: 50, limit: 90 })] },
  down: { cooldown: 60, triggers: [room({ usage: 30 })] },
};
// Config L (yaml1): min 2, unbounded.
const L: MetricsTriggers = {
  up: { cooldown: 200, triggers: [{ type: "legacy", usage: 60, time: 100, threshold: 80, delta: 2, limit: 90 }] },
  down: { cooldown: 500, triggers: [{ type: "legacy", usage: 30, time: 500, threshold: 80, delta: 1 }] },
};
// A v9 legacy single `trigger` as maestroctl apply maps it: a room trigger with v9's defaults for time and threshold.
const single: MetricsTriggers = {
  up: { cooldown: 30, triggers: [room({ usage: 50, limit: 85, time: 600 })] },
  down: { cooldown: 600, triggers: [room({ usage: 80, limit: 90, time: 600 })] },
};
const cpu = (t: Partial<MetricsTrigger> = {}): MetricsTrigger => ({ ...room(t), type: "cpu" });
const mem = (t: Partial<MetricsTrigger> = {}): MetricsTrigger => ({ ...room(t), type: "memory" });
// Config C (yamlWithCPUAndMemoryMetricsTrigger): requests 1000m / 1Gi, min 2, max 20.
const C: MetricsTriggers = {
  up: { cooldown: 30, triggers: [cpu(), mem()] },
  down: { cooldown: 60, triggers: [mem({ usage: 30 }), cpu({ usage: 30 })] },
};

interface Row {
  n: number;
  params: MetricsTriggers;
  /** occupied / ready (no creating or terminating rooms in v9's rows). */
  o: number;
  r: number;
  min: number;
  max: number;
  last: number;
  utilization?: TriggerInput["utilization"];
  points?: TriggerInput["points"];
  expected: number;
}

const upRoom = R.up?.triggers[0] as MetricsTrigger;
const downRoom = R.down?.triggers[0] as MetricsTrigger;
const upL = L.up?.triggers[0] as MetricsTrigger;
const downL = L.down?.triggers[0] as MetricsTrigger;

const rows: Row[] = [
  {
    n: 1,
    params: R,
    o: 4,
    r: 1,
    min: 2,
    max: 20,
    last: COOL,
    points: { room: mockPoints(upRoom, 0.9, "up") },
    expected: 3,
  },
  {
    n: 2,
    params: R,
    o: 4,
    r: 1,
    min: 2,
    max: 20,
    last: COOL,
    points: { room: mockPoints(upRoom, 0.75, "up") },
    expected: 0,
  },
  {
    n: 3,
    params: R,
    o: 12,
    r: 2,
    min: 2,
    max: 20,
    last: COOL,
    points: { room: mockPoints(upRoom, 0.9, "up") },
    expected: 6,
  },
  {
    n: 4,
    params: R,
    o: 19,
    r: 1,
    min: 2,
    max: 20,
    last: COOL,
    points: { room: mockPoints(upRoom, 0.95, "up") },
    expected: 0,
  },
  {
    n: 5,
    params: R,
    o: 6,
    r: 2,
    min: 2,
    max: 20,
    last: HOT,
    points: { room: mockPoints(upRoom, 0.85, "up") },
    expected: 0,
  },
  { n: 6, params: R, o: 10, r: 1, min: 2, max: 20, last: HOT, expected: 9 },
  { n: 7, params: R, o: 0, r: 1, min: 2, max: 20, last: HOT, expected: 1 },
  {
    n: 8,
    params: R,
    o: 1,
    r: 4,
    min: 2,
    max: 20,
    last: COOL,
    points: { room: mockPoints(downRoom, 0.9, "down") },
    expected: -2,
  },
  {
    n: 9,
    params: R,
    o: 1,
    r: 4,
    min: 2,
    max: 20,
    last: COOL,
    points: { room: mockPoints(downRoom, 0.25, "down") },
    expected: 0,
  },
  {
    n: 10,
    params: R,
    o: 1,
    r: 1,
    min: 2,
    max: 20,
    last: COOL,
    points: { room: mockPoints(downRoom, 0.9, "down") },
    expected: 0,
  },
  {
    n: 11,
    params: R,
    o: 1,
    r: 4,
    min: 4,
    max: 20,
    last: COOL,
    points: { room: mockPoints(downRoom, 0.9, "down") },
    expected: -1,
  },
  {
    n: 12,
    params: R,
    o: 1,
    r: 8,
    min: 2,
    max: 20,
    last: HOT,
    points: { room: mockPoints(downRoom, 0.9, "down") },
    expected: 0,
  },
  { n: 13, params: R, o: 20, r: 3, min: 2, max: 20, last: COOL, expected: -3 },
  {
    n: 14,
    params: L,
    o: 2,
    r: 1,
    min: 2,
    max: -1,
    last: COOL,
    points: { room: mockPoints(upL, 0.9, "up") },
    expected: 2,
  },
  {
    n: 15,
    params: L,
    o: 2,
    r: 1,
    min: 2,
    max: -1,
    last: HOT,
    points: { room: mockPoints(upL, 0.9, "up") },
    expected: 0,
  },
  { n: 16, params: L, o: 9, r: 1, min: 2, max: -1, last: HOT, expected: 2 },
  {
    n: 17,
    params: { ...L, up: { cooldown: 200, triggers: [{ ...upL, limit: 70 }] } },
    o: 7,
    r: 3,
    min: 3,
    max: -1,
    last: HOT,
    expected: 2,
  },
  {
    n: 18,
    params: L,
    o: 2,
    r: 100,
    min: 2,
    max: -1,
    last: COOL,
    points: { room: mockPoints(downL, 0.9, "down") },
    expected: -1,
  },
  { n: 19, params: L, o: 2, r: 4, min: 2, max: -1, last: COOL, points: { room: Array(50).fill(0.45) }, expected: 0 },
  { n: 20, params: L, o: 0, r: 1, min: 2, max: -1, last: COOL, expected: 1 },
  {
    n: 22,
    params: single,
    o: 4,
    r: 1,
    min: 2,
    max: 10,
    last: COOL,
    points: { room: mockPoints(single.up?.triggers[0] as MetricsTrigger, 0.9, "up") },
    expected: 3,
  },
  { n: 23, params: single, o: 7, r: 1, min: 2, max: 10, last: HOT, expected: 2 },
  {
    n: 24,
    params: C,
    o: 4,
    r: 1,
    min: 2,
    max: 20,
    last: COOL,
    utilization: { cpu: 0.6 },
    points: { cpu: mockPoints(cpu(), 0.9, "up") },
    expected: 1,
  },
  {
    n: 25,
    params: C,
    o: 12,
    r: 2,
    min: 2,
    max: 20,
    last: COOL,
    utilization: { cpu: 0.8 },
    points: { cpu: mockPoints(cpu(), 0.9, "up") },
    expected: 6,
  },
  {
    n: 25,
    params: C,
    o: 12,
    r: 2,
    min: 2,
    max: 20,
    last: COOL,
    utilization: { memory: 800e6 / GiB },
    points: { memory: mockPoints(mem(), 0.9, "up") },
    expected: 6,
  },
  { n: 26, params: C, o: 10, r: 1, min: 2, max: 20, last: HOT, utilization: { cpu: 0.98 }, expected: 9 },
  { n: 26, params: C, o: 10, r: 1, min: 2, max: 20, last: HOT, utilization: { memory: 980e6 / GiB }, expected: 9 },
  {
    n: 27,
    params: C,
    o: 6,
    r: 2,
    min: 2,
    max: 20,
    last: HOT,
    utilization: { cpu: 0.85 },
    points: { cpu: mockPoints(cpu(), 0.9, "up") },
    expected: 0,
  },
  {
    n: 28,
    params: C,
    o: 1,
    r: 4,
    min: 2,
    max: 20,
    last: COOL,
    utilization: { cpu: 0.2 },
    points: { cpu: mockPoints(cpu({ usage: 30 }), 0.9, "down") },
    expected: -1,
  },
  {
    n: 29,
    params: C,
    o: 1,
    r: 4,
    min: 4,
    max: 20,
    last: COOL,
    utilization: { cpu: 0.1 },
    points: { cpu: mockPoints(cpu({ usage: 30 }), 0.9, "down") },
    expected: -1,
  },
];

function input(row: Row): TriggerInput {
  const available = row.o + row.r;
  return {
    available,
    inUse: row.o,
    min: row.min,
    max: row.max,
    params: row.params,
    utilization: { room: available > 0 ? row.o / available : 0, ...row.utilization },
    points: row.points ?? {},
    periodSeconds: 10,
    nowMs: NOW,
    lastScaleAtMs: row.last,
  };
}

describe("metricsTriggers: Maestro v9's autoscaler table", () => {
  it.each(rows.map((r) => [r.n, r] as const))("row %i", (_n, row) => {
    expect(decideTriggers(input(row)).delta).toBe(row.expected);
  });

  it("row 25: the unclamped deltas are v9's (cpu +9, memory +7)", () => {
    const [cpuRow, memRow] = rows.filter((r) => r.n === 25) as [Row, Row];
    expect(decideTriggers(input(cpuRow)).wanted).toBe(9);
    expect(decideTriggers(input(memRow)).wanted).toBe(7);
  });

  it("row 26: limit fires at once, unclamped cpu +11 and memory +10", () => {
    const [cpuRow, memRow] = rows.filter((r) => r.n === 26) as [Row, Row];
    expect(decideTriggers(input(cpuRow))).toMatchObject({ wanted: 11, by: { limit: true, type: "cpu" } });
    expect(decideTriggers(input(memRow))).toMatchObject({ wanted: 10, by: { limit: true, type: "memory" } });
  });

  it("row 5: an up trigger in cooldown holds the down triggers back", () => {
    const row = rows.find((r) => r.n === 5) as Row;
    const withDown = input(row);
    // Points that would fire the down trigger too, were it tried.
    withDown.params = { ...R, down: { cooldown: 0, triggers: [room({ usage: 99 })] } };
    expect(decideTriggers(withDown)).toMatchObject({ delta: 0, reason: expect.stringContaining("cooldown") });
  });

  it("the first trigger that fires wins, even when a later one wants more", () => {
    const row: Row = { ...(rows.find((r) => r.n === 25) as Row), utilization: { cpu: 0.6, memory: 0.9 } };
    row.points = { cpu: mockPoints(cpu(), 0.9, "up"), memory: mockPoints(mem(), 0.9, "up") };
    expect(decideTriggers(input(row)).by).toMatchObject({ type: "cpu" });
  });

  it("a type without usage data (no measured rooms) never fires", () => {
    const row: Row = { ...(rows.find((r) => r.n === 24) as Row), utilization: {} };
    expect(decideTriggers({ ...input(row), utilization: { room: 0.8 } }).delta).toBe(0);
  });
});

describe("metricsTriggers: v9's pure policy tests (8 occupied, 2 ready, usage 70)", () => {
  const at = { available: 10, inUse: 8 };
  const t = (type: MetricsTrigger["type"], delta?: number): MetricsTrigger => ({
    type,
    usage: 70,
    threshold: 80,
    time: 100,
    delta,
  });
  it.each([
    ["room", 0.8, 1],
    ["legacy", 0.8, 100],
    ["cpu", 0.5, -2],
    ["cpu", 0.9, 3],
    ["memory", 600e6 / GiB, -2],
    ["memory", 950e6 / GiB, 3],
  ] as const)("%s at %d: %i", (type, u, expected) => {
    expect(triggerDelta(t(type, 100), at, u)).toBe(expected);
  });
});

describe("metricsTriggers: v9's ScaleInfo threshold rule", () => {
  it("down, capacity 4, threshold 70, usage 80: 3 of [0.4, 0.9, 0.3, 0.5] below, 300 > 280, fires", () => {
    const trigger: MetricsTrigger = { type: "room", usage: 80, threshold: 70, time: 40 };
    expect(triggerFires(trigger, { points: { room: [0.4, 0.9, 0.3, 0.5] }, periodSeconds: 10 }, "down")).toBe(true);
  });
  it("capacity 10 with one point: 100 ≤ 700, does not fire (the denominator is the capacity)", () => {
    const trigger: MetricsTrigger = { type: "room", usage: 80, threshold: 70, time: 100 };
    expect(triggerFires(trigger, { points: { room: [0.5] }, periodSeconds: 10 }, "down")).toBe(false);
  });
});
