import { type FakeRoomsApi, type RecordedRequest, startFakeRoomsApi } from "@maestro/sdk-room/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { playRound } from "../src/game-client.js";
import { eventually, freePort, GAME_ROOM, MAIN, type NodeProcess, spawnNode } from "./support.js";

let api: FakeRoomsApi;
let game: NodeProcess | undefined;

beforeEach(async () => {
  api = await startFakeRoomsApi();
});

afterEach(async () => {
  game?.child.kill("SIGKILL");
  game = undefined;
  await api.close();
});

/** Runs the real example game room against the SDK's fake rooms API and waits until it reported ready. */
async function startGameRoom(): Promise<number> {
  const port = await freePort();
  game = spawnNode(GAME_ROOM, [], {
    MAESTRO_ROOMS_API_URL: api.url,
    MAESTRO_SCHEDULER_NAME: "my-game",
    MAESTRO_ROOM_ID: "my-game-room-1",
    MAESTRO_PORT_GAME: String(port),
  });
  await api.waitFor(isPing("ready"));
  return port;
}

const isPing = (status: string, runningMatches?: number) => (r: RecordedRequest) =>
  r.kind === "ping" &&
  r.body.status === status &&
  (runningMatches === undefined || r.body.runningMatches === runningMatches);

describe("playRound against the example game room", () => {
  it("gets every line echoed and the room's stats; the room is occupied while connected, then ready", async () => {
    const port = await startGameRoom();
    const endHold = new AbortController();
    const log: string[] = [];
    const round = playRound({
      host: "127.0.0.1",
      port,
      lines: ["hello", "world"],
      holdMs: 600_000,
      endHold: endHold.signal,
      log: (m) => log.push(m),
    });
    // Held connection: the room reports one running match; ending the hold finishes the round.
    await api.waitFor(isPing("occupied", 1));
    await eventually(() => log.some((m) => m.startsWith("holding the match")), { what: "the hold" });
    endHold.abort();
    const result = await round;
    expect(result).toEqual({
      sent: 2,
      echoed: 2,
      stats: { clients: 1, roomId: "my-game-room-1", busyPercent: 0 },
      serverMessages: [],
    });
    await api.waitFor((r) => r.kind === "playerevent" && r.body.event === "playerLeft");
    const after = api.requestsOf("ping").findIndex(isPing("occupied", 1));
    await eventually(() => api.requestsOf("ping").slice(after).some(isPing("ready", 0)), { what: "ready again" });
    expect(log).toEqual([
      `connected to 127.0.0.1:${port}`,
      'sent "hello", got it back',
      'sent "world", got it back',
      'room stats: {"clients":1,"roomId":"my-game-room-1","busyPercent":0}',
      "holding the match for 600000 ms",
      "disconnected",
    ]);
  });

  it("the play command plays a round with a given address and prints JSON", async () => {
    const port = await startGameRoom();
    const proc = spawnNode(MAIN, ["play", "--address", `127.0.0.1:${port}`, "--lines", "2", "--json"]);
    expect(await proc.exited, proc.stderr()).toEqual({ code: 0, signal: null });
    expect(JSON.parse(proc.stdout())).toEqual({
      room: { host: "127.0.0.1", port },
      round: {
        sent: 2,
        echoed: 2,
        stats: { clients: 1, roomId: "my-game-room-1", busyPercent: 0 },
        serverMessages: [],
      },
    });
    expect(proc.stderr()).toContain(`round over: 2/2 lines echoed by 127.0.0.1:${port}`);
  });

  it("play --allocation - reads what maestroctl allocate -o json printed", async () => {
    const port = await startGameRoom();
    const allocation = {
      roomId: "my-game-room-1",
      success: true,
      message: "",
      ports: [{ name: "game", protocol: "tcp", port }],
      host: "127.0.0.1",
    };
    const proc = spawnNode(MAIN, ["play", "--allocation", "-"]);
    proc.child.stdin?.end(JSON.stringify(allocation));
    expect(await proc.exited, proc.stderr()).toEqual({ code: 0, signal: null });
    expect(proc.stdout()).toContain(`playing in room my-game-room-1 at 127.0.0.1:${port}`);
    expect(proc.stdout()).toContain(`round over: 3/3 lines echoed by 127.0.0.1:${port}`);

    const failed = spawnNode(MAIN, ["play", "--allocation", "-"]);
    failed.child.stdin?.end(JSON.stringify({ success: false, message: "no ready room" }));
    expect((await failed.exited).code).toBe(1);
    expect(failed.stderr()).toContain("the allocation did not succeed");
  });

  it("fails with the connection error when nothing listens", async () => {
    const port = await freePort();
    await expect(playRound({ host: "127.0.0.1", port, lines: ["x"] })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("matchmaker CLI usage", () => {
  it("prints help and exits 0; exits 2 on usage errors", async () => {
    const help = spawnNode(MAIN, ["--help"]);
    expect((await help.exited).code).toBe(0);
    expect(help.stdout()).toContain("allocate");
    expect(help.stdout()).toContain("serve-events");
    const allocateHelp = spawnNode(MAIN, ["allocate", "--help"]);
    expect((await allocateHelp.exited).code).toBe(0);
    expect(allocateHelp.stdout()).toContain("--scheduler <name>");
    const serveHelp = spawnNode(MAIN, ["serve-events", "--help"]);
    expect((await serveHelp.exited).code).toBe(0);
    expect(serveHelp.stdout()).toContain('type: gRPC, address: "127.0.0.1:9090"');

    const missing = spawnNode(MAIN, ["allocate"]);
    expect((await missing.exited).code).toBe(2);
    expect(missing.stderr()).toContain("allocate needs --scheduler <name>");
    const badNumber = spawnNode(MAIN, ["allocate", "--scheduler", "x", "--lines", "0"]);
    expect((await badNumber.exited).code).toBe(2);
    expect(badNumber.stderr()).toContain("--lines must be an integer of at least 1");
    const unknown = spawnNode(MAIN, ["dance"]);
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.stderr()).toContain("unknown command 'dance'");
  });

  it("allocate exits 1 with the reason when Maestro is not reachable", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = spawnNode(MAIN, ["allocate", "--scheduler", "my-game", "--url", url, "--rooms-url", url]);
    expect((await proc.exited).code).toBe(1);
    expect(proc.stderr()).toMatch(/^matchmaker: .*(ECONNREFUSED|unavailable|connect)/im);
  });
});
