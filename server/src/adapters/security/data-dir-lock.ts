import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MaestroError } from "../../core/errors.js";
import { isProcessAlive, processStartTime } from "../runtime/process/process-group.js";

/**
 * One server per data directory: two would share an embedded database and each would stop the other's rooms as
 * leftovers. The lock is a file naming the holder by pid and kernel start time: a pid alone is not an identity (after
 * a crash it may belong to anything), and a holder killed with -9 is a zombie until reaped, which counts as gone.
 */
export async function lockDataDir(dataDir: string): Promise<{ release(): Promise<void> }> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, "maestro.pid");
  const self = `${process.pid} ${processStartTime(process.pid) ?? "?"}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, self, { flag: "wx", mode: 0o600 });
      return { release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw MaestroError.from(err);
    }
    const holder = parseHolder(await readFile(path, "utf8").catch(() => ""));
    if (holder && holder.pid !== process.pid && holds(holder)) {
      throw new MaestroError(
        "failed_precondition",
        `data directory ${dataDir} is in use by another maestro (pid ${holder.pid}); stop it or choose --data-dir`,
      );
    }
    await rm(path, { force: true });
  }
  throw new MaestroError("failed_precondition", `could not lock data directory ${dataDir}`);
}

interface Holder {
  pid: number;
  /** Undefined in lock files written before start times were recorded. */
  startTime?: string | undefined;
}

function parseHolder(text: string): Holder | undefined {
  const [pidText, startTime] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, startTime: startTime === undefined || startTime === "?" ? undefined : startTime };
}

function holds(holder: Holder): boolean {
  if (!isProcessAlive(holder.pid)) return false;
  if (holder.startTime === undefined) return true;
  // Where /proc is missing the start time cannot be read and the live pid is all there is to go on.
  const now = processStartTime(holder.pid);
  return now === undefined || now === holder.startTime;
}
