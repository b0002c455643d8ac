import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseRssBytes, parseStat, readGroupTotals } from "../../src/adapters/runtime/process/proc-usage.js";
import { RoomUsageSampler } from "../../src/adapters/runtime/process/room-usage-sampler.js";

// Real lines from a Linux 6.x /proc (a node room whose command name holds a space and parentheses).
const statOf = (pid: number, pgrp: number, utime: number, stime: number, state = "S", start = 5000) =>
  `${pid} (node (room) x) ${state} 1 ${pgrp} ${pgrp} 0 -1 4194560 2815 0 0 0 ${utime} ${stime} 0 0 20 0 11 0 ${start} 1146454016 12345 18446744073709551615 1 1 0 0 0 0 0 16781312 134234626 0 0 0 17 1 0 0 0 0 0\n`;
const statusOf = (rssKb: number) =>
  `Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t 1119584 kB\nVmSize:\t 1119584 kB\nVmRSS:\t   ${rssKb} kB\nRssAnon:\t   30000 kB\nThreads:\t11\n`;

describe("/proc parsing", () => {
  it("reads state, group, CPU ticks and start time after a command name with spaces and parentheses", () => {
    expect(parseStat(statOf(4242, 4240, 150, 50))).toEqual({
      state: "S",
      pgrp: 4240,
      utime: 150,
      stime: 50,
      startTicks: 5000,
    });
  });

  it("reads VmRSS in bytes, and 0 for a kernel thread that has none", () => {
    expect(parseRssBytes(statusOf(49152))).toBe(49152 * 1024);
    expect(parseRssBytes("Name:\tkthreadd\nState:\tS (sleeping)\n")).toBe(0);
  });
});

describe("room usage from a /proc tree", () => {
  let proc: string;
  const put = async (pid: number, stat: string, status: string) => {
    await mkdir(join(proc, String(pid)), { recursive: true });
    await writeFile(join(proc, String(pid), "stat"), stat);
    await writeFile(join(proc, String(pid), "status"), status);
  };

  beforeEach(async () => {
    proc = await mkdtemp(join(tmpdir(), "maestro-proc-"));
    await writeFile(join(proc, "uptime"), "150.00 290.00\n");
    await put(100, statOf(100, 100, 300, 100), statusOf(40_000));
    await put(101, statOf(101, 100, 80, 20), statusOf(20_000));
    await put(102, statOf(102, 100, 999, 999, "Z"), statusOf(0));
    await put(200, statOf(200, 200, 10, 0), statusOf(30_000));
    await writeFile(join(proc, "self"), "");
  });
  afterEach(async () => {
    await rm(proc, { recursive: true, force: true });
  });

  it("sums the live members of each group, skipping zombies and other groups", () => {
    const totals = readGroupTotals(new Set([100]), proc);
    expect([...totals.keys()]).toEqual([100]);
    expect(totals.get(100)).toEqual({ cpuSeconds: 5, rssBytes: 60_000 * 1024, startedAtUptime: 50 });
  });

  it("averages a room's first reading over its life, then rates CPU between readings", async () => {
    const sampler = new RoomUsageSampler(proc);
    const rooms = [{ id: "r1", pgids: [100] }];
    // 5 s of CPU over the 100 s since the group started (uptime 150, started at 50): 50 millicores.
    expect(sampler.sample("s", rooms, 0).get("r1")).toEqual({ cpuMillicores: 50, memoryBytes: 60_000 * 1024 });
    await put(100, statOf(100, 100, 400, 150), statusOf(40_000));
    // 1.5 s more CPU in 2 s: 750 millicores.
    expect(sampler.sample("s", rooms, 2000).get("r1")?.cpuMillicores).toBe(750);
    // Asked again within a second: the previous rate, not a jumpy short window.
    await put(100, statOf(100, 100, 500, 150), statusOf(40_000));
    expect(sampler.sample("s", rooms, 2500).get("r1")?.cpuMillicores).toBe(750);
  });

  it("leaves out a room whose processes are gone", () => {
    const sampler = new RoomUsageSampler(proc);
    expect(sampler.sample("s", [{ id: "gone", pgids: [999] }], 0).size).toBe(0);
  });
});
