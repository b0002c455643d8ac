import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisClient, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import { cpuAutoscaling } from "../support/fixtures.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/**
 * metricsTriggers on the embedded default: rooms are the example game room as real processes, the process runtime
 * reads their CPU from /proc, and one room is made busy over its TCP port (`busy <percent>`). The fleet must grow to
 * max while it burns and shrink back to min once it is idle. Only conditions are awaited, never durations.
 */

const gameRoom = fileURLToPath(new URL("../../../examples/game-room/dist/main.js", import.meta.url));
const NAME = "mt-cpu";

interface Room {
  id: string;
  status: string;
  host: string;
  ports: { name: string; port: number }[];
  usage?: { cpuMillicores: number; cpuRequestMillicores: number };
}

let maestro: TestMaestro;
let redis: TestRedis | undefined;
const api = (method: string, path: string, body?: unknown) => http(maestro.managementUrl, method, path, body);
const live = async (): Promise<Room[]> =>
  ((await api("GET", `/schedulers/${NAME}/rooms`)).json.rooms as Room[]).filter(
    (r) => !["terminating", "terminated", "error"].includes(r.status),
  );

/** Sends one line to a room's game port and waits for its answer. */
async function tell(room: Room, line: string): Promise<string> {
  const port = room.ports.find((p) => p.name === "game")?.port;
  const socket = connect({ host: "127.0.0.1", port: port as number });
  let received = "";
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on("error", reject);
      socket.on("data", (chunk) => {
        received += chunk.toString("utf8");
        if (received.includes("\n")) resolve();
      });
      socket.write(`${line}\n`);
    });
  } finally {
    socket.destroy();
  }
  return received.trim();
}

// The embedded default keeps the point history in memory; production keeps it in Redis.
describe.each(["memory", "redis"] as const)("metricsTriggers cpu trigger on process rooms, state in %s", (state) => {
  beforeAll(async () => {
    if (state === "redis") redis = await startRedis();
    // One health-controller run per 500 ms: a 2 s window holds 4 points.
    maestro = await startTestMaestro({
      "workers.healthControllerIntervalMs": 500,
      ...(redis && {
        "storage.operations.kind": "redis",
        "storage.operations.url": redis.url,
        "storage.state.kind": "redis",
      }),
    });
  });
  afterAll(async () => {
    await maestro?.stop();
    await redis?.stop();
    redis = undefined;
  });

  it("scales up to max while a room burns CPU, then back to min once it is idle", async () => {
    const body = schedulerBody(NAME, {
      autoscaling: cpuAutoscaling(2, 1),
    });
    const container = (body.spec as { containers: Record<string, unknown>[] }).containers[0] as Record<string, unknown>;
    container.command = ["node", gameRoom];
    container.requests = { cpu: "100m", memory: "64Mi" };
    const created = await api("POST", "/schedulers", body);
    expect(created.status, JSON.stringify(created.json)).toBe(200);

    const [first] = await eventually(
      async () => {
        const rooms = await live();
        return rooms.length === 1 && rooms[0]?.status === "ready" ? rooms : undefined;
      },
      { what: "the min room ready", timeoutMs: 60_000 },
    );
    expect(await tell(first as Room, "busy 30")).toBe("busy 30");

    const grown = await eventually(
      async () => {
        const rooms = await live();
        return rooms.length === 3 ? rooms : undefined;
      },
      { what: "max rooms while one burns CPU", timeoutMs: 90_000, intervalMs: 500 },
    );
    // Never past max while the busy room keeps the ratio high.
    expect(grown).toHaveLength(3);
    const busy = await eventually(
      async () => (await live()).find((r) => r.id === first?.id && r.usage && r.usage.cpuMillicores > 50),
      { what: "rooms list showing the busy room's CPU", timeoutMs: 30_000 },
    );
    expect(busy.usage?.cpuRequestMillicores).toBe(100);

    await eventually(async () => (await live()).every((r) => r.status === "ready") || undefined, {
      what: "every room ready",
      timeoutMs: 60_000,
    });
    const still = (await live()).find((r) => r.id === first?.id);
    expect(await tell(still as Room, "busy 0")).toBe("busy 0");

    const shrunk = await eventually(
      async () => {
        const rooms = await live();
        return rooms.length === 1 ? rooms : undefined;
      },
      { what: "back to min once idle", timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(shrunk).toHaveLength(1);

    // The health controller's history says which trigger scaled.
    const list = await api("GET", `/schedulers/${NAME}/operations?stage=final&pageSize=100`);
    const runs = (list.json.operations as { id: string; definitionName: string }[]).filter(
      (o) => o.definitionName === "health_controller",
    );
    const histories = await Promise.all(
      runs.map(async (o) => JSON.stringify((await api("GET", `/schedulers/${NAME}/operations/${o.id}`)).json)),
    );
    expect(histories.join("\n")).toMatch(/up trigger 0 \(cpu\)/);
    expect(histories.join("\n")).toMatch(/down trigger 0 \(cpu\)/);
    if (redis) {
      // The points and the last scale live under the scheduler's hash tag.
      const client = createRedisClient(redis.url, { name: "metrics-triggers-e2e" });
      try {
        await waitUntilReady(client, { timeoutMs: 10_000 });
        const keys = await client.keys(`scheduler:{${NAME}}:scale:*`);
        expect(keys).toEqual(
          expect.arrayContaining([`scheduler:{${NAME}}:scale:cpu`, `scheduler:{${NAME}}:scale:last`]),
        );
      } finally {
        client.disconnect();
      }
    }
  });
});
