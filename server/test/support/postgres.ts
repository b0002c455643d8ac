import { execFile, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./free-port.js";

const run = promisify(execFile);

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`, trust auth. */
  url: string;
  /** SIGSTOP of the postmaster and every backend: connections stay open and nothing answers (a frozen database). */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /** Stops the server (fast shutdown) and keeps its data, so resume() brings it back on the same port. */
  halt(): Promise<void>;
  resume(): Promise<void>;
  /** Creates an empty database and returns its URL: one server, a database per test case. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL from the installed binaries: its own data directory and socket dir under a temp dir,
 * 127.0.0.1 on a free port, fsync off. Postgres refuses to run as root, so as root it runs as the `postgres` user.
 * Call once per test file (beforeAll) and stop() in afterAll.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await ensurePostgresUser() : undefined;
  const root = await mkdtemp(join(tmpdir(), "maestro-pg-"));
  if (owner !== undefined) await chown(root, owner.uid, owner.gid);
  const dataDir = join(root, "data");
  const logFile = join(root, "postgres.log");
  const asOwner = (file: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", file, ...args]) : run(file, args);

  try {
    await asOwner(join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
  } catch (e) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${errorText(e)}`);
  }

  const pgCtl = join(bin, "pg_ctl");
  const stopSync = () => {
    const args = ["-D", dataDir, "-m", "immediate", "-w", "stop"];
    spawnSync(asRoot ? "runuser" : pgCtl, asRoot ? ["-u", "postgres", "--", pgCtl, ...args] : args, {
      stdio: "ignore",
    });
  };
  // A crashed test run must not leave a postgres behind.
  process.once("exit", stopSync);

  let options = "";
  const startServer = () => asOwner(pgCtl, ["-D", dataDir, "-o", options, "-l", logFile, "-w", "-t", "60", "start"]);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${root} -c fsync=off -c full_page_writes=off`;
    try {
      await startServer();
      break;
    } catch (e) {
      // The port may have been taken between choosing and binding it; try another before giving up.
      if (attempt < 2) continue;
      const log = await readFile(logFile, "utf8").catch(() => "");
      process.removeListener("exit", stopSync);
      await rm(root, { recursive: true, force: true });
      throw new Error(`postgres did not start: ${errorText(e)}\n${log}`);
    }
  }
  let frozen: number[] = [];
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // exited meanwhile
      }
    }
  };

  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    freeze() {
      const postmaster = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      frozen = [postmaster, ...childPids(postmaster)];
      signal(frozen, "SIGSTOP");
    },
    thaw() {
      signal(frozen, "SIGCONT");
      frozen = [];
    },
    async halt() {
      signal(frozen, "SIGCONT");
      await asOwner(pgCtl, ["-D", dataDir, "-m", "fast", "-w", "stop"]);
    },
    async resume() {
      await startServer();
    },
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, "")}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      signal(frozen, "SIGCONT");
      process.removeListener("exit", stopSync);
      await asOwner(pgCtl, ["-D", dataDir, "-m", "fast", "-w", "stop"]).catch(() => stopSync());
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Direct children of a process (Linux /proc): a postmaster's backends and auxiliary processes. */
function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

function findPostgresBin(): string {
  const candidates = (process.env["PATH"] ?? "").split(delimiter).filter((dir) => dir !== "");
  const versioned = "/usr/lib/postgresql";
  if (existsSync(versioned)) {
    const versions = readdirSync(versioned)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(versioned, v, "bin")));
  }
  const found = candidates.find((dir) => ["initdb", "pg_ctl", "postgres"].every((f) => existsSync(join(dir, f))));
  if (found === undefined) {
    throw new Error(
      "PostgreSQL binaries (initdb, pg_ctl, postgres) not found on PATH or under /usr/lib/postgresql/*/bin: " +
        "run scripts/services to install postgresql",
    );
  }
  return found;
}

async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  const lookup = async () => {
    const uid = await run("id", ["-u", "postgres"]);
    const gid = await run("id", ["-g", "postgres"]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await run("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"]);
    return lookup();
  }
}

function errorText(e: unknown): string {
  const stderr = (e as { stderr?: unknown }).stderr;
  const message = e instanceof Error ? e.message : String(e);
  return typeof stderr === "string" && stderr.trim() !== "" ? `${message}\n${stderr}` : message;
}
