import type { Dirent } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../../core/ports/logger.js";
import { type PidRecord, readPidFile } from "./pid-file.js";
import { isGroupAlive, processStartTime, signalGroup } from "./process-group.js";
import { pollUntil } from "./wait.js";

/** Longest a leftover room gets between SIGTERM and SIGKILL, whatever its grace was. */
const MAX_REAP_GRACE_MS = 5_000;
/** How long to wait for the kernel to remove SIGKILLed processes before giving up on them. */
const KILL_WAIT_MS = 5_000;

/**
 * Stops rooms a previous server process left running (it crashed or was killed before closing its runtime): every
 * `<dataDir>/<scheduler>/<room>/pids` names process groups to stop. The room directories are removed afterwards.
 * Returns how many rooms were found.
 */
export async function reapLeftovers(dataDir: string, logger: Pick<Logger, "info" | "warn">): Promise<number> {
  const roomDirs: string[] = [];
  for (const scheduler of await subdirectories(dataDir)) {
    for (const room of await subdirectories(join(dataDir, scheduler))) roomDirs.push(join(dataDir, scheduler, room));
  }
  const found = await Promise.all(
    roomDirs.map(async (roomDir) => {
      const record = await readPidFile(roomDir);
      if (!record) return false;
      const stillRunning = await stopGroups(record);
      if (stillRunning.length > 0) {
        logger.warn({ room: record.roomId, pids: stillRunning }, "leftover room processes survived SIGKILL");
      }
      await rm(roomDir, { recursive: true, force: true });
      logger.info({ scheduler: record.schedulerName, room: record.roomId }, "stopped room left by a previous server");
      return true;
    }),
  );
  return found.filter(Boolean).length;
}

async function subdirectories(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/** SIGTERM, then SIGKILL after the room's grace (capped); returns the groups still alive at the end. */
async function stopGroups(record: PidRecord): Promise<number[]> {
  const groups = record.processes.filter((p) => isOurs(p)).map((p) => p.pid);
  const alive = () => groups.filter(isGroupAlive);
  for (const pgid of alive()) signalGroup(pgid, "SIGTERM");
  const graceMs = Math.min(Math.max(record.graceSeconds, 0) * 1000, MAX_REAP_GRACE_MS);
  if (await pollUntil(() => alive().length === 0, graceMs)) return [];
  for (const pgid of alive()) signalGroup(pgid, "SIGKILL");
  await pollUntil(() => alive().length === 0, KILL_WAIT_MS);
  return alive();
}

/**
 * A pid whose process started at another time than the recorded one was reused by something else after the crash
 * (e.g. a reboot): never signal it. The kernel does not reuse a pid while it still names a live process group, so a
 * dead leader with living group members is still ours.
 */
function isOurs(p: PidRecord["processes"][number]): boolean {
  const now = processStartTime(p.pid);
  if (p.startTime !== undefined && now !== undefined && now !== p.startTime) return false;
  return isGroupAlive(p.pid);
}
