import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MaestroError } from "../../core/errors.js";

/**
 * One server per data directory: two would share an embedded database and each would stop the other's rooms as
 * leftovers. The lock is a pid file; a lock whose process is gone is stale and taken over.
 */
export async function lockDataDir(dataDir: string): Promise<{ release(): Promise<void> }> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, "maestro.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: "wx" });
      return { release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw MaestroError.from(err);
    }
    const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new MaestroError(
        "failed_precondition",
        `data directory ${dataDir} is in use by another maestro (pid ${holder}); stop it or choose --data-dir`,
      );
    }
    await rm(path, { force: true });
  }
  throw new MaestroError("failed_precondition", `could not lock data directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
