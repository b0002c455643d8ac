import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const PID_FILE = "pids";

/** What a restarted server needs to find and stop a room left behind by a crashed one. */
export interface PidRecord {
  schedulerName: string;
  roomId: string;
  graceSeconds: number;
  processes: { container: string; pid: number; startTime?: string | undefined }[];
}

export async function writePidFile(roomDir: string, record: PidRecord): Promise<void> {
  // Written then renamed so that a crash mid-write never leaves a half record the reaper cannot parse.
  const path = join(roomDir, PID_FILE);
  await writeFile(`${path}.tmp`, JSON.stringify(record));
  await rename(`${path}.tmp`, path);
}

export async function readPidFile(roomDir: string): Promise<PidRecord | undefined> {
  let text: string;
  try {
    text = await readFile(join(roomDir, PID_FILE), "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<PidRecord>;
    if (!Array.isArray(parsed.processes)) return undefined;
    return {
      schedulerName: String(parsed.schedulerName ?? ""),
      roomId: String(parsed.roomId ?? ""),
      graceSeconds: Number(parsed.graceSeconds ?? 0),
      processes: parsed.processes.filter((p) => Number.isInteger(p?.pid) && p.pid > 0),
    };
  } catch {
    return undefined;
  }
}

export async function removePidFile(roomDir: string): Promise<void> {
  await rm(join(roomDir, PID_FILE), { force: true });
}
