import { readGroupTotals, readUptimeSeconds } from "./proc-usage.js";

/** A room's processes and what its containers request, as the sampler needs them. */
export interface SampledRoom {
  id: string;
  pgids: readonly number[];
}

export interface ProcessRoomUsage {
  cpuMillicores: number;
  memoryBytes: number;
}

/** Shorter windows make the CPU rate jumpy; callers asking sooner get the previous rate again. */
const MIN_WINDOW_MS = 1000;

/**
 * CPU rate and memory of process rooms from /proc. CPU is a rate, so it needs two readings: each room keeps its last
 * reading, and a room read for the first time gets its average since its processes started.
 */
export class RoomUsageSampler {
  private readonly bySchedulers = new Map<string, Map<string, Reading>>();

  constructor(private readonly procDir = "/proc") {}

  /** Usage of the scheduler's live rooms; rooms whose processes are all gone are left out. */
  sample(schedulerName: string, rooms: readonly SampledRoom[], nowMs: number): Map<string, ProcessRoomUsage> {
    const last = this.bySchedulers.get(schedulerName) ?? new Map<string, Reading>();
    this.bySchedulers.set(schedulerName, last);
    const pgids = new Set(rooms.flatMap((r) => r.pgids));
    const totals = readGroupTotals(pgids, this.procDir);
    const uptime = readUptimeSeconds(this.procDir);
    const out = new Map<string, ProcessRoomUsage>();
    for (const room of rooms) {
      let cpuSeconds = 0;
      let rssBytes = 0;
      let startedAt = Number.POSITIVE_INFINITY;
      let seen = false;
      for (const pgid of room.pgids) {
        const t = totals.get(pgid);
        if (!t) continue;
        seen = true;
        cpuSeconds += t.cpuSeconds;
        rssBytes += t.rssBytes;
        startedAt = Math.min(startedAt, t.startedAtUptime);
      }
      if (!seen) continue;
      const prev = last.get(room.id);
      let cpuMillicores: number;
      if (prev && nowMs - prev.atMs < MIN_WINDOW_MS) {
        out.set(room.id, { cpuMillicores: prev.usage.cpuMillicores, memoryBytes: rssBytes });
        continue;
      }
      if (prev) cpuMillicores = ((cpuSeconds - prev.cpuSeconds) / ((nowMs - prev.atMs) / 1000)) * 1000;
      else {
        const lifetime = uptime !== undefined ? uptime - startedAt : 0;
        cpuMillicores = lifetime > 0 ? (cpuSeconds / lifetime) * 1000 : 0;
      }
      const usage = { cpuMillicores: Math.max(0, Math.round(cpuMillicores)), memoryBytes: rssBytes };
      last.set(room.id, { cpuSeconds, atMs: nowMs, usage });
      out.set(room.id, usage);
    }
    // Rooms gone since the previous call leave nothing behind.
    const live = new Set(rooms.map((r) => r.id));
    for (const id of last.keys()) if (!live.has(id)) last.delete(id);
    if (last.size === 0) this.bySchedulers.delete(schedulerName);
    return out;
  }
}

interface Reading {
  cpuSeconds: number;
  atMs: number;
  usage: ProcessRoomUsage;
}
