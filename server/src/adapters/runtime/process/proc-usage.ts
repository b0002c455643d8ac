import { readdirSync, readFileSync } from "node:fs";

/**
 * USER_HZ: the unit of /proc/<pid>/stat times. Linux reports them in 1/100 s on every architecture Node runs on
 * (the kernel converts from its internal HZ), and Node has no sysconf to ask.
 */
const TICKS_PER_SECOND = 100;

/** CPU time (seconds, user + system) and resident memory (bytes) of every live process in some process groups. */
export interface GroupTotals {
  cpuSeconds: number;
  rssBytes: number;
  /** Seconds since boot at which the oldest member started, to average over a group's life on a first sample. */
  startedAtUptime: number;
}

/** Reads /proc once and sums, per process group, the CPU time and RSS of its members; groups without one are absent. */
export function readGroupTotals(pgids: ReadonlySet<number>, procDir = "/proc"): Map<number, GroupTotals> {
  const totals = new Map<number, GroupTotals>();
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return totals;
  }
  for (const entry of entries) {
    const c = entry.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const stat = readStat(`${procDir}/${entry}/stat`);
    if (!stat || !pgids.has(stat.pgrp) || stat.state === "Z" || stat.state === "X") continue;
    const rss = readRssBytes(`${procDir}/${entry}/status`);
    const t = totals.get(stat.pgrp) ?? { cpuSeconds: 0, rssBytes: 0, startedAtUptime: Number.POSITIVE_INFINITY };
    t.cpuSeconds += (stat.utime + stat.stime) / TICKS_PER_SECOND;
    t.rssBytes += rss;
    t.startedAtUptime = Math.min(t.startedAtUptime, stat.startTicks / TICKS_PER_SECOND);
    totals.set(stat.pgrp, t);
  }
  return totals;
}

/** Seconds since boot (first field of /proc/uptime). */
export function readUptimeSeconds(procDir = "/proc"): number | undefined {
  try {
    const value = Number(readFileSync(`${procDir}/uptime`, "utf8").split(" ")[0]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

interface Stat {
  state: string;
  pgrp: number;
  utime: number;
  stime: number;
  startTicks: number;
}

/** Parses /proc/<pid>/stat; fields are counted after the command name, which may hold spaces and parentheses. */
export function parseStat(text: string): Stat | undefined {
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state) of proc(5): field n is fields[n - 3].
  const stat = {
    state: fields[0] ?? "",
    pgrp: Number(fields[2]),
    utime: Number(fields[11]),
    stime: Number(fields[12]),
    startTicks: Number(fields[19]),
  };
  return [stat.pgrp, stat.utime, stat.stime, stat.startTicks].every(Number.isFinite) ? stat : undefined;
}

function readStat(path: string): Stat | undefined {
  try {
    return parseStat(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** VmRSS of /proc/<pid>/status (kB there); 0 for kernel threads and exiting processes, which have none. */
export function parseRssBytes(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

function readRssBytes(path: string): number {
  try {
    return parseRssBytes(readFileSync(path, "utf8"));
  } catch {
    return 0;
  }
}
