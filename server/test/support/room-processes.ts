import { readdirSync, readFileSync } from "node:fs";

export interface RoomProcess {
  pid: number;
  env: Record<string, string>;
}

/**
 * Live processes (Linux /proc, zombies left out) whose environment holds every given NAME=value: how a test finds
 * the rooms a process runtime started without asking the runtime itself.
 */
export function processesWithEnv(match: Record<string, string>): RoomProcess[] {
  const found: RoomProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (state === "Z") continue;
      const env = parseEnviron(readFileSync(`/proc/${entry}/environ`, "utf8"));
      if (Object.entries(match).every(([name, value]) => env[name] === value)) found.push({ pid: Number(entry), env });
    } catch {
      // the process ended while we looked, or is not ours to read
    }
  }
  return found;
}

function parseEnviron(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of text.split("\0")) {
    const eq = kv.indexOf("=");
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}
