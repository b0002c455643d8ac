import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readPidFile } from "../../src/adapters/runtime/process/pid-file.js";
import { ProcessRoom } from "../../src/adapters/runtime/process/process-room.js";
import { ProcessRuntime } from "../../src/adapters/runtime/process/process-runtime.js";
import type { Scheduler } from "../../src/core/entities/scheduler.js";
import { isMaestroError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import type { RoomEnvironment } from "../../src/core/ports/runtime.js";
import { gameRoom, portsFor, uniqueName, waitFor } from "../contract/runtime.contract.js";
import { validContainer, validScheduler } from "../support/fixtures.js";

// Issue 16, findings 1 and 10 on the process runtime.
const roomEnv: RoomEnvironment = { roomsApiUrl: "http://127.0.0.1:8070", roomToken: "secret-room-token" };
const IDLE = [process.execPath, "-e", "setInterval(() => {}, 1000)"];

let dir: string;
const runtimes: ProcessRuntime[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "maestro-isolation-"));
  // Rooms run as other users below: they need to enter their working directory and write their markers.
  await chmod(dir, 0o777);
});
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
  await rm(dir, { recursive: true, force: true });
});

function scheduler(commands: string[][]): Scheduler {
  return validScheduler({
    name: uniqueName("iso"),
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: commands.map((command, i) => validContainer({ name: `c${i}`, command, ports: [] })),
    },
  });
}

describe("spawning a room's containers (finding 1)", () => {
  it("spawns one container at a time, records each before the next and lets the event loop run in between", async () => {
    const recorded: number[] = [];
    const room: ProcessRoom = new ProcessRoom({
      schedulerName: "s",
      roomId: "r",
      dir,
      cwd: dir,
      host: "127.0.0.1",
      ports: [],
      graceSeconds: 1,
      containers: Array.from({ length: 6 }, (_, i) => ({ name: `c${i}`, command: IDLE, env: {} })),
      logger: silentLogger,
      onChange: () => {},
      onSpawned: async () => {
        recorded.push(room.pidRecord().processes.length);
      },
    });
    let seenByOtherWork: number | undefined;
    setImmediate(() => {
      seenByOtherWork = room.pidRecord().processes.length;
    });
    try {
      await room.start();
      expect(recorded).toEqual([1, 2, 3, 4, 5, 6]);
      // Other work ran while the room was still starting, not only after all six spawns.
      expect(seenByOtherWork).toBeLessThan(6);
    } finally {
      await room.stop("test", 0);
    }
  });

  it("a room stopped while it starts spawns no more containers", async () => {
    let stopped: Promise<void> | undefined;
    const room: ProcessRoom = new ProcessRoom({
      schedulerName: "s",
      roomId: "r",
      dir,
      cwd: dir,
      host: "127.0.0.1",
      ports: [],
      graceSeconds: 1,
      containers: Array.from({ length: 6 }, (_, i) => ({ name: `c${i}`, command: IDLE, env: {} })),
      logger: silentLogger,
      onChange: () => {},
      onSpawned: async () => {
        stopped ??= room.stop("deleted while starting", 0);
      },
    });
    await room.start();
    expect(room.pidRecord().processes.map((p) => p.container)).toEqual(["c0"]);
    await stopped;
    expect(room.processGroups).toEqual([]);
  });

  it("the pid file lists every process of a started room", async () => {
    const runtime = new ProcessRuntime({ dataDir: join(dir, "rooms"), workingDir: dir });
    runtimes.push(runtime);
    const s = scheduler(Array.from({ length: 5 }, () => IDLE));
    await runtime.createScheduler(s);
    const room = gameRoom(s);
    await runtime.createRoom(s, room, portsFor(s), roomEnv);
    const record = await readPidFile(join(dir, "rooms", s.name, room.id));
    expect(record?.processes.map((p) => p.container)).toEqual(["c0", "c1", "c2", "c3", "c4"]);
  });
});

const asRoot = process.getuid?.() === 0;

describe("rooms as other users (finding 10)", () => {
  it.skipIf(asRoot)("refuses runAsUser without root (needs an unprivileged server)", () => {
    const err = (() => {
      try {
        new ProcessRuntime({ dataDir: dir, runAsUser: "200000-200010" });
      } catch (e) {
        return e;
      }
    })();
    expect(isMaestroError(err, "failed_precondition")).toBe(true);
  });

  it.skipIf(!asRoot)(
    "a uid range gives each room its own uid: no room reads another's environment or the server's secret (needs root: it switches users)",
    async () => {
      const secret = join(dir, "room-token-secret");
      await writeFile(secret, "server-secret\n", { mode: 0o600 });
      const runtime = new ProcessRuntime({ dataDir: join(dir, "rooms"), workingDir: dir, runAsUser: "200100-200199" });
      runtimes.push(runtime);
      const victim = scheduler([IDLE]);
      await runtime.createScheduler(victim);
      const victimRoom = gameRoom(victim);
      await runtime.createRoom(victim, victimRoom, portsFor(victim), roomEnv);
      const victimPid = (await readPidFile(join(dir, "rooms", victim.name, victimRoom.id)))!.processes[0]!.pid;

      const out = join(dir, "probe.json");
      const probe = `
        const fs = require("fs");
        const tryRead = (p) => { try { fs.readFileSync(p); return "read"; } catch (e) { return e.code; } };
        fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify({
          uid: process.getuid(),
          environ: tryRead("/proc/${victimPid}/environ"),
          secret: tryRead(${JSON.stringify(secret)}),
          home: process.env.HOME,
        }));
        setInterval(() => {}, 1000);`;
      const attacker = scheduler([[process.execPath, "-e", probe]]);
      await runtime.createScheduler(attacker);
      await runtime.createRoom(attacker, gameRoom(attacker), portsFor(attacker), roomEnv);
      const result = await waitFor(async () => {
        try {
          return JSON.parse(await readFile(out, "utf8")) as Record<string, unknown>;
        } catch {
          return undefined;
        }
      }, "the probe room's report");
      const victimUid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${victimPid}/status`, "utf8"))![1]);
      expect(victimUid).toBe(200100);
      expect(result).toEqual({ uid: 200101, environ: "EACCES", secret: "EACCES", home: "/" });
    },
  );

  it.skipIf(!asRoot)("refuses a user that does not exist, naming the setting", () => {
    expect(() => new ProcessRuntime({ dataDir: dir, runAsUser: "no-such-user-here" })).toThrow(
      /runtime\.process\.runAsUser/,
    );
  });
});
