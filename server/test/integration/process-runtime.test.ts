import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isPortFree, RandomPortAllocator } from "../../src/adapters/port-allocator/random-port-allocator.js";
import { ProcessRuntime } from "../../src/adapters/runtime/process/process-runtime.js";
import type { ContainerEnvironment, ContainerPort, Scheduler } from "../../src/core/entities/scheduler.js";
import { isMaestroError } from "../../src/core/errors.js";
import type { AllocatedPort, RoomEnvironment } from "../../src/core/ports/runtime.js";
import { EventRecorder, gameRoom, portsFor, uniqueName, waitFor } from "../contract/runtime.contract.js";
import { isAlive } from "../support/core-harness.js";
import { validContainer, validScheduler } from "../support/fixtures.js";

interface ContainerDef {
  name?: string;
  script?: string;
  command?: string[];
  environment?: ContainerEnvironment[];
  ports?: ContainerPort[];
}

const roomEnv: RoomEnvironment = { roomsApiUrl: "http://127.0.0.1:8070", roomToken: "secret-room-token" };

async function readWhenPresent(path: string): Promise<string> {
  return waitFor(async () => {
    try {
      const text = await readFile(path, "utf8");
      return text === "" ? undefined : text;
    } catch {
      return undefined;
    }
  }, `file ${path}`);
}

describe("ProcessRuntime with real child processes", () => {
  let dataDir: string;
  let markers: string;
  let runtime: ProcessRuntime;
  const extraRuntimes: ProcessRuntime[] = [];
  const recorders: EventRecorder[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "maestro-process-it-"));
    markers = await mkdtemp(join(tmpdir(), "maestro-process-markers-"));
    runtime = new ProcessRuntime({ dataDir });
  });

  afterEach(async () => {
    await Promise.all(recorders.splice(0).map((r) => r.stop()));
    await runtime.close();
    for (const r of extraRuntimes.splice(0)) await r.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(markers, { recursive: true, force: true });
  });

  const marker = (name: string) => join(markers, name);

  const scheduler = (containers: ContainerDef[], graceSeconds = 5): Scheduler =>
    validScheduler({
      name: uniqueName("proc"),
      spec: {
        terminationGracePeriodSeconds: graceSeconds,
        containers: containers.map((c, i) =>
          validContainer({
            name: c.name ?? `c${i}`,
            command: c.command ?? [process.execPath, "-e", c.script ?? "setInterval(() => {}, 1000)"],
            environment: c.environment ?? [],
            ports: c.ports ?? [],
          }),
        ),
      },
    });

  const watch = (s: Scheduler) => {
    const recorder = new EventRecorder(runtime, s.name);
    recorders.push(recorder);
    return recorder;
  };

  const startRoom = async (s: Scheduler, ports: AllocatedPort[] = portsFor(s)) => {
    const room = gameRoom(s);
    await runtime.createRoom(s, room, ports, roomEnv);
    return room;
  };

  it("measures each room's CPU and memory from /proc, with the scheduler's requests, for all its processes", async () => {
    // The busy room's work happens in a grandchild, in the room's process group: it must count too.
    const burn = "const end = () => Date.now() % 100 < 40; setInterval(() => { while (end()); }, 1);";
    const s = scheduler([
      {
        script: `require("child_process").spawn(process.execPath, ["-e", ${JSON.stringify(burn)}], { stdio: "ignore" }); setInterval(() => {}, 1000);`,
      },
    ]);
    const idle = scheduler([{}]);
    await runtime.createScheduler(s);
    await runtime.createScheduler(idle);
    const busyRoom = await startRoom(s);
    const idleRoom = await startRoom(idle);
    const usage = await waitFor(async () => {
      const [busy] = await runtime.roomUsage(s);
      const [quiet] = await runtime.roomUsage(idle);
      // The burner loops in 40% of every 100 ms; a third of that is plenty above an idle node's few millicores.
      return busy && quiet && busy.cpuMillicores > 130 && quiet.cpuMillicores < busy.cpuMillicores
        ? { busy, quiet }
        : undefined;
    }, "the busy room's CPU above the idle room's");
    expect(usage.busy).toMatchObject({
      roomId: busyRoom.id,
      cpuRequestMillicores: 100,
      memoryRequestBytes: 64 * 2 ** 20,
    });
    expect(usage.quiet.roomId).toBe(idleRoom.id);
    // Two node processes (room + burner) hold more memory than one.
    expect(usage.busy.memoryBytes).toBeGreaterThan(usage.quiet.memoryBytes);
    await runtime.deleteRoom(s.name, busyRoom.id, "test");
    await waitFor(async () => ((await runtime.roomUsage(s)).length === 0 ? true : undefined), "no usage once gone");
  });

  it("is not ready while its rooms folder is gone, naming the folder, and ready again once it is back", async () => {
    await runtime.ready();
    await rm(dataDir, { recursive: true, force: true });
    const err = await runtime.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isMaestroError(err, "unavailable")).toBe(true);
    expect((err as Error).message).toContain(dataDir);
    await mkdir(dataDir);
    await runtime.ready();
  });

  it("gives the room its identity, the rooms API, its ports and its container env, and no other server variable", async () => {
    process.env.MAESTRO_TEST_SERVER_SECRET = "must-not-leak";
    try {
      const s = scheduler([
        {
          script: `require("fs").writeFileSync(${JSON.stringify(marker("env.json"))}, JSON.stringify({ env: process.env, cwd: process.cwd() })); setInterval(() => {}, 1000);`,
          environment: [
            { name: "PLAIN", value: "plain value" },
            { name: "EMPTY" },
            { name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
            { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            { name: "MY_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "MY_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          ],
          ports: [
            { name: "game-port", protocol: "tcp", port: 7000 },
            { name: "voice.1", protocol: "udp", port: 7001 },
          ],
        },
      ]);
      const ports: AllocatedPort[] = [
        { name: "game-port", protocol: "tcp", containerPort: 31001, hostPort: 31001 },
        { name: "voice.1", protocol: "udp", containerPort: 31002, hostPort: 31002 },
      ];
      await runtime.createScheduler(s);
      const room = await startRoom(s, ports);
      const { env, cwd } = JSON.parse(await readWhenPresent(marker("env.json"))) as {
        env: Record<string, string>;
        cwd: string;
      };

      expect(cwd).toBe(process.cwd());
      expect(env).toMatchObject({
        PLAIN: "plain value",
        EMPTY: "",
        HOST_IP: "127.0.0.1",
        POD_IP: "127.0.0.1",
        MY_NAME: room.id,
        MY_NAMESPACE: s.name,
        MAESTRO_SCHEDULER_NAME: s.name,
        MAESTRO_ROOM_ID: room.id,
        MAESTRO_ROOMS_API_URL: roomEnv.roomsApiUrl,
        MAESTRO_ROOM_TOKEN: roomEnv.roomToken,
        ROOMS_API_ADDRESS: roomEnv.roomsApiUrl,
        MAESTRO_PORT_GAME_PORT: "31001",
        MAESTRO_PORT_VOICE_1: "31002",
      });
      const inherited = ["PATH", "HOME", "LANG", "TMPDIR"].filter((k) => process.env[k] !== undefined);
      for (const k of inherited) expect(env[k]).toBe(process.env[k]);
      const expectedKeys = [
        ...inherited,
        "PLAIN",
        "EMPTY",
        "HOST_IP",
        "POD_IP",
        "MY_NAME",
        "MY_NAMESPACE",
        "MAESTRO_SCHEDULER_NAME",
        "MAESTRO_ROOM_ID",
        "MAESTRO_ROOMS_API_URL",
        "MAESTRO_ROOM_TOKEN",
        "ROOMS_API_ADDRESS",
        "MAESTRO_PORT_GAME_PORT",
        "MAESTRO_PORT_VOICE_1",
      ];
      expect(Object.keys(env).sort()).toEqual(expectedKeys.sort());
    } finally {
      delete process.env.MAESTRO_TEST_SERVER_SECRET;
    }
  });

  it("lets the container env set ROOMS_API_ADDRESS itself", async () => {
    const s = scheduler([
      {
        script: `require("fs").writeFileSync(${JSON.stringify(marker("address"))}, process.env.ROOMS_API_ADDRESS); setInterval(() => {}, 1000);`,
        environment: [{ name: "ROOMS_API_ADDRESS", value: "http://rooms.example:9000" }],
      },
    ]);
    await startRoom(s);
    expect(await readWhenPresent(marker("address"))).toBe("http://rooms.example:9000");
  });

  it("MAESTRO_PORT_<NAME> is a port the room can bind and clients can reach", async () => {
    const s = scheduler([
      {
        script: `const net = require("net");
          net.createServer((c) => c.end("hello " + process.env.MAESTRO_ROOM_ID))
            .listen(Number(process.env.MAESTRO_PORT_GAME_PORT), "127.0.0.1");`,
        ports: [{ name: "game-port", protocol: "tcp", port: 7000 }],
      },
    ]);
    s.portRange = { start: 40000, end: 49999 };
    const allocator = new RandomPortAllocator({
      portsInUse: (opts) => runtime.portsInUse(opts),
      isFree: (p, protocol) => isPortFree(p, protocol),
    });
    const ports = await allocator.allocate(s);
    const room = await startRoom(s, ports);
    const port = ports[0]!.hostPort;
    const greeting = await waitFor(
      () =>
        new Promise<string | undefined>((resolve) => {
          const socket = connect({ port, host: "127.0.0.1" });
          let data = "";
          socket.on("data", (d) => {
            data += d.toString();
          });
          socket.on("end", () => resolve(data));
          socket.on("error", () => resolve(undefined));
        }),
      "the room to accept connections on its port",
    );
    expect(greeting).toBe(`hello ${room.id}`);
    expect((await runtime.portsInUse()).has(port)).toBe(true);
  });

  it("appends stdout and stderr to the room's log, prefixing lines by container when there are several", async () => {
    const single = scheduler([
      { script: `console.log("out line"); console.error("err line"); setInterval(() => {}, 1000);` },
    ]);
    const room = await startRoom(single);
    const log = join(dataDir, single.name, room.id, "room.log");
    await waitFor(async () => {
      const text = await readFile(log, "utf8").catch(() => "");
      return text.includes("out line\n") && text.includes("err line\n");
    }, "both lines in the log");

    const several = scheduler([
      { name: "alpha", script: `console.log("from alpha"); setInterval(() => {}, 1000);` },
      { name: "beta", script: `console.error("from beta"); setInterval(() => {}, 1000);` },
    ]);
    const pair = await startRoom(several);
    const pairLog = join(dataDir, several.name, pair.id, "room.log");
    await waitFor(async () => {
      const text = await readFile(pairLog, "utf8").catch(() => "");
      return text.includes("[alpha] from alpha\n") && text.includes("[beta] from beta\n");
    }, "prefixed lines in the log");
  });

  it("a process exiting with 0 makes the room terminating; it stays listed until deleteRoom removes it", async () => {
    const s = scheduler([{ script: "process.exit(0)" }]);
    const recorder = watch(s);
    const room = await startRoom(s);
    const event = await recorder.waitForStatus(room.id, "terminating");
    expect(event.instance.status.description).toBe("exited with code 0");
    expect((await runtime.listInstances(s.name)).map((i) => i.status)).toEqual([
      { type: "terminating", description: "exited with code 0" },
    ]);
    await runtime.deleteRoom(s.name, room.id, "done");
    await recorder.waitFor(room.id, "deleted");
    expect(await runtime.listInstances(s.name)).toEqual([]);
  });

  it("a process exiting with 3 makes the room error with its last stderr line", async () => {
    const s = scheduler([
      { script: `console.error("first problem"); console.error("boom: no map"); process.exit(3);` },
    ]);
    const recorder = watch(s);
    const room = await startRoom(s);
    const event = await recorder.waitForStatus(room.id, "error");
    expect(event.instance.status.description).toBe("exit code 3: boom: no map");
  });

  it("a crash reports the stderr line naming the error, not the runtime's closing banner", async () => {
    const s = scheduler([{ script: `require("./no-such-module-here")` }]);
    const recorder = watch(s);
    const room = await startRoom(s);
    const event = await recorder.waitForStatus(room.id, "error");
    expect(event.instance.status.description).toMatch(
      /^exit code 1: Error: Cannot find module '\.\/no-such-module-here'/,
    );
  });

  it("a process killed by a signal makes the room error naming the signal", async () => {
    const s = scheduler([{ script: `process.kill(process.pid, "SIGKILL")` }]);
    const recorder = watch(s);
    const room = await startRoom(s);
    const event = await recorder.waitForStatus(room.id, "error");
    expect(event.instance.status.description).toBe("killed by SIGKILL");
  });

  it("with several containers the room takes the worst status and names its container", async () => {
    const s = scheduler([
      { name: "server" },
      { name: "sidecar", script: `console.error("sidecar broke"); process.exit(2);` },
    ]);
    const recorder = watch(s);
    const room = await startRoom(s);
    const event = await recorder.waitForStatus(room.id, "error");
    expect(event.instance.status.description).toBe("sidecar: exit code 2: sidecar broke");
  });

  it("a command that cannot start makes the room error", async () => {
    const s = scheduler([{ command: [join(markers, "no-such-binary")] }]);
    const recorder = watch(s);
    const room = await startRoom(s);
    const event = await recorder.waitForStatus(room.id, "error");
    expect(event.instance.status.description).toMatch(/^failed to start: .*ENOENT/);
  });

  it("refuses what a process cannot run, naming the field, and starts nothing", async () => {
    const cases: [ContainerDef, string][] = [
      [{ command: [] }, "spec.containers[1].command"],
      [
        { environment: [{ name: "S", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] },
        "spec.containers[1].environment[0].valueFrom.secretKeyRef",
      ],
      [
        { environment: [{ name: "N", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }] },
        "spec.containers[1].environment[0].valueFrom.fieldRef.fieldPath",
      ],
    ];
    for (const [bad, field] of cases) {
      const s = scheduler([{ name: "fine" }, { name: "bad", ...bad }]);
      let caught: unknown;
      try {
        await startRoom(s);
      } catch (err) {
        caught = err;
      }
      expect(isMaestroError(caught, "invalid_argument")).toBe(true);
      if (isMaestroError(caught)) expect(caught.violations.map((v) => v.field)).toEqual([field]);
      expect(await runtime.listInstances(s.name)).toEqual([]);
    }
    const secret = scheduler([{ environment: [{ name: "S", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] }]);
    await expect(startRoom(secret)).rejects.toThrow(/secrets are not supported by the process runtime/);
  });

  it("refuses a second room with the same id", async () => {
    const s = scheduler([{}]);
    const room = gameRoom(s);
    await runtime.createRoom(s, room, portsFor(s), roomEnv);
    let caught: unknown;
    try {
      await runtime.createRoom(s, room, portsFor(s), roomEnv);
    } catch (err) {
      caught = err;
    }
    expect(isMaestroError(caught, "already_exists")).toBe(true);
  });

  it("deleteRoom delivers SIGTERM and lets the room shut down by itself", async () => {
    const s = scheduler([
      {
        script: `process.on("SIGTERM", () => { require("fs").writeFileSync(${JSON.stringify(marker("sigterm"))}, "got SIGTERM"); process.exit(0); });
          require("fs").writeFileSync(${JSON.stringify(marker("armed"))}, "yes");
          setInterval(() => {}, 1000);`,
      },
    ]);
    const recorder = watch(s);
    const room = await startRoom(s);
    await recorder.waitForStatus(room.id, "ready");
    // "ready" means spawned; the handler exists only once the script has run this far.
    await readWhenPresent(marker("armed"));
    await runtime.deleteRoom(s.name, room.id, "scale down");
    await recorder.waitFor(room.id, "deleted");
    expect(await readFile(marker("sigterm"), "utf8")).toBe("got SIGTERM");
    expect(recorder.has(room.id, "updated", "terminating")).toBe(true);
    expect(existsSync(join(dataDir, s.name, room.id))).toBe(false);
  });

  it("SIGKILLs a process that ignores SIGTERM once the grace period is over", async () => {
    const s = scheduler(
      [
        {
          script: `const fs = require("fs");
            process.on("SIGTERM", () => fs.writeFileSync(${JSON.stringify(marker("ignored"))}, "ignored"));
            fs.writeFileSync(${JSON.stringify(marker("pid"))}, String(process.pid));
            setInterval(() => {}, 1000);`,
        },
      ],
      1,
    );
    const recorder = watch(s);
    const room = await startRoom(s);
    const pid = Number(await readWhenPresent(marker("pid")));
    await recorder.waitForStatus(room.id, "ready");
    await runtime.deleteRoom(s.name, room.id, "scale down");
    await recorder.waitFor(room.id, "deleted");
    expect(await readFile(marker("ignored"), "utf8")).toBe("ignored");
    expect(isAlive(pid)).toBe(false);
  });

  it("kills the room's grandchildren too, also when the room's own process already exited", async () => {
    const spawnGrandchild = (file: string, thenExit: boolean) =>
      `const c = require("child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
       require("fs").writeFileSync(${JSON.stringify(file)}, String(c.pid));
       ${thenExit ? "process.exit(0);" : "setInterval(() => {}, 1000);"}`;
    const running = scheduler([{ script: spawnGrandchild(marker("grand-1"), false) }]);
    const exited = scheduler([{ script: spawnGrandchild(marker("grand-2"), true) }]);
    const runningEvents = watch(running);
    const exitedEvents = watch(exited);
    const first = await startRoom(running);
    const second = await startRoom(exited);
    const grand1 = Number(await readWhenPresent(marker("grand-1")));
    const grand2 = Number(await readWhenPresent(marker("grand-2")));
    await exitedEvents.waitForStatus(second.id, "terminating");
    expect(isAlive(grand2)).toBe(true);

    await runtime.deleteRoom(running.name, first.id, "test");
    await runtime.deleteRoom(exited.name, second.id, "test");
    await runningEvents.waitFor(first.id, "deleted");
    await exitedEvents.waitFor(second.id, "deleted");
    expect(isAlive(grand1)).toBe(false);
    expect(isAlive(grand2)).toBe(false);
  });

  it("close() stops every room, stubborn ones and grandchildren included, before it resolves", async () => {
    const stubborn = scheduler(
      [
        {
          script: `process.on("SIGTERM", () => {}); require("fs").writeFileSync(${JSON.stringify(marker("stubborn"))}, String(process.pid)); setInterval(() => {}, 1000);`,
        },
      ],
      1,
    );
    const parent = scheduler(
      [
        {
          script: `const c = require("child_process").spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
          require("fs").writeFileSync(${JSON.stringify(marker("grand"))}, String(c.pid));
          require("fs").writeFileSync(${JSON.stringify(marker("parent"))}, String(process.pid));
          setInterval(() => {}, 1000);`,
        },
      ],
      1,
    );
    await startRoom(stubborn);
    await startRoom(parent);
    const pids = await Promise.all(
      ["stubborn", "grand", "parent"].map(async (m) => Number(await readWhenPresent(marker(m)))),
    );
    for (const pid of pids) expect(isAlive(pid)).toBe(true);

    await runtime.close();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(await runtime.listInstances(stubborn.name)).toEqual([]);
    await expect(startRoom(stubborn)).rejects.toMatchObject({ code: "unavailable" });
  });

  it("a new runtime on the same dataDir stops the rooms a crashed one left behind", async () => {
    const s = scheduler(
      [
        {
          script: `const fs = require("fs");
            const c = require("child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
            fs.writeFileSync(${JSON.stringify(marker("grand"))}, String(c.pid));
            process.on("SIGTERM", () => {});
            fs.writeFileSync(${JSON.stringify(marker("leader"))}, String(process.pid));
            setInterval(() => {}, 1000);`,
        },
      ],
      1,
    );
    await runtime.createScheduler(s);
    const room = await startRoom(s);
    const roomDir = join(dataDir, s.name, room.id);
    const leader = Number(await readWhenPresent(marker("leader")));
    const grand = Number(await readWhenPresent(marker("grand")));
    const record = JSON.parse(await readFile(join(roomDir, "pids"), "utf8")) as { processes: { pid: number }[] };
    expect(record.processes.map((p) => p.pid)).toEqual([leader]);

    // The first runtime "crashed": it is never closed before its successor starts.
    const successor = new ProcessRuntime({ dataDir });
    extraRuntimes.push(successor);
    await successor.start();
    expect(isAlive(leader)).toBe(false);
    expect(isAlive(grand)).toBe(false);
    expect(existsSync(roomDir)).toBe(false);
    expect(existsSync(join(dataDir, s.name))).toBe(true);
    expect(await successor.listInstances(s.name)).toEqual([]);
  });
});
