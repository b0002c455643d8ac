// The original Maestro (Go, topfreegames/maestro) as child processes of the bench: its migrations, its rooms API and
// management API components, and rooms written into its Redis in its own key format. Read against its source at
// fa972c6: cmd/, config/config.yaml, internal/service/adapters.go, internal/adapters/storage/redis/{room,instance}.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Redis } from "ioredis";
import { freePort } from "../../server/test/support/free-port.js";

export interface MaestroGoInstall {
  bin: string;
  /** Its repository checkout: config/config.yaml and internal/service/migrations are read from it. */
  src: string;
}

/**
 * `--maestro-bin` (else MAESTRO_GO_BIN) and `--maestro-src` (else MAESTRO_GO_SRC, else `src` next to the binary, else
 * the binary's own directory: built inside its checkout).
 */
export function maestroGoInstall(argv: string[]): MaestroGoInstall | undefined {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i < 0 ? undefined : argv[i + 1];
  };
  const bin = arg("maestro-bin") ?? process.env["MAESTRO_GO_BIN"];
  if (bin === undefined || !existsSync(bin)) return undefined;
  const given = arg("maestro-src") ?? process.env["MAESTRO_GO_SRC"];
  const near = dirname(resolve(bin));
  const src = (given === undefined ? [join(near, "src"), near] : [given]).find(
    (dir) => existsSync(join(dir, "config/config.yaml")) && existsSync(join(dir, "internal/service/migrations")),
  );
  return src === undefined ? undefined : { bin: resolve(bin), src: resolve(src) };
}

export const BUILD_HELP = `vs-maestro needs the original Maestro (Go) built from source; its module is not on the Go proxy:
  git clone https://github.com/topfreegames/maestro /work/maestro-go/src
  git -C /work/maestro-go/src checkout fa972c6
  (cd /work/maestro-go/src && go build -o ../maestro .)
then pass --maestro-bin /work/maestro-go/maestro (or set MAESTRO_GO_BIN); its checkout (config/config.yaml and
internal/service/migrations) is taken from --maestro-src / MAESTRO_GO_SRC, else from "src" next to the binary or
the binary's own directory.`;

export interface GoComponent {
  name: string;
  child: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

export interface MaestroGo {
  rooms: GoComponent;
  management: GoComponent;
  stop(): Promise<void>;
}

/**
 * Its own config.yaml (the defaults it ships) with the addresses overridden by MAESTRO_* variables, which viper maps
 * to the dotted keys (`adapters.roomStorage.redis.url` → MAESTRO_ADAPTERS_ROOMSTORAGE_REDIS_URL).
 */
function environment(
  install: MaestroGoInstall,
  stores: { postgresUrl: string; redisUrl: string; kubeconfig: string },
  ports?: { api: number; internal: number },
): NodeJS.ProcessEnv {
  const redis = [
    "SCHEDULERCACHE",
    "OPERATIONSTORAGE",
    "OPERATIONFLOW",
    "OPERATIONLEASESTORAGE",
    "ROOMSTORAGE",
    "INSTANCESTORAGE",
  ].map((adapter) => [`MAESTRO_ADAPTERS_${adapter}_REDIS_URL`, stores.redisUrl]);
  return {
    PATH: process.env["PATH"],
    HOME: process.env["HOME"],
    MAESTRO_ADAPTERS_SCHEDULERSTORAGE_POSTGRES_URL: stores.postgresUrl,
    ...Object.fromEntries(redis),
    MAESTRO_ADAPTERS_RUNTIME_KUBERNETES_KUBECONFIG: stores.kubeconfig,
    MAESTRO_MIGRATION_PATH: `file://${join(install.src, "internal/service/migrations")}`,
    ...(ports && {
      MAESTRO_API_PORT: String(ports.api),
      MAESTRO_INTERNALAPI_PORT: String(ports.internal),
      // Its 30 s drain budget would only lengthen the bench's teardown.
      MAESTRO_API_GRACEFULSHUTDOWNTIMEOUT: "2s",
      MAESTRO_INTERNALAPI_GRACEFULSHUTDOWNTIMEOUT: "2s",
    }),
  };
}

/**
 * Both components build a Kubernetes client at start (the rooms API's room manager holds a runtime) but contact the
 * API server only when an operation needs it, which nothing in the bench does: a kubeconfig naming a local port where
 * nothing listens is all they get.
 */
async function writeUnreachableKubeconfig(dir: string): Promise<string> {
  const port = await freePort();
  const file = join(dir, "kubeconfig.yaml");
  writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: unused\n  cluster:\n    server: https://127.0.0.1:${port}\n    insecure-skip-tls-verify: true`,
      "contexts:",
      "- name: unused\n  context:\n    cluster: unused\n    user: unused",
      "current-context: unused",
      "users:",
      "- name: unused\n  user: {}",
      "",
    ].join("\n"),
  );
  return file;
}

/** Runs `maestro migrate`, then starts `maestro start rooms-api` and `maestro start management-api`. */
export async function startMaestroGo(
  install: MaestroGoInstall,
  stores: { postgresUrl: string; redisUrl: string },
  dir: string,
): Promise<MaestroGo> {
  const kubeconfig = await writeUnreachableKubeconfig(dir);
  const config = join(install.src, "config/config.yaml");
  const all = { ...stores, kubeconfig };
  const migrateLog = join(dir, "migrate.log");
  const out = openSync(migrateLog, "w");
  const migrate = spawn(install.bin, ["migrate", "-c", config], {
    env: environment(install, all),
    stdio: ["ignore", out, out],
  });
  const code = await new Promise<number | null>((done) => migrate.on("exit", done));
  closeSync(out);
  if (code !== 0) throw new Error(`maestro migrate exited ${code}:\n${readFileSync(migrateLog, "utf8").slice(-2000)}`);
  const rooms = await startComponent(install, "rooms-api", config, all, dir);
  try {
    const management = await startComponent(install, "management-api", config, all, dir);
    return { rooms, management, stop: async () => void (await Promise.all([rooms.stop(), management.stop()])) };
  } catch (err) {
    await rooms.stop();
    throw err;
  }
}

async function startComponent(
  install: MaestroGoInstall,
  name: string,
  config: string,
  stores: { postgresUrl: string; redisUrl: string; kubeconfig: string },
  dir: string,
): Promise<GoComponent> {
  const ports = { api: await freePort(), internal: await freePort() };
  const log = join(dir, `${name}.log`);
  const out = openSync(log, "w");
  // Its own process group, so that stop() (and a crashed bench's exit hook) reaches everything it started.
  const child = spawn(install.bin, ["start", name, "-c", config, "-l", "production"], {
    env: environment(install, stores, ports),
    stdio: ["ignore", out, out],
    detached: true,
  });
  closeSync(out);
  const pid = child.pid!;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = () => killGroup("SIGKILL");
  process.once("exit", onExit);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const stop = async () => {
    process.removeListener("exit", onExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup("SIGTERM");
    const timer = setTimeout(() => killGroup("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`maestro start ${name} exited (${child.exitCode ?? child.signalCode}):\n${tail(log)}`);
    }
    const ready = await fetch(`http://127.0.0.1:${ports.internal}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`maestro start ${name}: /readyz not ready within 30 s:\n${tail(log)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, child, pid, url: `http://127.0.0.1:${ports.api}`, stop };
}

function tail(file: string): string {
  return readFileSync(file, "utf8").slice(-3000);
}

/**
 * Ready rooms with a ready instance each, as its redisStateStorage.CreateRoom and redisInstanceStorage.UpsertInstance
 * store them: a hash per room, the status / ping / occupancy sorted sets, the instance JSON in the scheduler's podMap.
 */
export async function seedMaestroGoRooms(
  redis: Redis,
  scheduler: string,
  roomIds: string[],
  version: string,
): Promise<void> {
  const GAME_STATUS_READY = 2;
  const PING_STATUS_READY = 1;
  const INSTANCE_READY = 2;
  const now = Math.floor(Date.now() / 1000);
  for (let start = 0; start < roomIds.length; start += 500) {
    const batch = redis.pipeline();
    roomIds.slice(start, start + 500).forEach((id, i) => {
      batch.hset(`scheduler:${scheduler}:rooms:${id}`, {
        version,
        metadata: "{}",
        ping_status: String(PING_STATUS_READY),
        // go-redis writes a Go bool as "1" / "0"; strconv.ParseBool reads it back.
        is_validation_room: "0",
        created_at: String(now),
      });
      batch.zadd(`scheduler:${scheduler}:status`, GAME_STATUS_READY, id);
      batch.zadd(`scheduler:${scheduler}:ping`, now, id);
      batch.zadd(`scheduler:${scheduler}:occupancy`, 0, id);
      const instance = {
        id,
        schedulerId: scheduler,
        status: { type: INSTANCE_READY, description: "" },
        address: {
          host: "127.0.0.1",
          ports: [{ name: "game", port: 40_000 + ((start + i) % 20_000), protocol: "tcp" }],
        },
        resourceVersion: "",
      };
      batch.hset(`scheduler:${scheduler}:podMap`, id, JSON.stringify(instance));
    });
    const results = await batch.exec();
    const failed = results?.find(([err]) => err !== null);
    if (failed) throw failed[0];
  }
}
