import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  gameRoomPath,
  type MaestroProcess,
  maestroctlPath,
  matchmakerPath,
  repoRoot,
  startMaestroProcess,
  waitFor,
} from "../support/maestro-process.js";
import { roomPids } from "../support/processes.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * The README's quick start, command for command: `maestro start`, `maestroctl apply -f examples/game-room/scheduler.yaml`,
 * `maestroctl rooms list`, `maestroctl allocate`, a round with the example matchmaker. Commands run from the
 * repository root with the README's arguments; only the addresses differ (free ports, through MAESTRO_URL and
 * MAESTRO_ROOMS_URL), and NO_COLOR keeps the output plain.
 */
describe("README quick start, as a newcomer runs it", () => {
  let maestro: MaestroProcess;
  let env: Record<string, string>;
  let bystander: ChildProcess;
  const started: Running[] = [];

  const startNode = (script: string, args: string[], input?: string): Running =>
    startCommand(process.execPath, [script, ...args], input);
  const startCommand = (file: string, args: string[], input?: string): Running => {
    const child = spawn(file, args, { cwd: repoRoot, env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.stdin?.end(input ?? "");
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const running = { child, stdout: () => out, stderr: () => err, exited };
    started.push(running);
    return running;
  };
  const run = (script: string, args: string[], input?: string): Promise<Run> => finish(startNode(script, args, input));
  const finish = async (p: Running): Promise<Run> => {
    const code = await p.exited;
    // "exit" can come before the pipes are drained; "close" waits for them.
    if (p.child.stdout && !p.child.stdout.closed) await new Promise((r) => p.child.once("close", r));
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  };
  const maestroctl = (...args: string[]) => run(maestroctlPath, args);
  const matchmaker = (...args: string[]) => run(matchmakerPath, args);
  const room = async (scheduler: string, id: string) => {
    const r = await maestroctl("rooms", "get", scheduler, id, "-o", "json");
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { id: string; status: string; runningMatches?: number };
  };
  const readyRoomLines = async (scheduler: string) =>
    (await maestroctl("rooms", "list", scheduler)).stdout.split("\n").filter((l) => /\sready\s/.test(l));

  beforeAll(async () => {
    for (const built of [gameRoomPath, matchmakerPath, join(repoRoot, "sdk-management/dist/cli.js")]) {
      expect(existsSync(built), `${built} must be built`).toBe(true);
    }
    // A room of the quick start a person may have running on this machine: same scheduler name, another Maestro.
    bystander = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      env: { MAESTRO_SCHEDULER_NAME: "my-game", MAESTRO_ROOMS_API_URL: "http://127.0.0.1:8070" },
      stdio: "ignore",
    });
    maestro = await startMaestroProcess(["--set", "workers.healthControllerIntervalMs=1000"], { cwd: repoRoot });
    env = {
      PATH: process.env["PATH"] ?? "",
      HOME: "/nonexistent", // no maestroctl profile from the developer's machine
      NO_COLOR: "1",
      MAESTRO_URL: maestro.managementUrl,
      MAESTRO_ROOMS_URL: maestro.roomsUrl,
    };
  });

  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null) p.child.kill("SIGKILL");
    await maestro?.stop();
    expect(roomPids(maestro.roomsUrl, "my-game")).toEqual([]);
    // The person's own quick start is untouched, and was never counted as ours.
    expect(bystander.exitCode).toBeNull();
    bystander.kill("SIGKILL");
  });

  it("runs the commands the README shows", async () => {
    // If the README's quick start changes, this test and the flow below must change with it.
    expect(quickStartCommands()).toEqual([
      "git clone <this repository> maestro && cd maestro",
      "npm install",
      "npm start",
      "npx maestroctl apply -f examples/game-room/scheduler.yaml --wait-ready",
      "npx maestroctl rooms list my-game",
      "npx maestroctl allocate my-game",
      README_PLAY,
    ]);
  });

  it("apply shows the operation's progress, then rooms list shows three ready rooms", async () => {
    const args = ["apply", "-f", "examples/game-room/scheduler.yaml", "--wait-ready"];
    if (existsSync("/usr/bin/script")) {
      // In a terminal (a pseudo-terminal from util-linux `script`), progress is a spinner line redrawn in place.
      const quoted = [process.execPath, maestroctlPath, ...args].map((a) => `'${a}'`).join(" ");
      const tty = await finish(startCommand("/usr/bin/script", ["-qec", quoted, "/dev/null"]));
      expect(tty.code, tty.stdout).toBe(0);
      expect(tty.stdout).toContain("\r\u001b[2K"); // carriage return + erase line: the spinner redraws in place
      expect(tty.stdout).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] create_scheduler /);
      expect(tty.stdout).toMatch(/create_scheduler \S+ finished/);
      // --wait-ready: then a bar of the rooms coming up, redrawn until all three are ready.
      expect(tty.stdout).toMatch(/\[█{24}\] 3\/3 rooms up \(3 ready\)/);
    } else {
      const apply = await maestroctl(...args);
      expect(apply.code, apply.stderr).toBe(0);
      // Not a terminal: one plain line per change of the operation instead of a spinner.
      expect(apply.stderr).toMatch(/^create_scheduler .*finished/m);
      expect(apply.stdout).toMatch(/create_scheduler \S+ finished/);
      expect(apply.stderr).toMatch(/\] 3\/3 rooms up \(3 ready\)$/m);
    }

    // --wait-ready returned: the rooms are ready now, no need to poll.
    expect(await readyRoomLines("my-game")).toHaveLength(3);
    const list = await maestroctl("rooms", "list", "my-game");
    expect(list.stdout).toMatch(/^ID\s+STATUS\s+PING\s+MATCHES/);
    for (const line of await readyRoomLines("my-game")) expect(line).toMatch(/^my-game-\S+\s+ready\s+ready\s+0\s/);
  });

  it("allocate hands out a room; a round with the example client makes it occupied, then ready again", async () => {
    const allocate = await maestroctl("allocate", "my-game");
    expect(allocate.code, allocate.stderr).toBe(0);
    const roomId = /^Room:\s+(\S+)$/m.exec(allocate.stdout)?.[1];
    const host = /^Host:\s+(\S+)$/m.exec(allocate.stdout)?.[1];
    const port = /^Ports:\s+game:(\d+)\/tcp$/m.exec(allocate.stdout)?.[1];
    expect([roomId, host, port], allocate.stdout).toEqual([expect.any(String), "127.0.0.1", expect.any(String)]);
    expect((await room("my-game", roomId!)).status).toBe("allocated");

    const player = startNode(matchmakerPath, ["play", "--address", `${host}:${port}`, "--hold-ms", "600000"]);
    await waitFor(async () => player.stdout().includes("holding the match"), "the client to hold the match");
    const during = await waitFor(async () => {
      const r = await room("my-game", roomId!);
      return r.status === "occupied" && r;
    }, "the room to be occupied");
    expect(during.runningMatches).toBe(1);

    player.child.kill("SIGINT"); // Ctrl-C ends the hold; the round still finishes cleanly
    expect(await player.exited, player.stderr()).toBe(0);
    expect(player.stdout()).toContain(`connected to ${host}:${port}`);
    expect(player.stdout()).toContain(`room stats: {"clients":1,"roomId":"${roomId}","busyPercent":0}`);
    expect(player.stdout()).toContain(`round over: 3/3 lines echoed by ${host}:${port}`);
    await waitFor(async () => (await room("my-game", roomId!)).status === "ready", "the room to be ready again");
  });

  it("the README's allocate | play pipeline plays a round in the allocated room", async () => {
    // The README line as pasted, with npx resolving maestroctl from node_modules/.bin; only the hold is shortened.
    const line = README_PLAY.replace("--hold-ms 15000", "--hold-ms 0");
    const res = await finish(startCommand("bash", ["-c", line]));
    expect(res.code, res.stderr).toBe(0);
    const played = /^playing in room (\S+) at (\S+)$/m.exec(res.stdout);
    expect(played, res.stdout).not.toBeNull();
    expect(res.stdout).toContain(`round over: 3/3 lines echoed by ${played?.[2]}`);
    await waitFor(
      async () => (await room("my-game", played?.[1] ?? "")).status === "ready",
      "the room to be ready again",
    );
  });

  it("examples/quickstart/quickstart.sh runs the same flow against the running Maestro", async () => {
    const saved = env;
    env = { ...env, QUICKSTART_SKIP_BUILD: "1", HOLD_MS: "2000" };
    try {
      const res = await finish(startCommand("bash", ["examples/quickstart/quickstart.sh"]));
      expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
      expect(res.stdout).toContain(`Maestro is already running at ${maestro.managementUrl}`);
      expect(res.stdout).toContain("Scheduler my-game exists already");
      const room = /^room (\S+), game port (\S+)$/m.exec(res.stdout);
      expect(room, res.stdout).not.toBeNull();
      expect(res.stdout).toContain("status: allocated");
      expect(res.stdout).toContain(`round over: 3/3 lines echoed by ${room?.[2]}`);
      expect(res.stdout).toContain(`after the round, room ${room?.[1]} is: ready`);
    } finally {
      env = saved;
    }
  });

  it("the matchmaker allocates through the SDK and plays a round", async () => {
    const res = await matchmaker("allocate", "--scheduler", "my-game", "--json");
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.room).toMatchObject({ id: expect.stringMatching(/^my-game-/), host: "127.0.0.1" });
    expect(out.round).toMatchObject({ sent: 3, echoed: 3, stats: { clients: 1, roomId: out.room.id } });
    expect(res.stderr).toContain(`allocated room ${out.room.id} at 127.0.0.1:${out.room.port}`);
  });

  it("a failing command names the problem and exits 1", async () => {
    const unknown = await maestroctl("rooms", "get", "my-game", "no-such-room");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^maestroctl: .*no-such-room/);
    const noScheduler = await maestroctl("schedulers", "get", "no-such-game");
    expect(noScheduler.code).toBe(1);
    expect(noScheduler.stderr).toMatch(/^maestroctl: .*no-such-game/);
    const usage = await maestroctl("apply");
    expect(usage.code).toBe(2);
  });

  it("reports matches of a multi-match room: active below maxMatches, occupied at it, ready at zero", async () => {
    const definition = {
      name: "duel",
      game: "tutorial",
      maxSurge: "10%",
      roomsReplicas: 1,
      portRange: { start: 43000, end: 43999 },
      matchAllocation: { maxMatches: 2 },
      spec: {
        terminationGracePeriod: "5",
        containers: [
          {
            name: "game-room",
            image: "local",
            imagePullPolicy: "IfNotPresent",
            command: ["node", "examples/game-room/dist/main.js"],
            requests: { memory: "64Mi", cpu: "100m" },
            limits: { memory: "128Mi", cpu: "200m" },
            ports: [{ name: "game", protocol: "tcp", port: 7000 }],
          },
        ],
      },
    };
    const apply = await run(maestroctlPath, ["apply", "-f", "-", "--wait-ready"], JSON.stringify(definition));
    expect(apply.code, apply.stderr).toBe(0);
    // Not a terminal: one plain line per change of the operation, then of the room counts, instead of redrawing.
    expect(apply.stderr).toMatch(/^create_scheduler .*finished/m);
    expect(apply.stderr).toMatch(/^\[█{24}\] 1\/1 rooms up \(1 ready\)$/m);
    expect(await readyRoomLines("duel")).toHaveLength(1);
    const rooms = JSON.parse((await maestroctl("rooms", "list", "duel", "-o", "json")).stdout);
    const id: string = rooms[0].id;
    const port: number = rooms[0].ports[0].port;
    const status = (want: string, matches: number) =>
      waitFor(async () => {
        const r = await room("duel", id);
        return r.status === want && (r.runningMatches ?? 0) === matches;
      }, `duel room ${want} with ${matches} match(es)`);

    const hold = ["play", "--address", `127.0.0.1:${port}`, "--hold-ms", "600000"];
    const first = startNode(matchmakerPath, hold);
    await status("active", 1);
    const second = startNode(matchmakerPath, hold);
    await status("occupied", 2);
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
    await status("active", 1);
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);
    await status("ready", 0);
  });

  it("applies a Maestro v9 YAML config that runs the example room", async () => {
    const dir = await mkdtemp(join(tmpdir(), "maestro-v9-"));
    try {
      const file = join(dir, "v9.yaml");
      await writeFile(
        file,
        [
          "name: v9-game",
          "game: tutorial",
          "image: local",
          "shutdownTimeout: 5",
          "occupiedTimeout: 300",
          "ports:",
          "  - { containerPort: 7000, protocol: TCP, name: game }",
          "requests: { memory: 64Mi, cpu: 100m }",
          "limits: { memory: 128Mi, cpu: 200m }",
          "cmd: [node, examples/game-room/dist/main.js]",
          "autoscaling: { min: 1, max: 2 }",
          "authorizedUsers: [someone@example.com]",
          "",
        ].join("\n"),
      );
      const apply = await maestroctl("apply", "-f", file);
      expect(apply.code, apply.stderr).toBe(0);
      expect(apply.stderr).toContain("is a Maestro v9 config");
      expect(apply.stderr).toContain("not mapped: authorizedUsers");
      await waitFor(async () => (await readyRoomLines("v9-game")).length === 1, "the v9 scheduler's room to be ready");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("examples/quickstart/quickstart.sh where no Maestro runs yet", () => {
  // Generous: on a busy 2-core machine the first start of the embedded Postgres alone can take half a minute.
  it("starts Maestro on the embedded default, applies the example scheduler and plays a round", {
    timeout: 240_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "maestro-quickstart-"));
    const [management, rooms, internal] = [await freePort(), await freePort(), await freePort()];
    const child = spawn("bash", ["examples/quickstart/quickstart.sh"], {
      cwd: repoRoot,
      env: {
        PATH: process.env["PATH"] ?? "",
        HOME: "/nonexistent",
        NO_COLOR: "1",
        MAESTRO_URL: `http://127.0.0.1:${management}`,
        MAESTRO_ROOMS_URL: `http://127.0.0.1:${rooms}`,
        MAESTRO_INTERNAL_PORT: String(internal),
        MAESTRO_DATA_DIR: dataDir,
        QUICKSTART_SKIP_BUILD: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
    const pidFile = join(dataDir, "quickstart.pid");
    try {
      expect(code, out).toBe(0);
      expect(out).toContain(`Starting Maestro on the embedded default (data in ${dataDir}`);
      expect(out).toMatch(/create_scheduler \S+ finished/);
      expect(out).toContain("3/3 rooms up (3 ready)");
      const room = /^room (\S+), game port (\S+)$/m.exec(out);
      expect(room, out).not.toBeNull();
      expect(out).toContain(`round over: 3/3 lines echoed by ${room?.[2]}`);
      expect(out).toContain(`after the round, room ${room?.[1]} is: ready`);
    } finally {
      // The script leaves Maestro running for the newcomer; stop it the way its last message says.
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, "utf8").trim());
        process.kill(pid, "SIGTERM");
        await waitFor(async () => !isRunning(pid), "the quickstart's Maestro to stop");
      }
      await rm(dataDir, { recursive: true, force: true });
    }
    expect(roomPids(`http://127.0.0.1:${rooms}`, "my-game")).toEqual([]);
  });
});

const README_PLAY =
  "npx maestroctl allocate my-game -o json | node examples/matchmaker/dist/main.js play --allocation - --hold-ms 15000";

/** Command lines of the README's quick start: the shell blocks' lines that are not comments. */
function quickStartCommands(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const start = readme.indexOf("## Quick start");
  // Up to the next heading of any level: later subsections are variations, not the newcomer's path.
  const end = readme.slice(start + 1).search(/\n#{2,3} /) + start + 1;
  const section = readme.slice(start, end);
  const commands: string[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of (block[1] ?? "").split("\n"))
      if (line.trim() && !line.startsWith("#")) commands.push(line.trim());
  }
  return commands;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
