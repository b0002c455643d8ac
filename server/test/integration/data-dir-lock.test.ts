import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockDataDir } from "../../src/adapters/security/data-dir-lock.js";
import { MaestroError } from "../../src/core/errors.js";

describe("data directory lock", () => {
  it("refuses a second holder while the first lives, and frees on release", async () => {
    const dir = await mkdtemp(join(tmpdir(), "maestro-lock-"));
    const first = await lockDataDir(dir);
    expect((await readFile(join(dir, "maestro.pid"), "utf8")).trim()).toBe(`${process.pid} ${startTime(process.pid)}`);
    // A live process other than us holding the lock: our parent process stands in for another server.
    await writeFile(join(dir, "maestro.pid"), `${process.ppid} ${startTime(process.ppid)}\n`);
    const err = await lockDataDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaestroError);
    expect((err as MaestroError).code).toBe("failed_precondition");
    expect((err as MaestroError).message).toContain(`pid ${process.ppid}`);
    await first.release();
    const again = await lockDataDir(dir);
    await again.release();
  });

  it("takes over a lock left by a process that no longer exists", async () => {
    const dir = await mkdtemp(join(tmpdir(), "maestro-lock-"));
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    await writeFile(join(dir, "maestro.pid"), `${dead}\n`);
    const lock = await lockDataDir(dir);
    expect((await readFile(join(dir, "maestro.pid"), "utf8")).trim()).toBe(`${process.pid} ${startTime(process.pid)}`);
    await lock.release();
  });

  // Issue 16, finding 9: a live pid is not enough to hold the lock.
  it("takes over a lock whose pid now belongs to another process (pid reuse)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "maestro-lock-"));
    // Our parent lives, but it started at another time than the holder the file names.
    await writeFile(join(dir, "maestro.pid"), `${process.ppid} 1\n`);
    const lock = await lockDataDir(dir);
    await lock.release();
  });

  it("takes over at once from a holder killed with -9 that is not reaped yet (a zombie)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "maestro-lock-"));
    // The background child exits at once; its parent then execs sleep, which never reaps it.
    const parent = spawn("sh", ["-c", "sleep 0.01 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const pid = Number(
        await new Promise<string>((resolve) => parent.stdout.once("data", (b: Buffer) => resolve(String(b)))),
      );
      const start = startTime(pid);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readFileSync(`/proc/${pid}/stat`, "utf8")).toMatch(/\) Z /);
      await writeFile(join(dir, "maestro.pid"), `${pid} ${start}\n`);
      const lock = await lockDataDir(dir);
      await lock.release();
    } finally {
      parent.kill("SIGKILL");
    }
  });
});

function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}
