import { readdirSync, readFileSync } from "node:fs";

/**
 * Pids of live processes whose environment holds every NAME=value given (Linux /proc): how we find a scheduler's rooms.
 * Pass the rooms API address of the Maestro the test started, so rooms of another Maestro on this machine (a person's
 * quick start named my-game too) are not counted.
 */
export function pidsWithEnv(wanted: Record<string, string>): number[] {
  const needles = Object.entries(wanted).map(([name, value]) => `${name}=${value}`);
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state !== "Z" && needles.every((n) => env.includes(n))) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

export function envOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
    const eq = kv.indexOf("=");
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** The room processes of one scheduler of the Maestro whose rooms API is at `roomsUrl`. */
export function roomPids(roomsUrl: string, scheduler: string): number[] {
  return pidsWithEnv({ MAESTRO_ROOMS_API_URL: roomsUrl, MAESTRO_SCHEDULER_NAME: scheduler });
}
