import { createSocket } from "node:dgram";
import { once } from "node:events";
import { type FakeRoomsApi, type RecordedRequest, startFakeRoomsApi } from "@maestro/sdk-room/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, eventually, freePort, type GameProcess, startGame } from "./support.js";

let api: FakeRoomsApi;
let game: GameProcess | undefined;

beforeEach(async () => {
  api = await startFakeRoomsApi({ token: "room-token" });
});

afterEach(async () => {
  game?.child.kill("SIGKILL");
  game = undefined;
  await api.close();
});

function roomEnv(ports: Record<string, number>, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    MAESTRO_ROOMS_API_URL: api.url,
    MAESTRO_SCHEDULER_NAME: "echo-game",
    MAESTRO_ROOM_ID: "echo-game-room-1",
    MAESTRO_ROOM_TOKEN: "room-token",
    ...extra,
  };
  for (const [name, port] of Object.entries(ports)) env[`MAESTRO_PORT_${name.toUpperCase()}`] = String(port);
  return env;
}

const pingStatus = (status: string, runningMatches?: number) => (r: RecordedRequest) =>
  r.kind === "ping" &&
  r.body.status === status &&
  (runningMatches === undefined || r.body.runningMatches === runningMatches);

/** Statuses in the order the room reported them, with keep-alive repeats collapsed. */
function statusSequence(): string[] {
  const statuses = api.requestsOf("ping").map((r) => `${r.body.status}:${r.body.runningMatches}`);
  return statuses.filter((s, i) => s !== statuses[i - 1]);
}

describe("example game room", () => {
  it("reports ready, echoes, counts a client as a match, and shuts down cleanly on SIGTERM", async () => {
    const port = await freePort();
    game = startGame(roomEnv({ game: port }));

    const ready = await api.waitFor(pingStatus("ready"));
    expect(ready.path).toBe("/scheduler/echo-game/rooms/echo-game-room-1/ping");
    expect(ready.responseStatus).toBe(200);
    expect(game.output()).toContain(`listening tcp game on 0.0.0.0:${port}`);

    const client = await connect(port);
    client.socket.write("hello\n");
    await eventually(() => client.received().includes("hello\n"), { what: "echo" });
    await api.waitFor(pingStatus("occupied", 1));
    await api.waitFor((r) => r.kind === "playerevent" && r.body.event === "playerJoin");

    client.socket.write("stats\n");
    const statsLine = await eventually(
      () =>
        client
          .received()
          .split("\n")
          .find((l) => l.startsWith("{")),
      {
        what: "stats reply",
      },
    );
    expect(JSON.parse(statsLine)).toEqual({ clients: 1, roomId: "echo-game-room-1", busyPercent: 0 });

    client.socket.end();
    await client.closed;
    await api.waitFor((r) => r.kind === "ping" && r.body.status === "ready", { count: 2 });
    await api.waitFor((r) => r.kind === "playerevent" && r.body.event === "playerLeft");

    game.child.kill("SIGTERM");
    const exit = await game.exited;
    expect(exit, game.output()).toEqual({ code: 0, signal: null });
    expect(statusSequence()).toEqual(["ready:0", "occupied:1", "ready:0", "terminating:0", "terminated:0"]);
    expect(api.requests.every((r) => r.headers["authorization"] === "Bearer room-token")).toBe(true);
    expect(api.requests.every((r) => r.responseStatus === 200)).toBe(true);
    expect(game.output()).toMatch(/termination requested \(SIGTERM\)[\s\S]*all clients left[\s\S]*reported terminated/);
  });

  it("burns CPU on a `busy <percent>` line until told `busy 0`, and refuses a percent out of range", async () => {
    const port = await freePort();
    game = startGame(roomEnv({ game: port }));
    await api.waitFor(pingStatus("ready"));
    const client = await connect(port);
    const lines = () => client.received().split("\n");
    client.socket.write("busy 20\n");
    await eventually(() => lines().includes("busy 20"), { what: "busy reply" });
    client.socket.write("busy 150\n");
    await eventually(() => lines().some((l) => l.startsWith("error: busy percent must be between 0 and 100")), {
      what: "range error",
    });
    client.socket.write("stats\n");
    const stats = await eventually(() => lines().find((l) => l.startsWith("{")), { what: "stats reply" });
    expect(JSON.parse(stats)).toMatchObject({ busyPercent: 20 });
    client.socket.write("busy 0\n");
    await eventually(() => lines().includes("busy 0"), { what: "busy 0 reply" });
    expect(game.output()).toContain("busy 20% of a core");
    client.socket.end();
    await client.closed;
  });

  it("drains connected clients: warns them, stays terminating until they leave, then exits 0", async () => {
    const port = await freePort();
    game = startGame(roomEnv({ game: port }));
    await api.waitFor(pingStatus("ready"));

    const first = await connect(port);
    const second = await connect(port);
    await api.waitFor(pingStatus("occupied", 2));

    game.child.kill("SIGTERM");
    await api.waitFor(pingStatus("terminating"));
    await eventually(() => first.received().includes("server shutting down\n"), { what: "first warned" });
    await eventually(() => second.received().includes("server shutting down\n"), { what: "second warned" });
    // New players are refused while draining.
    await expect(connect(port)).rejects.toThrow(/ECONNREFUSED/);

    first.socket.end();
    await first.closed;
    await eventually(() => /client disconnected .*\(clients=1\)/.test(game?.output() ?? ""), {
      what: "first client gone",
    });
    expect(api.requests.some(pingStatus("terminated"))).toBe(false);

    second.socket.end();
    const exit = await game.exited;
    expect(exit, game.output()).toEqual({ code: 0, signal: null });
    // Clients leaving during the drain never turned the room back to ready.
    expect(statusSequence()).toEqual(["ready:0", "occupied:1", "occupied:2", "terminating:2", "terminated:2"]);
  });

  it("echoes UDP on ports whose name contains udp, alongside TCP", async () => {
    const gamePort = await freePort();
    const voicePort = await freePort();
    game = startGame(roomEnv({ game: gamePort, voice_udp: voicePort }));
    await api.waitFor(pingStatus("ready"));
    expect(game.output()).toContain(`listening udp voice_udp on 0.0.0.0:${voicePort}`);
    expect(game.output()).not.toContain("listening udp game");

    const udp = createSocket("udp4");
    try {
      const reply = once(udp, "message");
      udp.send("ping-42", voicePort, "127.0.0.1");
      const [message] = (await reply) as [Buffer];
      expect(message.toString()).toBe("ping-42");
    } finally {
      udp.close();
    }

    const tcp = await connect(gamePort);
    tcp.socket.write("over tcp\n");
    await eventually(() => tcp.received().includes("over tcp\n"), { what: "tcp echo" });
    tcp.socket.destroy();
  });

  it("falls back to PORT when Maestro assigned no port, and exits 1 without its environment", async () => {
    const port = await freePort();
    game = startGame({ ...roomEnv({}), PORT: String(port), GAME_UDP: "1" });
    await api.waitFor(pingStatus("ready"));
    expect(game.output()).toContain(`listening tcp game on 0.0.0.0:${port}`);
    expect(game.output()).toContain(`listening udp game on 0.0.0.0:${port}`);
    game.child.kill("SIGTERM");
    expect(await game.exited).toEqual({ code: 0, signal: null });

    const broken = startGame({ MAESTRO_ROOMS_API_URL: api.url });
    expect(await broken.exited).toEqual({ code: 1, signal: null });
    expect(broken.output()).toMatch(/failed to start: .*MAESTRO_SCHEDULER_NAME/);
  });
});
