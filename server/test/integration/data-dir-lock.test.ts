import { spawnSync } from "node:child_process";
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
    expect((await readFile(join(dir, "maestro.pid"), "utf8")).trim()).toBe(String(process.pid));
    // A live process other than us holding the lock: our parent process stands in for another server.
    await writeFile(join(dir, "maestro.pid"), `${process.ppid}\n`);
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
    expect((await readFile(join(dir, "maestro.pid"), "utf8")).trim()).toBe(String(process.pid));
    await lock.release();
  });
});
