import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type TestRedis } from "../support/redis.js";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

// Issue 16, finding 7: with Redis frozen (SIGSTOP) list rooms and allocate hung for 18–20 s. Each Redis reply is now
// bounded by storage.redisCommandTimeoutMs (default 2 s), so the API answers `unavailable` well within the patience
// of a caller (CALLER_PATIENCE_MS, which the old 10 s command timeout alone exceeded).
const CALLER_PATIENCE_MS = 8_000;

let redis: TestRedis;
let maestro: TestMaestro;

beforeAll(async () => {
  redis = await startRedis();
  maestro = await startTestMaestro({
    "storage.state.kind": "redis",
    "storage.operations.kind": "redis",
    "storage.operations.url": redis.url,
  });
  expect((await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody("frozen"))).status).toBe(200);
  await eventually(
    async () => (await http(maestro.managementUrl, "GET", "/schedulers/frozen")).json.scheduler?.state === "in-sync",
  );
}, 60_000);
afterAll(async () => {
  redis?.thaw();
  await maestro?.stop();
  await redis?.stop();
});

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CALLER_PATIENCE_MS),
  });
  return { status: res.status, json: await res.json() };
}

describe("a frozen Redis", () => {
  it("fails list rooms and allocate with unavailable instead of hanging, and recovers when it thaws", async () => {
    redis.freeze();
    try {
      const list = await call(`${maestro.managementUrl}/schedulers/frozen/rooms`, "GET");
      expect(list.status).toBe(503);
      expect(list.json).toMatchObject({ code: 14, message: expect.stringContaining("redis") });
      const allocate = await call(`${maestro.roomsUrl}/scheduler/frozen/rooms/allocate`, "POST", {});
      expect(allocate.status).toBe(503);
    } finally {
      redis.thaw();
    }
    await eventually(
      async () => (await call(`${maestro.managementUrl}/schedulers/frozen/rooms`, "GET")).status === 200,
    );
  }, 60_000);
});
