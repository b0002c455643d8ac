import { readdirSync, readFileSync } from "node:fs";

/**
 * Signals a whole process group (rooms are spawned detached, so the leader's pid is the group id). Returns false when
 * the group no longer exists.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

interface ProcStat {
  state: string;
  pgrp: number;
  startTime: string;
}

function readProcStat(pid: number | string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name may contain spaces and parentheses; the fields we want follow the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = fields[19];
  if (state === undefined || startTime === undefined || !Number.isInteger(pgrp)) return undefined;
  return { state, pgrp, startTime };
}

const hasProc = (() => {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
})();

const isDead = (state: string) => state === "Z" || state === "X";

/**
 * The kernel's start time of a process (clock ticks since boot), used to recognise a pid that was reused by an
 * unrelated process after a crash. Undefined where /proc is unavailable or the process is gone.
 */
export function processStartTime(pid: number): string | undefined {
  const stat = readProcStat(pid);
  return stat && !isDead(stat.state) ? stat.startTime : undefined;
}

/** Whether a process runs; a zombie counts as dead because init in a container may never reap it. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  if (!hasProc) return true;
  const stat = readProcStat(pid);
  return stat !== undefined && !isDead(stat.state);
}

/**
 * Whether any member of the process group still runs. Orphaned members are reparented to init, which in a container
 * may never reap them, so zombies are ignored by scanning /proc when it exists.
 */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  if (!hasProc) return true;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = readProcStat(entry);
    if (stat && stat.pgrp === pgid && !isDead(stat.state)) return true;
  }
  return false;
}
