import { copyFile, mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { MaestroError } from "../../../core/errors.js";

/** Below a scheduler's folder: logs of its last crashed rooms (a dot name, so no room id can take it). */
export const CRASHED_DIR = ".crashed";
/** How many crashed rooms' logs a scheduler keeps: enough to compare a few crashes, bounded on disk. */
export const CRASHED_LOGS_KEPT = 5;
/** The most of a log read back, so a runaway log cannot fill memory. */
const MAX_READ_BYTES = 1024 * 1024;

/** Scheduler names and room ids are plain names; anything else must not become a path. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Keeps the log of a room that crashed before its folder goes (a typo in the command is only visible there), dropping
 * the oldest kept logs beyond CRASHED_LOGS_KEPT.
 */
export async function keepCrashedLog(schedulerDir: string, roomId: string, roomDir: string): Promise<void> {
  const dir = join(schedulerDir, CRASHED_DIR);
  await mkdir(dir, { recursive: true });
  const name = `${roomId}.log`;
  await copyFile(join(roomDir, "room.log"), join(dir, name));
  // The one just kept stays whatever the clock says; the others go oldest first.
  const others = await Promise.all(
    (await readdir(dir))
      .filter((n) => n !== name)
      .map(async (n) => ({ name: n, mtimeMs: (await stat(join(dir, n))).mtimeMs })),
  );
  others.sort((a, b) => b.mtimeMs - a.mtimeMs);
  await Promise.all(others.slice(CRASHED_LOGS_KEPT - 1).map((f) => rm(join(dir, f.name), { force: true })));
}

/** The last lines of a live room's log, else of its kept crash log. */
export async function readRoomLog(
  dataDir: string,
  schedulerName: string,
  roomId: string,
  tailLines: number,
): Promise<{ log: string; crashed: boolean }> {
  if (!namePattern.test(schedulerName) || !namePattern.test(roomId)) {
    throw MaestroError.notFound(`log of room ${roomId}`);
  }
  const schedulerDir = join(dataDir, schedulerName);
  for (const [path, crashed] of [
    [join(schedulerDir, roomId, "room.log"), false],
    [join(schedulerDir, CRASHED_DIR, `${roomId}.log`), true],
  ] as const) {
    const text = await readTail(path).catch(() => undefined);
    if (text !== undefined) return { log: lastLines(text, tailLines), crashed };
  }
  throw MaestroError.notFound(`log of room ${roomId} (rooms that crashed keep theirs only for the last few)`);
}

async function readTail(path: string): Promise<string> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const length = Math.min(size, MAX_READ_BYTES);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    return buffer.toString("utf8");
  } finally {
    await file.close();
  }
}

/** The last `n` lines of a text, each ending with a newline. */
export function lastLines(text: string, n: number): string {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const tail = lines.slice(-n);
  return tail.length === 0 ? "" : `${tail.join("\n")}\n`;
}
